"""Documents scoped to groups (issue 22 item 2): a staff member of group A tries every path
to a document only group B may read (library, command line, web chat, source cards, full
text, briefing, feedback export) and gets nothing of it; B's members and admins do."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant, Settings
from assistant.access import User
from assistant.briefing.types import BriefRequest
from assistant.search.filters import Filters
from assistant.web.auth import add_user
from assistant.web.feedback import FeedbackStore, Turn

from .conftest import CORPUS, clean_env, cli, free_port

B_ONLY = "units/b_personnel.txt"
A_ONLY = "units/a_directive.txt"
SECRET = "4,318"  # a figure only the B document holds
QUESTION = "How many unfilled nursing posts did Ninh Binh have in 2025?"
TOPIC = "unfilled nursing posts"
# Document text is data: in the Briefing tab, HTML and Markdown in it must stay inert.
LURE = ('<img src="http://127.0.0.1:9/pixel.png"> <a href="http://127.0.0.1:9/">re-enter '
        'your password</a> [sign in](http://127.0.0.1:9/) ![x](http://127.0.0.1:9/x.png)')
ALICE = ("alice", "alice-password")  # staff, group a
BORIS = ("boris", "boris-password")  # staff, group b
ADMIN = ("ann", "admin-password")
STAFF_A = User("alice", "staff", frozenset({"a"}))
STAFF_B = User("boris", "staff", frozenset({"b"}))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("groups")
    corpus = home / "corpus"
    shutil.copytree(CORPUS, corpus)
    units = corpus / "units"
    units.mkdir()
    (units / "b_personnel.txt").write_text(
        "Ninh Binh Department of Health: internal personnel report for 2025.\n"
        f"In 2025 Ninh Binh had {SECRET} unfilled nursing posts across its district hospitals, "
        "and the department asked the province for 212 new nursing positions.\n"
        "The personnel board will review the unfilled nursing posts every quarter.\n",
        encoding="utf-8")
    (units / "a_directive.txt").write_text(
        "Quang Ninh Department of Health: internal directive for 2025.\n"
        "Quang Ninh ordered its 58 district hospitals to report dengue cases every day.\n"
        f"District hospitals must {LURE} report every dengue case within one day.\n",
        encoding="utf-8")
    # Per folder ("*": group b) and per file (a_directive.txt: group a).
    (units / "metadata.yaml").write_text(
        "'*': {groups: [b]}\na_directive.txt: {groups: [A]}\n", encoding="utf-8")
    users = home / "users.yaml"
    add_user(users, *ALICE, "staff", ["a"])
    add_user(users, *BORIS, "staff", ["b"])
    add_user(users, *ADMIN, "admin")
    assistant = Assistant(_settings(home))
    report = assistant.ingest()
    assert not report.failed, report.failed
    return home


def _settings(home: Path) -> Settings:
    return Settings(index_dir=home / "index", corpus_dir=home / "corpus",
                    data_dir=home / "data", users_file=home / "users.yaml")


@pytest.fixture(scope="module")
def assistant(home: Path) -> Assistant:
    return Assistant(_settings(home))


def _sources(answer: Any) -> set[str]:
    data = answer.to_dict()
    return {c["source"] for c in data["citations"]} | {
        c["source"] for c in data.get("extra", {}).get("nearest", [])}


def test_groups_are_stored_from_metadata_yaml(assistant: Assistant) -> None:
    groups = {r.source: r.groups for r in assistant.sources()}
    assert groups[B_ONLY] == ["b"] and groups[A_ONLY] == ["a"]  # case-folded
    assert groups["004_3160aee91d886ff2.txt"] == []  # no entry: everyone
    assert {r.source for r in assistant.sources(STAFF_A)} == set(groups) - {B_ONLY}


@pytest.mark.parametrize(("reader", "sees"), [
    (STAFF_A, False), (STAFF_B, True), (User("ann", "admin"), True), (None, True)])
def test_search_answers_and_briefings_follow_the_readers_groups(
        assistant: Assistant, reader: User | None, sees: bool) -> None:
    filters = Filters(reader=reader)
    hits = assistant.search(QUESTION, 50, filters)
    answer = assistant.ask(QUESTION, filters)
    briefing = assistant.brief(BriefRequest(TOPIC, reader=reader))
    text = json.dumps(briefing.to_dict(), ensure_ascii=False)
    # A province brief reads every document in scope: still not B's.
    province = assistant.brief(BriefRequest("", province="Ninh Binh", reader=reader))
    seen = {"search": B_ONLY in {h.source for h in hits},
            "answer": B_ONLY in _sources(answer)
            or SECRET in json.dumps(answer.to_dict(), ensure_ascii=False),
            "briefing": B_ONLY in text or SECRET in text,
            "province briefing": B_ONLY in json.dumps(province.to_dict(), ensure_ascii=False)}
    assert seen == dict.fromkeys(seen, sees)


def test_filters_as_chroma_where_keep_groups(assistant: Assistant) -> None:
    # The raw-vector path (crosslingual=none) filters in Chroma, then by the mask.
    raw = Assistant(_settings_none(assistant))
    assert B_ONLY not in {h.source for h in raw.search(QUESTION, 50, Filters(reader=STAFF_A))}
    assert B_ONLY in {h.source for h in raw.search(QUESTION, 50, Filters(reader=STAFF_B))}
    where = Filters(reader=STAFF_A).where()
    got = assistant.store.get_chunks(
        [c for r in assistant.sources() for c in r.chunk_ids], where)
    assert got["ids"] and B_ONLY not in {m["source"] for m in got["metadatas"]}


def _settings_none(assistant: Assistant) -> Settings:
    return assistant.settings.variant(crosslingual="none")


def test_command_line_as_a_user(home: Path, assistant: Assistant) -> None:
    env = {**clean_env(home / "index"), "ASSISTANT_CORPUS_DIR": str(home / "corpus"),
           "ASSISTANT_DATA_DIR": str(home / "data"),
           "ASSISTANT_USERS_FILE": str(home / "users.yaml")}
    alice = cli(env, "ask", "--as", "alice", "--json", QUESTION)
    assert alice.returncode == 0, alice.stderr
    assert B_ONLY not in alice.stdout and SECRET not in alice.stdout
    boris = cli(env, "ask", "--as", "boris", "--json", QUESTION)
    assert B_ONLY in boris.stdout
    named = cli(env, "ask", "--as", "alice", "--source", B_ONLY, QUESTION)
    assert named.returncode == 2 and "not an indexed document" in named.stderr
    brief = cli(env, "brief", "--as", "alice", "--format", "json", TOPIC)
    assert brief.returncode == 0 and B_ONLY not in brief.stdout and SECRET not in brief.stdout
    nobody = cli(env, "ask", "--as", "mallory", QUESTION)
    assert nobody.returncode == 2 and "no such user" in nobody.stderr
    # Feedback quotes answers: a row citing B is exported for B's members only.
    FeedbackStore(home / "data").record(Turn(
        question=QUESTION, answer=f"{SECRET} posts [1]", backend="extractive",
        latency_ms=1.0, abstained=False,
        sources=[{"n": 1, "source": B_ONLY, "title": "", "url": None, "sentences": []}]), 1)
    rows = {who: cli(env, "feedback", "export", "--as", who).stdout
            for who in ("alice", "boris", "ann")}
    assert SECRET not in rows["alice"] and SECRET in rows["boris"] and SECRET in rows["ann"]


@pytest.fixture(scope="module")
def url(home: Path, assistant: Assistant) -> Iterator[str]:
    from assistant.web.app import serve

    port = free_port()
    app = serve(assistant, host="127.0.0.1", port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


def _client(url: str, auth: tuple[str, str]) -> Any:
    from gradio_client import Client

    return Client(url, auth=auth, verbose=False)


@pytest.mark.parametrize(("auth", "sees"), [(ALICE, False), (BORIS, True), (ADMIN, True)])
def test_web_chat_cards_full_text_and_briefing(url: str, auth: tuple[str, str],
                                               sees: bool) -> None:
    client = _client(url, auth)
    history, documents, _ = client.predict(QUESTION, [], "(any)", "(any)", "", "",
                                           api_name="/chat")
    shown = json.dumps(history, ensure_ascii=False) + documents  # answer, cards, full text
    assert (SECRET in shown) == sees and (B_ONLY in shown) == sees
    # Naming B's province as the filter does not open it either.
    history, documents, _ = client.predict(QUESTION, [], "Ninh Binh", "(any)", "", "",
                                           api_name="/chat")
    assert (SECRET in json.dumps(history, ensure_ascii=False) + documents) == sees
    html, download = client.predict(TOPIC, "(any)", "", "", "en", "md", api_name="/brief")
    assert (SECRET in html) == sees
    assert (SECRET in Path(download).read_text(encoding="utf-8")) == sees
    # The document list is for administrators only (titles are not for every group).
    _, table, _ = client.predict(None, api_name="/upload")
    assert (B_ONLY in json.dumps(table)) == (auth == ADMIN)


def test_briefing_tab_shows_document_html_as_text(url: str) -> None:
    html, _ = _client(url, ALICE).predict("dengue case reporting", "(any)", "", "", "en", "md",
                                          api_name="/brief")
    assert "re-enter your password" in html and "&lt;img" in html  # shown, as text
    assert re.search(r"<(img|a)\b", html) is None, html  # no live image, no link


def test_users_file_changes_reach_open_sessions(home: Path, url: str) -> None:
    # Issue 22 item 1: no restart; a new user signs in, a demoted admin's open page can
    # change nothing, a reset password replaces the old one, a removed user gets nothing.
    from assistant.web.auth import remove_user

    users = home / "users.yaml"
    add_user(users, "dora", "first-password", "admin")
    dora = _client(url, ("dora", "first-password"))
    status, _, _ = dora.predict(None, api_name="/upload")
    assert "Choose one or more files" in status  # an administrator
    add_user(users, "dora", "second-password", "staff")
    status, _, _ = dora.predict(B_ONLY, api_name="/delete")
    assert "Only administrators" in status
    with pytest.raises(ValueError, match="Could not login"):
        _client(url, ("dora", "first-password"))
    _client(url, ("dora", "second-password"))
    remove_user(users, "dora")
    history, documents, _ = dora.predict(QUESTION, [], "(any)", "(any)", "", "",
                                         api_name="/chat")
    assert "no longer signed in" in json.dumps(history) and documents == ""
    html, download = dora.predict(TOPIC, "(any)", "", "", "en", "md", api_name="/brief")
    assert "no longer signed in" in html and download is None


def test_groups_follow_metadata_changes_uploads_and_rebuilds(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "beds.txt").write_text(
        "Lang Son province has 2862 hospital beds in total in 2025.\n", encoding="utf-8")
    assistant = Assistant(Settings(index_dir=tmp_path / "index", corpus_dir=corpus,
                                   data_dir=tmp_path / "data"))
    assistant.ingest()
    (corpus / "metadata.yaml").write_text("beds.txt: {groups: [x]}\n", encoding="utf-8")
    report = assistant.ingest()  # same bytes, new readers: rewritten, not re-embedded
    assert report.updated == ["beds.txt"] and report.chunks_embedded == 0
    beds = "How many hospital beds does Lang Son have?"
    assert not assistant.search(beds, 5, Filters(reader=STAFF_A))
    assert assistant.search(beds, 5, Filters(reader=User("x", "staff", frozenset({"x"}))))
    note = tmp_path / "note.txt"
    note.write_text("Ninh Binh opened 37 malaria clinics in 2025.", encoding="utf-8")
    added = assistant.add_files([(note, "note.txt")], groups=("b",))
    assert added.accepted == ["note.txt"]
    (corpus / "metadata.yaml").write_text("beds.txt: {groups: ['bad name']}\n",
                                          encoding="utf-8")
    failed = assistant.ingest()  # a bad group name fails the file, never opens it to all
    assert failed.failed and "groups" in failed.failed[0][1]
    (corpus / "metadata.yaml").write_text("'*': {groups: [x]}\n", encoding="utf-8")
    assistant.rebuild()  # the uploads folder's metadata.yaml keeps the upload's groups
    assert {r.source: r.groups for r in assistant.sources()} == {"beds.txt": ["x"],
                                                                 "note.txt": ["b"]}


def test_upload_form_groups(url: str, tmp_path: Path) -> None:
    from gradio_client import handle_file

    doc = tmp_path / "clinics.txt"
    doc.write_text("Ha Giang opened 29 leprosy clinics in 2025 under the unit's plan.",
                   encoding="utf-8")
    status, _, _ = _client(url, ADMIN).predict([handle_file(str(doc))], "B", api_name="/upload")
    assert "Accepted: clinics.txt" in status
    question = "How many leprosy clinics did Ha Giang open?"
    for auth, sees in ((ALICE, False), (BORIS, True)):
        history, documents, _ = _client(url, auth).predict(question, [], "(any)", "(any)", "",
                                                          "", api_name="/chat")
        assert ("29 leprosy" in json.dumps(history, ensure_ascii=False) + documents) == sees
