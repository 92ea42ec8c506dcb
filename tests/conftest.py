"""Shared fixtures: real embedder, real Chroma, the bundled corpus indexed once per session."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant, Settings
from assistant.index.store import ChromaStore

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
CASES = ROOT / "eval" / "cases.jsonl"
BIN = Path(sys.executable).parent


def pytest_addoption(parser: pytest.Parser) -> None:
    # The README's picture is refreshed only when asked for, not by every browser-test run.
    parser.addoption("--screenshot", metavar="PATH", default=None,
                     help="save the browser test's chat screenshot here (e.g. docs/chat.png)")


def load_cases() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def _close_stores(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # An embedded Chroma folder stays open (about 30 descriptors) until its last client
    # closes: the stores a test makes are closed after it, or the suite holds over 1,000
    # by its end. Wider fixtures are set up before this one, so theirs are not closed.
    made: list[ChromaStore] = []
    init = ChromaStore.__init__

    def register(self: ChromaStore, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        made.append(self)
    monkeypatch.setattr(ChromaStore, "__init__", register)
    yield
    for store in made:
        store.close()


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # Any attempt to reach a model hub fails fast instead of hanging.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"index_dir": tmp_path / "index", "corpus_dir": CORPUS}
        values.update(overrides)
        return Settings(**values)

    return factory


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus (with its metadata file)."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture(scope="session")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """The bundled corpus in a fresh embedded index, shared by read-only tests."""
    settings = Settings(index_dir=tmp_path_factory.mktemp("index"), corpus_dir=CORPUS)
    assistant = Assistant(settings)
    report = assistant.ingest()
    assert not report.failed, report.failed
    return assistant


def clean_env(index_dir: Path) -> dict[str, str]:
    """The caller's environment without our settings, pointed at ``index_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    # The data folder beside it: commands write audit rows there, never into the checkout.
    env.update(ASSISTANT_INDEX_DIR=str(index_dir), HF_HUB_OFFLINE="1",
               ASSISTANT_DATA_DIR=str(index_dir.parent / "data"), PYTHONIOENCODING="utf-8")
    return env


def cli(env: dict[str, str], *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run the installed ``assistant`` entry point, as a user would."""
    return subprocess.run([str(BIN / "assistant"), *args], capture_output=True, text=True,
                          env=env, timeout=600, **kwargs)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path / "cli-index")


@pytest.fixture
def run_cli(cli_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed ``assistant`` entry point, as a user would."""

    def run(*args: str, check: bool = False, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        result = cli({**cli_env, **kwargs.pop("env", {})}, *args, **kwargs)
        if check and result.returncode != 0:
            raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    return run
