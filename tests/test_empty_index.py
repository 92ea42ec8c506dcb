"""Before anything is indexed, every way of asking says so, never "the documents don't
answer" (which would claim the documents were read)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from assistant import Assistant, Settings
from assistant.web.app import serve

from .conftest import CASES, free_port

EMPTY = "No documents are indexed yet. Run `assistant ingest` (or upload documents)."


@pytest.mark.parametrize("args", [
    ["ask", "How many hospital beds does Lang Son have?"],
    ["ask", "--json", "Tỉnh Lạng Sơn có bao nhiêu giường bệnh?"],
    ["ask", "--stream", "Combien de lits à Lang Son ?"],
    ["brief", "vaccination"],
    ["eval", "--qa", str(CASES), "--corpus", "{empty}", "--out", "{out}"],
], ids=["ask", "ask-json", "ask-stream", "brief", "eval"])
def test_command_line_says_nothing_is_indexed(run_cli: Callable[..., CompletedProcess[str]],
                                              tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "empty").mkdir()
    args = [a.format(empty=tmp_path / "empty", out=tmp_path / "out") for a in args]
    result = run_cli(*args)
    assert result.returncode == 3, result.stderr
    assert EMPTY in result.stderr
    assert "don't answer" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_web_chat_says_nothing_is_indexed(tmp_path: Path) -> None:
    from gradio_client import Client

    assistant = Assistant(Settings(index_dir=tmp_path / "index", corpus_dir=tmp_path / "none",
                                   data_dir=tmp_path / "data"))
    port = free_port()
    app = serve(assistant, host="127.0.0.1", port=port, block=False)
    try:
        history: list[dict[str, Any]]
        history, _, _ = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(
            "How many hospital beds does Lang Son have?", [], "(any)", "(any)", "", "",
            api_name="/chat")
    finally:
        app.close()
    assert EMPTY.replace("`", "") in str(history[-1]["content"]).replace("`", "")
