"""The web chat: a real Gradio server, driven through gradio_client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from assistant import Assistant
from assistant.web import serve

from .conftest import free_port


@pytest.fixture(scope="module")
def url(indexed: Assistant) -> Iterator[str]:
    port = free_port()
    app = serve(indexed, host="127.0.0.1", port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content)
    return str(content)


@pytest.mark.parametrize(("question", "expected", "source"), [
    ("How many hospital beds does Lang Son province have in total?", "2862",
     "004_3160aee91d886ff2.txt"),
    ("Combien de médecins pour 10 000 habitants la province de Tra Vinh compte-t-elle ?", "9.6",
     "001_233030e2ea93ce29.txt"),
])
def test_chat_answers_with_sources(url: str, question: str, expected: str, source: str) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    history, sources_html, box = client.predict(question, [], "(any)", "(any)", api_name="/chat")
    assert box == ""
    assert _text(history[0]) == question
    assert expected in _text(history[-1]) and "[1]" in _text(history[-1])
    assert source in sources_html and "<mark>" in sources_html


def test_chat_shows_errors_as_messages(url: str) -> None:
    from gradio_client import Client

    history, sources_html, _ = Client(url, verbose=False).predict(
        "   ", [], "(any)", "(any)", api_name="/chat")
    assert "empty" in _text(history[-1])
    assert sources_html == ""


def test_chat_filters_by_province(url: str) -> None:
    from gradio_client import Client

    _, sources_html, _ = Client(url, verbose=False).predict(
        "How many doctors per 10,000 people?", [], "Tra Vinh", "(any)", api_name="/chat")
    assert "001_233030e2ea93ce29.txt" in sources_html
    assert "003_e434e3938b5c5e7a.txt" not in sources_html
