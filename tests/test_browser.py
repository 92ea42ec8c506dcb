"""The web app in a real browser: Debian's chromium driven by Playwright, against a real
server with sign-in, a real index and real uploads. Saves the README screenshot."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant, Settings
from assistant.web.app import serve
from assistant.web.auth import add_user
from assistant.web.feedback import FeedbackStore

from .conftest import CORPUS, free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
ADMIN = ("ann", "admin-password")
STAFF = ("sam", "staff-password")
WAIT = 120_000  # ms: answers take seconds on a busy 2-core machine; never a timing assert

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="chromium not installed (`make browser` installs it)"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Assistant]]:
    home = tmp_path_factory.mktemp("browser")
    add_user(home / "users.yaml", *ADMIN, "admin")
    add_user(home / "users.yaml", *STAFF, "staff")
    # Its own index: this test adds and deletes a document.
    assistant = Assistant(Settings(index_dir=home / "index", corpus_dir=CORPUS,
                                   data_dir=home / "data", users_file=home / "users.yaml"))
    assert not assistant.ingest().failed
    port = free_port()
    app = serve(assistant, host="127.0.0.1", port=port, block=False)
    yield f"http://127.0.0.1:{port}/", assistant
    app.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def _open(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1360, "height": 940})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.set_default_timeout(WAIT)
    page.goto(url)
    return page


def _sign_in(page: Any, user: tuple[str, str]) -> None:
    page.get_by_label("username").fill(user[0])
    page.get_by_label("password").fill(user[1])
    page.get_by_role("button", name="Login").click()


def _ask(page: Any, question: str, turn: int) -> Any:
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    # The final answer (not a streamed draft) carries the citation links of this turn.
    page.locator(f'#chat a.cite[href="#t{turn}-src1"]').first.wait_for()
    return page.locator("#chat .message-row").last


def _docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Ninh Binh malaria programme, 2025", 1)
    document.add_paragraph("In 2025 the Ninh Binh Department of Health opened 37 new malaria "
                           "clinics in mountain communes.")
    document.add_paragraph("Each clinic serves about 4,000 residents.")
    document.save(str(path))
    return path


def test_staff_see_no_documents_tab(browser: Any, site: tuple[str, Assistant]) -> None:
    from playwright.sync_api import expect

    page = _open(browser, site[0])
    _sign_in(page, ("wrong", "password"))
    expect(page.get_by_text("Incorrect Credentials")).to_be_visible()
    _sign_in(page, STAFF)
    expect(page.locator("#whoami")).to_contain_text("Signed in as sam (staff)")
    expect(page.get_by_role("tab", name="Chat")).to_be_visible()
    expect(page.get_by_role("tab", name="Documents")).to_have_count(0)
    page.close()


def test_workflow_in_a_real_browser(browser: Any, site: tuple[str, Assistant],
                                    tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect

    url, assistant = site
    page = _open(browser, url)
    # Sign in: nothing else is reachable before.
    _sign_in(page, ADMIN)
    expect(page.locator("#whoami")).to_contain_text("Signed in as ann (admin)")

    # An English question gets a cited answer; [1] jumps to the highlighted sentence.
    answer = _ask(page, "How many hospital beds does Lang Son province have in total?", 1)
    expect(answer).to_contain_text("2862")
    # Shape, not wording: at least one numbered source card under the answer.
    expect(answer.locator("details.source").first).to_be_visible()
    page.locator('#chat a.cite[href="#t1-src1"]').first.click()
    expect(page.locator("#chat mark#t1-src1")).to_be_in_viewport()
    # Copy answer: plain text with its sources, not the page's HTML.
    page.locator("#copy-answer").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "2862" in copied and "[1]" in copied and "<" not in copied
    assert "[1] Lang Son Department of Health" in copied
    # The README picture: the question and its cited answer, from the top.
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#chat").evaluate(
        "chat => chat.querySelectorAll('*').forEach(e => { e.scrollTop = 0; })")
    shot = page.screenshot()
    assert shot.startswith(b"\x89PNG")
    if target := request.config.getoption("--screenshot"):
        Path(target).write_bytes(shot)
    # The cited document in full, on demand.
    document = page.locator("#documents details.document").first
    expect(document.locator("div")).to_be_hidden()
    document.locator("summary").click()
    expect(document.locator("div")).to_contain_text("2862")

    # An Arabic question: the Arabic passage reads right to left.
    answer = _ask(page, "ما هي نسبة الدفع الإلكتروني لرسوم المستشفيات في لانغ سون؟", 2)
    expect(answer.locator(".passage[dir=rtl]").first).to_be_visible()

    # Feedback on that answer, with a comment, lands in the feedback database.
    page.locator("#comment textarea").fill("right report, clear")
    page.locator("#chat").get_by_label("Like", exact=True).last.click()  # the latest answer
    expect(page.locator("#feedback-status")).to_contain_text("feedback saved")
    rows = FeedbackStore(assistant.settings.data_dir).rows()
    assert [(r["rating"], r["comment"], r["user"]) for r in rows] == [
        (1, "right report, clear", "ann")]
    assert rows[0]["question"].startswith("ما هي") and rows[0]["sources"]

    # An administrator uploads a .docx and gets an answer from it.
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(
        str(_docx(tmp_path / "ninh_binh_malaria.docx")))
    page.locator("#add-docs").click()
    expect(page.locator("#docs-status textarea")).to_have_value(
        re.compile("Accepted: ninh_binh_malaria.docx"))
    expect(page.locator("#doc-table")).to_contain_text("ninh_binh_malaria.docx")
    page.get_by_role("tab", name="Chat").click()
    answer = _ask(page, "How many malaria clinics did Ninh Binh open in 2025?", 3)
    expect(answer).to_contain_text("37")
    expect(answer.locator("details.source").first).to_contain_text("ninh_binh_malaria.docx")

    # ... and deletes it.
    page.get_by_role("tab", name="Documents").click()
    choice = page.locator("#doc-choice input")
    choice.fill("ninh_binh_malaria.docx")
    choice.press("Enter")
    page.locator("#delete-doc").click()
    expect(page.locator("#docs-status textarea")).to_have_value(
        "Deleted ninh_binh_malaria.docx.")
    assert "ninh_binh_malaria.docx" not in {r.source for r in assistant.sources()}


def test_history_and_audit_in_a_real_browser(browser: Any, site: tuple[str, Assistant]) -> None:
    from playwright.sync_api import expect

    url, _ = site
    page = _open(browser, url)
    _sign_in(page, STAFF)
    expect(page.locator("#whoami")).to_contain_text("Signed in as sam (staff)")
    expect(page.get_by_role("tab", name="Audit")).to_have_count(0)  # administrators only
    answer = _ask(page, "How many hospital beds does Lang Son province have in total?", 1)
    expect(answer).to_contain_text("2862")

    # A reload empties the chat; the conversation is listed, and opens as it was.
    page.reload()
    expect(page.locator("#whoami")).to_contain_text("Signed in as sam (staff)")
    expect(page.locator("#chat .message-row")).to_have_count(0)
    picker = page.locator("#conversations input")
    picker.click()
    page.get_by_role("option", name=re.compile("How many hospital beds")).first.click()
    page.locator("#open-conversation").click()
    expect(page.locator("#chat .message-row").last).to_contain_text("2862")
    # A follow-up continues it: "and in Tra Vinh?" asks about Tra Vinh's beds.
    answer = _ask(page, "and in Tra Vinh?", 2)
    expect(answer).to_contain_text("28.45")

    # Rename it, then delete it.
    page.locator("#conversation-title textarea").fill("Beds by province")
    page.locator("#rename-conversation").click()
    expect(picker).to_have_value(re.compile("Beds by province"))
    page.locator("#delete-conversation").click()
    expect(page.locator("#chat .message-row")).to_have_count(0)  # it was the open one
    page.close()

    # An administrator reads sam's questions in the Audit tab.
    page = _open(browser, url)
    _sign_in(page, ADMIN)
    page.get_by_role("tab", name="Audit").click()
    page.locator("#audit-show").click()
    expect(page.locator("#audit-table")).to_contain_text("and in Tra Vinh?")
    expect(page.locator("#audit-table")).to_contain_text("001_233030e2ea93ce29.txt")
    page.close()


def test_without_sign_in_conversations_belong_to_the_browser(
        browser: Any, site: tuple[str, Assistant], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    indexed = site[1].settings
    assistant = Assistant(Settings(index_dir=indexed.index_dir, corpus_dir=CORPUS,
                                   data_dir=tmp_path / "data"))  # no users file: no sign-in
    port = free_port()
    app = serve(assistant, host="127.0.0.1", port=port, block=False)
    url = f"http://127.0.0.1:{port}/"
    try:
        page = _open(browser, url)
        _ask(page, "How many hospital beds does Lang Son province have in total?", 1)
        page.reload()  # the same browser (its local storage): the conversation is listed
        page.locator("#conversations input").click()
        expect(page.get_by_role("option", name=re.compile("How many hospital beds"))
               ).to_have_count(1)
        page.close()
        # Another browser (a fresh context, its own storage) sees none of it.
        other = _open(browser, url)
        expect(other.locator("#whoami")).to_contain_text("Local mode")
        _ask(other, "Combien de médecins pour 10 000 habitants à Tra Vinh ?", 1)
        other.reload()
        other.locator("#conversations input").click()
        expect(other.get_by_role("option", name=re.compile("Combien de médecins"))
               ).to_have_count(1)  # the list is filled: what is absent is not its own
        expect(other.get_by_role("option", name=re.compile("How many hospital beds"))
               ).to_have_count(0)
        other.close()
    finally:
        app.close()
