"""Audit log and chat history through a real Gradio server (gradio_client, real index,
real SQLite file), including a restart of the app and a database that cannot be written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant, Settings
from assistant.records import AuditLog, ChatHistory, Database
from assistant.web.app import serve
from assistant.web.auth import add_user

from .conftest import free_port

STAFF = ("sam", "staff-password")
ADMIN = ("ann", "admin-password")
BEDS = "How many hospital beds does Lang Son province have in total?"
LANG_SON, TRA_VINH = "004_3160aee91d886ff2.txt", "001_233030e2ea93ce29.txt"

pytestmark = pytest.mark.slow


class _Listening(Assistant):
    """The real assistant; notes the conversation each question arrives with."""

    histories: list[list[tuple[str, str]]]

    def ask_stream(self, question: Any, filters: Any = None, k: int | None = None,
                   history: Any = None) -> Iterator[Any]:
        self.histories.append(list(history or []))
        yield from super().ask_stream(question, filters, k, history)


def _start(indexed: Assistant, home: Path, **settings: Any) -> tuple[Any, str, _Listening]:
    assistant = _Listening(Settings(index_dir=indexed.settings.index_dir,
                                    corpus_dir=indexed.settings.corpus_dir,
                                    data_dir=home / "data", users_file=home / "users.yaml",
                                    **settings))
    assistant.histories = []
    port = free_port()
    app = serve(assistant, host="127.0.0.1", port=port, block=False)
    return app, f"http://127.0.0.1:{port}/", assistant


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("records")
    add_user(home / "users.yaml", *STAFF, "staff")
    add_user(home / "users.yaml", *ADMIN, "admin")
    return home


def _client(url: str, auth: tuple[str, str] = STAFF) -> Any:
    from gradio_client import Client

    return Client(url, auth=auth, verbose=False)


def _ask(client: Any, question: str) -> tuple[list[dict[str, Any]], str, str]:
    return client.predict(question, [], "(any)", "(any)", "", "",  # type: ignore[no-any-return]
                          api_name="/chat")


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content)
    return str(content)


def test_questions_and_sign_ins_are_audited(indexed: Assistant, home: Path) -> None:
    app, url, _ = _start(indexed, home)
    try:
        with pytest.raises(ValueError, match="Could not login"):
            _client(url, ("sam", "wrong"))
        history, _, _ = _ask(_client(url), BEDS)
        assert "2862" in _text(history[-1])
        # Staff cannot read the log, even through the API; administrators can.
        status, table = _client(url).predict("", "", "", "(any)", api_name="/audit")
        assert "Only administrators" in status and not table["data"]
        status, table = _client(url, ADMIN).predict("", "", "sam", "question",
                                                    api_name="/audit")
    finally:
        app.close()
    rows = AuditLog(Settings(data_dir=home / "data")).rows()
    sign_ins = [(r["user"], r["outcome"]) for r in rows if r["event"] == "sign_in"]
    assert ("sam", "failed") in sign_ins and ("sam", "ok") in sign_ins
    [asked] = [r for r in rows if r["event"] == "question"]
    assert (asked["user"], asked["outcome"], asked["question"]) == ("sam", "answered", BEDS)
    assert asked["documents"] == [LANG_SON] and asked["language"] == "en"
    [shown] = table["data"]  # the Audit tab's row for that question
    assert shown[1:4] == ["question", "sam", "answered"] and LANG_SON in shown[6]


def test_conversations_survive_a_restart_and_continue(indexed: Assistant, home: Path) -> None:
    app, url, _ = _start(indexed, home)
    try:
        _ask(_client(url), BEDS)  # one session: one conversation
    finally:
        app.close()
    history = ChatHistory(Database.from_settings(Settings(data_dir=home / "data")))
    title, cid = history.titles("sam")[0]  # the most recent first
    assert title.startswith(BEDS[:40])

    app, url, assistant = _start(indexed, home)  # a new app object on the same data folder
    try:
        sam = _client(url)
        # Another user cannot open sam's conversation: the reply changes nothing.
        chat, _ = _client(url, ADMIN).predict(cid, api_name="/open_conversation")
        assert chat == {"__type__": "update"}
        chat, _ = sam.predict(cid, api_name="/open_conversation")
        assert _text(chat[0]) == BEDS and "2862" in _text(chat[1])
        # A follow-up in the reopened conversation continues it.
        follow, _, _ = sam.predict("and in Tra Vinh?", chat, "(any)", "(any)", "", "",
                                   api_name="/chat")
        assert assistant.histories[-1][0][0] == BEDS and "2862" in assistant.histories[-1][0][1]
        assert TRA_VINH in _text(follow[-1]) and "28.45" in _text(follow[-1])
        sam.predict(cid, "Beds: Lang Son, Tra Vinh", api_name="/rename_conversation")
        _client(url, ADMIN).predict(cid, api_name="/delete_conversation")  # not ann's
    finally:
        app.close()
    found = history.get("sam", cid)
    assert found is not None and found.title == "Beds: Lang Son, Tra Vinh"
    assert [_text(m) for m in found.messages if m["role"] == "user"] == [BEDS,
                                                                          "and in Tra Vinh?"]


def test_a_broken_audit_database_never_loses_the_answer(indexed: Assistant, home: Path,
                                                         tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be", encoding="utf-8")
    app, url, _ = _start(indexed, home, database_url=f"sqlite:///{blocker}/records.sqlite")
    try:
        history, _, _ = _ask(_client(url), BEDS)
        status, table = _client(url, ADMIN).predict("", "", "", "(any)", api_name="/audit")
    finally:
        app.close()
    assert "2862" in _text(history[-1])  # the answer, whatever the database did
    assert "audit write(s) failed" in status and "chat history save(s) failed" in status
    assert not table["data"]


def test_uploads_deletions_and_briefings_are_audited(indexed: Assistant, home: Path,
                                                     tmp_path: Path) -> None:
    from gradio_client import handle_file

    program = tmp_path / "minutes.txt"  # refused: the shared index stays as it is
    program.write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 100)
    app, url, _ = _start(indexed, home, audit="metadata")
    try:
        ann = _client(url, ADMIN)
        status, _, _ = ann.predict([handle_file(str(program))], api_name="/upload")
        assert "Refused" in status
        ann.predict("no-such-report.txt", api_name="/delete")
        markdown, _ = _client(url).predict("digital transformation", "(any)", "", "", "en",
                                           "md", api_name="/brief")
        assert "[1]" in markdown
        _ask(_client(url), BEDS)
    finally:
        app.close()
    rows = AuditLog(Settings(data_dir=home / "data")).rows()
    upload = [r for r in rows if r["event"] == "upload"][-1]
    assert upload["user"] == "ann" and upload["detail"]["files"] == ["minutes.txt"]
    assert "Refused" in upload["detail"]["summary"]
    delete = [r for r in rows if r["event"] == "delete"][-1]
    assert (delete["user"], delete["outcome"], delete["documents"]) == (
        "ann", "not_found", ["no-such-report.txt"])
    briefing = [r for r in rows if r["event"] == "briefing"][-1]
    assert briefing["user"] == "sam" and briefing["detail"]["topic"] == "digital transformation"
    assert briefing["documents"]  # the cited reports
    asked = [r for r in rows if r["event"] == "question"][-1]
    assert asked["question"] is None and asked["documents"] == [LANG_SON]  # metadata mode
