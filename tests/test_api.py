"""The OpenAI-compatible API (issue 26) on the real server, beside the real web chat: the
official ``openai`` client (plain and streaming), LangChain's ``ChatOpenAI``, and raw HTTP
for the error cases; per-user keys from the real ``assistant keys`` command; group scoping
through chat, search and documents; every call in the audit log."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant import Assistant, Settings
from assistant.access import User
from assistant.records import ApiKeys, AuditLog, Database
from assistant.search.filters import Filters
from assistant.web.auth import add_user, remove_user

from .conftest import CORPUS, clean_env, cli, free_port

pytestmark = pytest.mark.slow

B_ONLY = "units/b_personnel.txt"
SECRET = "4,318"  # a figure only the B document holds
QUESTION = "How many unfilled nursing posts did Ninh Binh have in 2025?"
BEDS = "How many hospital beds does Lang Son province have in total?"
LANG_SON, TRA_VINH = "004_3160aee91d886ff2.txt", "001_233030e2ea93ce29.txt"
ALICE = ("alice", "alice-password")  # staff, group a
BORIS = ("boris", "boris-password")  # staff, group b
ADMIN = ("ann", "admin-password")


def _settings(home: Path) -> Settings:
    return Settings(index_dir=home / "index", corpus_dir=home / "corpus",
                    data_dir=home / "data", users_file=home / "users.yaml")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("api")
    shutil.copytree(CORPUS, home / "corpus")
    units = home / "corpus" / "units"
    units.mkdir()
    (units / "b_personnel.txt").write_text(
        "Ninh Binh Department of Health: internal personnel report for 2025.\n"
        f"In 2025 Ninh Binh had {SECRET} unfilled nursing posts across its district hospitals, "
        "and the department asked the province for 212 new nursing positions.\n",
        encoding="utf-8")
    (units / "metadata.yaml").write_text("'*': {groups: [b]}\n", encoding="utf-8")
    for user, group, role in ((ALICE, ["a"], "staff"), (BORIS, ["b"], "staff"),
                              (ADMIN, [], "admin")):
        add_user(home / "users.yaml", *user, role, group)
    report = Assistant(_settings(home)).ingest()
    assert not report.failed, report.failed
    return home


@pytest.fixture(scope="module")
def env(home: Path) -> dict[str, str]:
    return {**clean_env(home / "index"), "ASSISTANT_CORPUS_DIR": str(home / "corpus"),
            "ASSISTANT_DATA_DIR": str(home / "data"),
            "ASSISTANT_USERS_FILE": str(home / "users.yaml")}


@pytest.fixture(scope="module")
def keys(env: dict[str, str]) -> dict[str, str]:
    """A key per user, made by the real command (printed once, on standard output)."""
    made = {}
    for name in ("alice", "boris", "ann"):
        result = cli(env, "keys", "add", name)
        assert result.returncode == 0, result.stderr
        made[name] = result.stdout.strip()
        assert made[name].startswith("ha-") and "Keep it now" in result.stderr
    return made


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[tuple[str, Assistant]]:
    from assistant.web.app import serve

    assistant = Assistant(_settings(home))
    port = free_port()
    app = serve(assistant, host="127.0.0.1", port=port, block=False)
    yield f"http://127.0.0.1:{port}", assistant
    app.close()


def _openai(url: str, key: str) -> Any:
    from openai import OpenAI

    return OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=120)


def _cited(citations: list[dict[str, Any]]) -> list[tuple[int, str, list[str]]]:
    return [(c["n"], c["source"], c["sentences"]) for c in citations]


def _expected(assistant: Assistant, question: str, reader: User,
              history: list[tuple[str, str]] | None = None) -> list[tuple[int, str, list[str]]]:
    answer = assistant.ask(question, Filters(reader=reader), None, history)
    return [(c.n, c.source, c.sentences) for c in answer.citations]


def test_openai_client_plain_streaming_and_follow_up(server: tuple[str, Assistant],
                                                     keys: dict[str, str]) -> None:
    url, assistant = server
    client = _openai(url, keys["alice"])
    alice = User("alice", "staff", frozenset({"a"}))
    assert [m.id for m in client.models.list()] == ["extractive"]

    plain = client.chat.completions.create(
        model="extractive", messages=[{"role": "user", "content": BEDS}])
    text = plain.choices[0].message.content
    extra = plain.model_extra
    assert "2862" in text and "**Sources**" in text and LANG_SON in text
    assert extra["abstained"] is False
    assert _cited(extra["citations"]) == _expected(assistant, BEDS, alice)
    assert extra["citations"][0]["passage"] and extra["citations"][0]["sentence"] in \
        extra["citations"][0]["passage"]

    # The web chat, asked the same by the same user, shows the same sources.
    from gradio_client import Client

    history, _, _ = Client(f"{url}/", auth=ALICE, verbose=False).predict(
        BEDS, [], "(any)", "(any)", "", "", api_name="/chat")
    shown = json.dumps(history[-1], ensure_ascii=False)
    assert all(f"[{c['n']}] " in shown and c["source"] in shown for c in extra["citations"])

    chunks = list(client.chat.completions.create(
        model="extractive", stream=True, messages=[{"role": "user", "content": BEDS}]))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text and len(chunks) > 3
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert _cited(chunks[-1].model_extra["citations"]) == _cited(extra["citations"])

    # A follow-up: the earlier turns reach the assistant as the web chat passes them.
    follow = client.chat.completions.create(model="extractive", messages=[
        {"role": "user", "content": BEDS}, {"role": "assistant", "content": text},
        {"role": "user", "content": "and in Tra Vinh?"}])
    earlier = [(BEDS, text.split("\n\n**Sources**")[0])]
    assert _cited(follow.model_extra["citations"]) == _expected(
        assistant, "and in Tra Vinh?", alice, earlier)
    assert TRA_VINH in follow.choices[0].message.content


def test_langchain_chat_openai(server: tuple[str, Assistant], keys: dict[str, str]) -> None:
    from langchain_openai import ChatOpenAI

    url, _ = server
    chat = ChatOpenAI(base_url=f"{url}/v1", api_key=keys["boris"], model="extractive",
                      max_retries=0)
    reply = chat.invoke(QUESTION)
    assert SECRET in str(reply.content) and B_ONLY in str(reply.content)
    streamed = "".join(str(part.content) for part in chat.stream(BEDS))
    assert "2862" in streamed and LANG_SON in streamed


@pytest.mark.parametrize(("user", "sees"), [("alice", False), ("boris", True), ("ann", True)])
def test_groups_bound_chat_search_and_documents(server: tuple[str, Assistant],
                                                keys: dict[str, str], user: str,
                                                sees: bool) -> None:
    url, _ = server
    headers = {"Authorization": f"Bearer {keys[user]}"}
    chat = httpx.post(f"{url}/v1/chat/completions", headers=headers, timeout=120, json={
        "model": "extractive", "messages": [{"role": "user", "content": QUESTION}]})
    assert chat.status_code == 200, chat.text
    assert (SECRET in chat.text or B_ONLY in chat.text) == sees
    for body in ({"query": QUESTION, "k": 50},
                 {"query": QUESTION, "source": B_ONLY, "provinces": ["Ninh Binh"]}):
        found = httpx.post(f"{url}/v1/search", headers=headers, json=body, timeout=120)
        assert found.status_code == 200, found.text
        assert (B_ONLY in {h["source"] for h in found.json()["data"]}) == sees
    listing = httpx.get(f"{url}/v1/documents", headers=headers, timeout=60)
    if user == "ann":
        assert B_ONLY in {d["source"] for d in listing.json()["data"]}
    else:  # staff: refused whatever their groups
        assert listing.status_code == 403 and B_ONLY not in listing.text
        assert listing.json()["error"]["code"] == "insufficient_permissions"


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "code"} and error["message"]
    return error  # type: ignore[no-any-return]


def test_refused_requests(server: tuple[str, Assistant], keys: dict[str, str], home: Path,
                          env: dict[str, str]) -> None:
    url, _ = server
    ask = {"model": "extractive", "messages": [{"role": "user", "content": BEDS}]}

    def post(key: str | None, body: dict[str, Any] = ask) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers,
                          timeout=120)

    assert _error(post(None), 401)["code"] == "invalid_api_key"
    _error(post("ha-not-a-key"), 401)
    _error(post(keys["alice"].replace("ha-", "hb-")), 401)
    # A revoked key, by the real command; a removed user's key.
    add_user(home / "users.yaml", "carol", "carol-password", "staff")
    made = cli(env, "keys", "add", "carol")
    carol = made.stdout.strip()
    assert post(carol).status_code == 200
    listed = cli(env, "keys", "list").stdout
    assert "carol" in listed and carol not in listed and keys["alice"] not in listed
    key_id = next(line.split()[0] for line in listed.splitlines() if "carol" in line)
    assert cli(env, "keys", "revoke", key_id).returncode == 0
    _error(post(carol), 401)
    dave = (add_user(home / "users.yaml", "dave", "dave-password", "staff"),
            cli(env, "keys", "add", "dave").stdout.strip())[1]
    assert post(dave).status_code == 200
    remove_user(home / "users.yaml", "dave")
    _error(post(dave), 401)
    assert cli(env, "keys", "add", "nobody").returncode != 0  # not in the users file

    alice = keys["alice"]
    assert _error(post(alice, {**ask, "model": "gpt-4"}), 404)["code"] == "model_not_found"
    _error(post(alice, {"model": "extractive", "messages": []}), 400)
    _error(post(alice, {"messages": [{"role": "assistant", "content": "hi"}]}), 400)
    _error(post(alice, {**ask, "since": "2026-13-45"}), 400)
    headers = {"Authorization": f"Bearer {alice}"}
    _error(httpx.post(f"{url}/v1/documents", headers=headers,
                      files={"files": ("x.txt", b"text")}), 403)
    _error(httpx.delete(f"{url}/v1/documents/{LANG_SON}", headers=headers), 403)
    _error(httpx.get(f"{url}/v1/nothing-here", headers=headers), 404)


def test_administrator_uploads_and_deletes(server: tuple[str, Assistant],
                                           keys: dict[str, str]) -> None:
    url, _ = server
    admin = {"Authorization": f"Bearer {keys['ann']}"}
    note = (b"Cao Bang Department of Health memo for 2025: Cao Bang province opened "
            b"17 new mobile vaccination teams in 2025.\n")
    added = httpx.post(f"{url}/v1/documents", headers=admin, data={"groups": "b"}, timeout=300,
                       files=[("files", ("cao_bang_memo.txt", note, "text/plain")),
                              ("files", ("tool.exe", b"MZ\x90\x00", "application/x-msdos"))])
    assert added.status_code == 200, added.text
    report = added.json()
    assert report["accepted"] == ["cao_bang_memo.txt"]
    assert [r["name"] for r in report["refused"]] == ["tool.exe"]
    ask = {"query": "mobile vaccination teams in Cao Bang", "k": 50}
    found = {who: {h["source"] for h in httpx.post(
        f"{url}/v1/search", json=ask, timeout=120,
        headers={"Authorization": f"Bearer {keys[who]}"}).json()["data"]}
        for who in ("alice", "boris")}
    assert "cao_bang_memo.txt" in found["boris"] and "cao_bang_memo.txt" not in found["alice"]
    gone = httpx.delete(f"{url}/v1/documents/cao_bang_memo.txt", headers=admin, timeout=120)
    assert gone.json() == {"source": "cao_bang_memo.txt", "deleted": True}
    _error(httpx.delete(f"{url}/v1/documents/cao_bang_memo.txt", headers=admin), 404)


def test_every_call_is_in_the_audit_log(server: tuple[str, Assistant], keys: dict[str, str],
                                        home: Path) -> None:
    url, _ = server
    headers = {"Authorization": f"Bearer {keys['boris']}"}
    httpx.post(f"{url}/v1/chat/completions", headers=headers, timeout=120, json={
        "messages": [{"role": "user", "content": QUESTION}], "stream": True})
    httpx.post(f"{url}/v1/search", headers=headers, json={"query": QUESTION}, timeout=120)
    httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer ha-wrong"})
    rows = AuditLog(Settings(data_dir=home / "data")).rows()
    asked = [r for r in rows if r["event"] == "api_question" and r["user"] == "boris"
             and r["detail"]["stream"]]
    assert asked and asked[-1]["question"] == QUESTION and B_ONLY in asked[-1]["documents"]
    assert asked[-1]["outcome"] == "answered" and asked[-1]["detail"]["via"] == "api"
    assert any(r["event"] == "api_search" and r["user"] == "boris" for r in rows)
    assert any(r["event"] == "sign_in" and r["outcome"] == "failed"
               and r["detail"].get("via") == "api" for r in rows)
    # The administrator's upload and deletion, and staff refused on documents.
    assert {("upload", "ann", "ok"), ("delete", "ann", "ok"), ("upload", "alice", "refused"),
            ("delete", "alice", "refused"), ("api_documents", "alice", "refused")} <= {
        (r["event"], r["user"], r["outcome"]) for r in rows if r["detail"].get("via") == "api"}
    # Keys are kept only as hashes.
    stored = Database.from_settings(Settings(data_dir=home / "data"))
    with stored.engine.connect() as conn:
        dump = json.dumps([list(r) for r in conn.exec_driver_sql("SELECT * FROM api_keys")],
                          default=str)
    assert keys["boris"] not in dump and ApiKeys(stored).list()


def test_openapi_schema(server: tuple[str, Assistant]) -> None:
    url, _ = server
    schema = httpx.get(f"{url}/v1/openapi.json").json()
    assert {"/chat/completions", "/models", "/search", "/documents",
            "/documents/{source}"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


class _Drafting(Assistant):
    """Streams a draft the final answer replaces, as a language model's can be."""

    def ask_stream(self, question: Any, filters: Any = None, k: int | None = None,
                   history: Any = None, backend: Any = None) -> Iterator[Any]:
        yield "Draft: 999 ambulances [9]. "
        yield from super().ask_stream(question, filters, k, history, backend)


def test_models_choose_the_backend_and_streams_carry_no_drafts(indexed: Assistant,
                                                               tmp_path: Path) -> None:
    # A language model configured (the scripted one), on 127.0.0.1 with no users file (a key
    # acts as the local administrator), with a reverse proxy's prefix set.
    from assistant.answer.testing import ScriptedChatModel
    from assistant.web.app import serve

    settings = indexed.settings.variant(**{"data_dir": tmp_path / "data",
                                                   "root_path": "/assistant"})
    assistant = _Drafting(settings, chat=ScriptedChatModel(), embedder=indexed.embedder,
                          store=indexed.store)
    _, key = ApiKeys(Database.from_settings(settings)).add("anyone")
    port = free_port()
    app = serve(assistant, host="127.0.0.1", port=port, block=False)
    try:
        client = _openai(f"http://127.0.0.1:{port}", key)  # the proxy strips the prefix
        assert [m.id for m in client.models.list()] == ["openai", "extractive"]
        ask = [{"role": "user", "content": BEDS}]
        whole = client.chat.completions.create(model="openai", messages=ask)
        chunks = list(client.chat.completions.create(model="openai", messages=ask,
                                                     stream=True))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert streamed == whole.choices[0].message.content and "Draft" not in streamed
        assert LANG_SON in streamed and chunks[-1].model_extra["backend"] == "openai"
        quoted = client.chat.completions.create(model="extractive", messages=ask)
        assert quoted.model_extra["backend"] == "extractive"
        assert quoted.choices[0].message.content.split("\n\n**Sources**")[0] == \
            indexed.ask(BEDS).answer
        documents = httpx.get(f"http://127.0.0.1:{port}/v1/documents", timeout=60,
                              headers={"Authorization": f"Bearer {key}"})
        assert LANG_SON in {d["source"] for d in documents.json()["data"]}
    finally:
        app.close()


def test_an_abstention_shows_the_nearest_report_and_the_suggestions(
        server: tuple[str, Assistant], keys: dict[str, str]) -> None:
    # The API read the nearest report from Answer.extra, which no longer held it: an
    # abstention came back with no source at all, unlike the web chat's card.
    url, assistant = server
    question = "How many dentists work in Tra Vinh province?"
    reply = _openai(url, keys["alice"]).chat.completions.create(
        model="extractive", messages=[{"role": "user", "content": question}])
    extra = reply.model_extra
    answer = assistant.ask(question, Filters(reader=User("alice", "staff", frozenset({"a"}))))
    assert extra["abstained"] is True and extra["status"] == "not found"
    assert [c["source"] for c in extra["citations"]] == [c.source for c in answer.nearest]
    assert extra["citations"] and extra["citations"][0]["source"] == TRA_VINH
    assert [c["source"] for c in extra["suggestions"]] == [c.source for c in answer.suggestions]
