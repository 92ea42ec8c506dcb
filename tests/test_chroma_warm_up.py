"""``warm_up`` with the search in Chroma: the first question waits for nothing it could
have loaded (a collection's HNSW graph, loaded on its first query; the segments a
collection opens on its first read: 1.7 and 0.5 s at 100,000 chunks, docs/scale.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.index.store import ChromaStore

from .test_chroma_search import _bundled, _settings


def _touched(store: ChromaStore) -> list[tuple[str, str]]:
    """(method, collection) of every call the store makes on a collection from now on."""
    seen: list[tuple[str, str]] = []
    call = store._call

    def spy(fn: object, *args: object, **kwargs: object) -> object:
        owner = getattr(fn, "__self__", None)
        if hasattr(owner, "name") and hasattr(owner, "query"):
            seen.append((getattr(fn, "__name__", ""), owner.name))  # type: ignore[union-attr]
        return call(fn, *args, **kwargs)
    store._call = spy  # type: ignore[method-assign]
    return seen


@pytest.mark.slow
def test_the_first_question_touches_nothing_warm_up_left_cold(tmp_path: Path) -> None:
    corpus, questions = _bundled(tmp_path)
    built = Assistant(_settings(tmp_path, corpus))
    assert not built.ingest().failed
    fresh = Assistant(built.settings)  # as a new app process would start
    collections = fresh.store.mirror_collections()
    seen = _touched(fresh.store)
    fresh.warm_up()
    queried = {name for method, name in seen if method == "query"}
    read = {name for method, name in seen if method == "get"}
    assert queried == set(collections)  # every language's own raw vectors, and the centred
    assert {fresh.store.chunks.name, fresh.store.docs.name} <= read
    assert fresh.store.mirror_collections() == collections  # none created
    warmed = queried | read
    seen.clear()
    for question in (questions[0], "Скільки лікарняних ліжок має Лангшон?"):
        assert fresh.search(question, k=5)
    first = {(method, name) for method, name in seen if method in ("query", "get")}
    assert first and {name for _, name in first} <= warmed


def test_warm_up_on_an_empty_index_is_quiet(tmp_path: Path) -> None:
    empty = Assistant(_settings(tmp_path, tmp_path / "no-corpus"))
    empty.warm_up()  # nothing indexed yet: the first question says so
    assert empty.store.is_empty()
