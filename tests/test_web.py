"""The web chat: a real Gradio server with sign-in, driven through gradio_client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant, Settings
from assistant.web.app import serve
from assistant.web.auth import add_user

from .conftest import CORPUS, free_port

STAFF = ("sam", "staff-password")
ADMIN = ("ann", "admin-password")


@pytest.fixture(scope="module")
def url(indexed: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("web")
    users = home / "users.yaml"
    add_user(users, *STAFF, "staff")
    add_user(users, *ADMIN, "admin")
    # The session index, read-only here: nothing these tests send may change it.
    assistant = Assistant(Settings(index_dir=indexed.settings.index_dir,
                                   corpus_dir=indexed.settings.corpus_dir,
                                   data_dir=home / "data", users_file=users))
    port = free_port()
    app = serve(assistant, host="127.0.0.1", port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


def _client(url: str, auth: tuple[str, str] = STAFF) -> Any:
    from gradio_client import Client

    return Client(url, auth=auth, verbose=False)


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content)
    return str(content)


def _ask(url: str, question: str, province: str = "(any)", language: str = "(any)",
         since: str = "", until: str = "") -> tuple[list[dict[str, Any]], str, str]:
    return _client(url).predict(question, [], province, language, since, until,
                                api_name="/chat")  # type: ignore[no-any-return]


@pytest.mark.parametrize(("question", "expected", "source"), [
    ("How many hospital beds does Lang Son province have in total?", "2862",
     "004_3160aee91d886ff2.txt"),
    ("Combien de médecins pour 10 000 habitants la province de Tra Vinh compte-t-elle ?", "9.6",
     "001_233030e2ea93ce29.txt"),
])
def test_chat_answers_with_clickable_citations(url: str, question: str, expected: str,
                                               source: str) -> None:
    history, documents, box = _ask(url, question)
    assert box == ""
    assert _text(history[0]) == question
    answer = _text(history[-1])
    assert expected in answer
    # [1] links to the highlighted sentence in source card 1, under the same answer.
    assert 'href="#t1-src1">[1]</a>' in answer and '<mark id="t1-src1">' in answer
    assert source in answer
    # The side panel holds the cited documents in full, folded.
    assert source in documents and '<details class="document">' in documents


def test_arabic_sources_read_right_to_left(url: str) -> None:
    history, _, _ = _ask(url, "ما هي نسبة الدفع الإلكتروني لرسوم المستشفيات في لانغ سون؟")
    answer = _text(history[-1])
    assert '<div class="passage" dir="rtl">' in answer
    assert 'href="https://baolangson.vn/' in answer and "original</a>" in answer


def test_chat_shows_errors_as_messages(url: str) -> None:
    history, documents, _ = _ask(url, "   ")
    assert "empty" in _text(history[-1]) and documents == ""
    history, _, _ = _ask(url, "How many beds?", since="last week")
    assert "not a date" in _text(history[-1])


@pytest.mark.parametrize(("province", "since", "until", "present", "absent"), [
    ("Tra Vinh", "", "", "001_233030e2ea93ce29.txt", "003_e434e3938b5c5e7a.txt"),
    ("(any)", "2025-11-01", "2025-12-31", "003_e434e3938b5c5e7a.txt",
     "004_3160aee91d886ff2.txt"),
])
def test_chat_filters(url: str, province: str, since: str, until: str, present: str,
                      absent: str) -> None:
    history, _, _ = _ask(url, "How many doctors per 10,000 people?", province,
                         since=since, until=until)
    answer = _text(history[-1])
    assert present in answer and absent not in answer


def test_nobody_gets_in_without_signing_in(url: str) -> None:
    import httpx

    assert httpx.get(f"{url}config").status_code == 401
    with pytest.raises(ValueError, match="Could not login"):
        _client(url, ("sam", "wrong"))


def test_staff_cannot_change_documents_even_through_the_api(url: str, tmp_path: Path) -> None:
    from gradio_client import handle_file

    doc = tmp_path / "note.txt"
    doc.write_text("Ninh Binh opened 37 malaria clinics in 2025.", encoding="utf-8")
    staff = _client(url)
    status, table, _ = staff.predict([handle_file(str(doc))], api_name="/upload")
    assert "Only administrators" in status
    status, table, _ = staff.predict("004_3160aee91d886ff2.txt", api_name="/delete")
    assert "Only administrators" in status
    status, table, _ = staff.predict(api_name="/rebuild")
    assert "Only administrators" in status
    assert table["data"] in ([], [[""] * len(table["headers"])])  # no list for staff
    _, table, _ = _client(url, ADMIN).predict(None, api_name="/upload")
    assert len(table["data"]) == 5  # every document still there


def _program(path: Path) -> Path:
    path.write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 100)
    return path


def _zip_bomb(path: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, \
            z.open("word/document.xml", "w", force_zip64=True) as member:
        for _ in range(300):
            member.write(b"\x00" * (1 << 20))
    return path


def _indexed_copy(path: Path) -> Path:
    path.write_bytes((CORPUS / "004_3160aee91d886ff2.txt").read_bytes())
    return path


@pytest.mark.parametrize(("name", "make", "message"), [
    ("minutes.txt", _program, "Refused: minutes.txt: file is a program"),
    ("budget.docx", _zip_bomb, "Refused: budget.docx: document would expand to more than"),
    ("copy.txt", _indexed_copy,
     "Duplicate: copy.txt is already indexed as 004_3160aee91d886ff2.txt"),
])
def test_admin_bad_uploads_are_refused(url: str, tmp_path: Path, name: str,
                                       make: Any, message: str) -> None:
    from gradio_client import handle_file

    status, table, _ = _client(url, ADMIN).predict([handle_file(str(make(tmp_path / name)))],
                                                   api_name="/upload")
    assert message in status
    assert len(table["data"]) == 5


class _Drafting(Assistant):
    """A backend that streams a draft before its final Answer, as generative ones do."""

    def ask_stream(self, question: str, filters: Any = None, k: int | None = None,
                   history: list[tuple[str, str]] | None = None) -> Iterator[Any]:
        yield "Draft "
        yield "being written"
        yield self.ask(question, filters, k, history)


def test_chat_streams_then_shows_the_final_answer(indexed: Assistant,
                                                  tmp_path: Path) -> None:
    import httpx
    from gradio_client import Client

    assistant = _Drafting(Settings(index_dir=indexed.settings.index_dir,
                                   corpus_dir=indexed.settings.corpus_dir,
                                   data_dir=tmp_path / "data", root_path="/assistant"))
    port = free_port()
    app = serve(assistant, host="127.0.0.1", port=port, block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        job = client.submit("How many hospital beds does Lang Son province have in total?",
                            [], "(any)", "(any)", "", "", api_name="/chat")
        final = job.result()
        drafts = [_text(out[0][-1]) for out in job.outputs()]
        # Behind a reverse proxy, the pages link to the proxy's prefix.
        root = httpx.get(f"http://127.0.0.1:{port}/config").json()["root"]
    finally:
        app.close()
    # Each delta was shown as it came, then replaced by the authoritative answer.
    assert drafts[:2] == ["Draft ", "Draft being written"]
    assert "2862" in _text(final[0][-1]) and "Draft" not in _text(final[0][-1])
    assert len(final[0]) == 2  # question and one answer: the draft did not stay behind
    assert root.endswith("/assistant")


def test_a_200_mb_upload_is_refused_by_the_server(url: str) -> None:
    import httpx

    def zeros() -> Iterator[bytes]:
        block = b"\0" * (1 << 20)
        for _ in range(200):
            yield block

    with httpx.Client(base_url=url, timeout=120) as http:
        assert http.post("login", data={"username": ADMIN[0],
                                        "password": ADMIN[1]}).status_code == 200
        # Not through gradio_client, which refuses it before sending: the server must too.
        boundary = "b0undary"
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="huge.txt"\r\nContent-Type: text/plain\r\n\r\n').encode()

        def body() -> Iterator[bytes]:
            yield head
            yield from zeros()
            yield f"\r\n--{boundary}--\r\n".encode()

        reply = http.post("gradio_api/upload", content=body(),
                          headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert reply.status_code == 413
    status, table, _ = _client(url, ADMIN).predict(None, api_name="/upload")
    assert "Choose one or more files" in status and len(table["data"]) == 5


def test_briefing_tab_is_served_and_cites(url: str) -> None:
    # The Briefing tab is mounted by default; its button is the /brief endpoint.
    markdown, download = _client(url).predict(
        "digital transformation", "(any)", "", "", "en", "md", api_name="/brief")
    assert "[1]" in markdown and "Lang Son" in markdown
    assert "[1]" in Path(download).read_text(encoding="utf-8")
