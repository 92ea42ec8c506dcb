"""Briefings at the edges: the ``assistant brief`` entry point and the web Briefing tab."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from assistant.web.briefing import build_briefing_tab, safe_html

from .conftest import free_port

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.mark.slow
def test_cli_brief_in_three_formats(run_cli: Run, tmp_path: Path) -> None:
    from docx import Document

    run_cli("ingest", "-q", check=True)
    md = run_cli("brief", "digital transformation", "--lang", "fr", check=True).stdout
    assert md.startswith("# Note de synthèse : digital transformation")
    assert "| Indicateur | Valeur |" in md and "71.4%" in md and "## Sources" in md

    out = tmp_path / "lang-son.docx"
    result = run_cli("brief", "--province", "Lang Son", "--format", "docx", "-o", str(out),
                     check=True)
    assert "Wrote" in result.stdout
    doc = Document(str(out))
    values = {row.cells[1].text for row in doc.tables[0].rows[1:]}
    assert {"2862", "12,5", "80 %"} <= values  # from the Arabic and the French report

    data = json.loads(run_cli("brief", "vaccination", "--format", "json", check=True).stdout)
    assert data["sources"] and all(f["value"] for f in data["figures"])


@pytest.mark.parametrize(("args", "message"), [
    (["brief", "x", "--format", "docx"], "needs -o"),
    (["brief", "x", "--since", "July"], "not a date"),
    (["brief", ""], "Give a topic or a province"),
])
def test_cli_brief_bad_input(run_cli: Run, args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2 and message in result.stderr


@pytest.fixture(scope="module")
def url(indexed: Assistant) -> Iterator[str]:
    import gradio as gr

    with gr.Blocks() as app, gr.Tab("Briefing"):
        build_briefing_tab(indexed)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True)
    yield f"http://127.0.0.1:{port}/"
    app.close()


def _client(url: str) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False)


@pytest.mark.slow
def test_web_tab_shows_the_brief_and_offers_the_file(url: str) -> None:
    from docx import Document

    markdown, path = _client(url).predict("digital transformation", "(any)", "", "", "uk",
                                          "docx", api_name="/brief")
    assert markdown.startswith("<h1>Довідка: digital transformation</h1>")  # as HTML
    assert "71.4%" in markdown
    table = Document(path).tables[0]
    assert table.rows[0].cells[0].text == "Показник"
    assert "71.4%" in {row.cells[1].text for row in table.rows[1:]}


@pytest.mark.slow
def test_web_tab_province_and_errors(url: str) -> None:
    markdown, path = _client(url).predict("", "Lang Son", "2025-08-01", "", "en", "md",
                                          api_name="/brief")
    assert "003_e434e3938b5c5e7a.txt" in markdown and "004_" not in markdown
    assert safe_html(Path(path).read_text(encoding="utf-8")).strip() == markdown.strip()
    markdown, path = _client(url).predict("beds", "(any)", "yesterday", "", "en", "md",
                                          api_name="/brief")
    assert "⚠️" in markdown and "not a date" in markdown and path is None
