"""Several app processes sharing one Chroma server: what one process indexes, another
answers from (the README's "Several processes" recipe, run for real)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.answer.processes import wait_for_http

from .conftest import BIN, CORPUS, clean_env, cli, free_port
from .test_chroma_server import chroma_url  # noqa: F401 - the real `chroma run` fixture

pytestmark = pytest.mark.slow


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    status = wait_for_http(f"{url}config", proc, 300)
    assert status != "exited", f"assistant serve exited with {proc.returncode}"
    if status == "timeout":
        pytest.fail(f"{url} did not come up")


@pytest.fixture
def apps(chroma_url: str, tmp_path: Path) -> Iterator[list[str]]:  # noqa: F811
    env = clean_env(tmp_path / "unused-index")
    env.update(ASSISTANT_CHROMA_URL=chroma_url, ASSISTANT_CORPUS_DIR=str(CORPUS),
               ASSISTANT_DATA_DIR=str(tmp_path / "data"), ASSISTANT_COLLECTION="web_scale",
               GRADIO_ANALYTICS_ENABLED="False")
    done = cli(env, "ingest", "-q")
    assert done.returncode == 0, done.stderr
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for _ in range(2):
            port = free_port()
            procs.append(subprocess.Popen(
                [str(BIN / "assistant"), "serve", "--no-ingest", "--port", str(port)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            urls.append(f"http://127.0.0.1:{port}/")
        for url, proc in zip(urls, procs, strict=True):
            _wait_up(url, proc)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def _answer(url: str, question: str) -> str:
    from gradio_client import Client

    history: list[dict[str, Any]] = Client(url, verbose=False).predict(
        question, [], "(any)", "(any)", "", "", api_name="/chat")[0]
    content = history[-1]["content"]
    return " ".join(p.get("text", "") for p in content) if isinstance(content, list) \
        else str(content)


def test_two_processes_share_one_chroma_server(apps: list[str], tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    first, second = apps
    assert "2862" in _answer(second, "How many hospital beds does Lang Son have in total?")
    doc = tmp_path / "ninh_binh.txt"
    doc.write_text("In 2025 the Ninh Binh Department of Health opened 37 new malaria clinics "
                   "in mountain communes.\n", encoding="utf-8")
    status = Client(first, verbose=False).predict([handle_file(str(doc))],
                                                  api_name="/upload")[0]
    assert "Accepted: ninh_binh.txt" in status
    # The other process sees the new document on its next question.
    answer = _answer(second, "How many malaria clinics did Ninh Binh open in 2025?")
    assert "37" in answer and "ninh_binh.txt" in answer
