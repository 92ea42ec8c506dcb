"""``Assistant.close`` lets go of the index: an embedded Chroma store keeps every file of
its folder open (HNSW graphs, SQLite) until its last client closes, so a process that opens
index after index (a test suite, a script over many folders) runs out of descriptors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.index.store import ChromaStore

from .conftest import CORPUS


def _descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts /proc/self/fd")
@pytest.mark.parametrize("backend", ["snapshot", "chroma"])
def test_closing_releases_the_index_files(tmp_path: Path, backend: str) -> None:
    left: list[int] = []
    for i in range(4):
        assistant = Assistant(Settings(index_dir=tmp_path / f"index{i}", corpus_dir=CORPUS,
                                       data_dir=tmp_path / "data", search={"backend": backend}))
        assert not assistant.ingest().failed
        assert assistant.ask("How many hospital beds per 10,000 people does Lang Son have?")
        opened = _descriptors()
        assistant.close()
        left.append(_descriptors())
        assert left[-1] < opened
    # Before, every index closed left about 30 descriptors open; a few stay for the
    # process (sockets, a connection freed when its thread's pool is collected).
    assert left[-1] - left[0] <= 4, left


def test_a_store_passed_in_is_left_open(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", corpus_dir=CORPUS)
    store = ChromaStore(settings)
    Assistant(settings, store=store).close()
    assert store.is_empty()  # still usable by its owner
