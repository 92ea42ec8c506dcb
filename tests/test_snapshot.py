"""The search snapshot (BM25, vectors, filter fields) persists with the index and never
shows a chunk of an uncommitted file: after a crash mid-ingest, `remove` and `reset`.

The crash is real: ``assistant ingest`` runs on a terminal and is killed (SIGKILL) once a
few files are committed (the helper of ``test_interrupted_ingest``).
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import pytest

from assistant.config import Settings
from assistant.index.embedding import E5Embeddings
from assistant.index.indexing import Indexer
from assistant.index.store import ChromaStore
from assistant.search.filters import Filters
from assistant.search.query import QueryBuilder
from assistant.search.searcher import Searcher
from assistant.text.languages import tokenize
from tests.conftest import CORPUS, cli
from tests.test_interrupted_ingest import N_FILES, _interrupt_ingest

N_NEW = N_FILES  # the helper reads a progress bar of this many files


@pytest.fixture(scope="module")
def embedder() -> E5Embeddings:
    return E5Embeddings()


def _marker(i: int) -> str:
    return f"zqmark{i:02d}"  # one word only file i holds


def _write_new_files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(N_NEW):
        (folder / f"new_{i:02d}.txt").write_text(
            f"Weekly report {_marker(i)}: the district clinic {i} vaccinated {100 + i} children "
            f"against measles in week {i % 7 + 1}.\n", encoding="utf-8")


def _saved(store: ChromaStore) -> Path:
    """The folder a snapshot of the store's current state is saved in."""
    from assistant.index.snapshot import FORMAT  # imported here: the module is new

    collection, revision, _ = store.identity()
    return store.snapshot_root() / f"snap{FORMAT}-{collection}-{revision}"


def _lexical_sources(searcher: Searcher, word: str) -> set[str]:
    """Files whose chunks BM25 finds for ``word``."""
    snap = searcher.lexicon().snapshot
    return {snap.docs[snap.doc_of_row[snap.row[cid]]].source
            for cid, _ in searcher.lexicon().top(word, 50)}


def _check_matches_committed(store: ChromaStore, searcher: Searcher) -> dict[str, Any]:
    """The snapshot holds exactly the committed files, each whole."""
    committed = {r.source: r.chunk_ids for r in store.documents()}
    snap = searcher.lexicon().snapshot
    held = {d.source: list(d.chunk_ids) for d in snap.docs}
    assert held == committed
    assert sorted(snap.ids) == sorted(i for ids in committed.values() for i in ids)
    return committed


def test_fresh_process_maps_the_saved_snapshot_and_scores_as_bm25s(
        make_settings: Any, embedder: E5Embeddings, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings()
    store = ChromaStore(settings)
    Indexer(settings, store, embedder).ingest([CORPUS])

    # A new process: no chunk is read in bulk from Chroma (before, BM25 and the centred
    # vectors were rebuilt from every chunk on the first question: 81 s at 100,000).
    fresh = ChromaStore(settings)
    bulk: list[str] = []
    monkeypatch.setattr(fresh, "iter_chunks", lambda: bulk.append("iter_chunks") or iter(()))
    monkeypatch.setattr(fresh, "all_chunk_ids", lambda: bulk.append("all_chunk_ids") or set())
    monkeypatch.setattr(fresh, "_pages", lambda *a: bulk.append("_pages") or iter(()))
    searcher = Searcher(settings, fresh, embedder)
    query = QueryBuilder(embedder, settings.languages, 500, {}).prepare(
        "How many hospital beds does Lang Son province have?")
    hits = searcher.search(query, k=3)
    assert hits and not bulk, bulk

    # It mapped the snapshot the indexer saved for this revision.
    writing = store.identity()[2]
    assert not writing
    saved = _saved(store)
    snap = searcher.lexicon().snapshot
    assert snap.folder == saved and not snap.vectors.flags.owndata  # mapped, not read

    # Texts and metadata come from it exactly as Chroma holds them.
    some = snap.ids[::4]
    assert snap.get_chunks(some) == {k: v for k, v in store.get_chunks(some, None).items()
                                     if k in ("ids", "metadatas", "documents")}

    # Its BM25 is bm25s's over the committed chunks, to float precision.
    texts = {cid: text for cid, _, text in store.iter_chunks()}
    reference = bm25s.BM25()
    reference.index([tokenize(texts[i]) for i in snap.ids], show_progress=False)
    for question in ("hospital beds Lang Son", "số bác sĩ Trà Vinh", "vaccination 2025 %"):
        np.testing.assert_allclose(snap.bm25_scores(tokenize(question)),
                                   reference.get_scores(tokenize(question)), atol=1e-5)


def test_filters_mask_the_same_chunks_chroma_selects(make_settings: Any,
                                                     embedder: E5Embeddings) -> None:
    settings = make_settings()
    store = ChromaStore(settings)
    Indexer(settings, store, embedder).ingest([CORPUS])
    from assistant.index.snapshot_cache import SnapshotCache

    snap = SnapshotCache(store.snapshot_root()).current(store)
    from datetime import date
    cases = [Filters(provinces=("Lang Son",)), Filters(provinces=("Tra Vinh", "Hai Phong")),
             Filters(languages=("ar", "fr")), Filters(since=date(2025, 6, 1)),
             Filters(until=date(2025, 3, 1), languages=("vi",)),
             Filters(sources=(snap.docs[0].source,))]
    for filters in cases:
        mask = filters.mask(snap)
        assert mask is not None
        chosen = {snap.ids[i] for i in np.flatnonzero(mask)}
        got = store.get_chunks(snap.ids, filters.where())  # Chroma's own filter, scalar keys
        assert chosen == set(got["ids"]), filters
    assert any(Filters(provinces=("Lang Son",)).mask(snap))


@pytest.mark.slow
def test_snapshot_never_shows_uncommitted_files(cli_env: dict[str, str], tmp_path: Path,
                                                embedder: E5Embeddings) -> None:
    index_dir = tmp_path / "index"
    env = {**cli_env, "ASSISTANT_INDEX_DIR": str(index_dir), "ASSISTANT_EMBED_BATCH_SIZE": "1"}
    settings = Settings(index_dir=index_dir, corpus_dir=CORPUS)
    first = cli(env, "ingest", "-q", str(CORPUS))
    assert first.returncode == 0, first.stderr

    new = tmp_path / "new"
    _write_new_files(new)
    run = _interrupt_ingest(new, env, signal.SIGKILL, 3)
    assert run["signalled"], run["output"]

    # After the crash: the writer's mark is left, the snapshot (built in memory) holds
    # exactly the committed files, and none is saved for this unfinished state.
    store = ChromaStore(settings)
    writing = store.identity()[2]
    assert writing
    searcher = Searcher(settings, store, embedder)
    committed = _check_matches_committed(store, searcher)
    done = {s for s in committed if s.startswith("new_")}
    assert len(done) < N_NEW
    assert not _saved(store).exists()
    for i in range(N_NEW):
        found = _lexical_sources(searcher, _marker(i))
        assert found == ({f"new_{i:02d}.txt"} if f"new_{i:02d}.txt" in done else set()), i

    # The re-run finishes: saved, and every file found.
    again = cli(env, "ingest", "-q", str(new))
    assert again.returncode == 0, again.stderr
    store = ChromaStore(settings)
    writing = store.identity()[2]
    assert not writing and _saved(store).exists()
    searcher = Searcher(settings, store, embedder)
    _check_matches_committed(store, searcher)
    assert _lexical_sources(searcher, _marker(N_NEW - 1)) == {f"new_{N_NEW - 1:02d}.txt"}

    # remove: gone for this process and for a fresh one.
    removed = cli(env, "remove", "new_05.txt")
    assert removed.returncode == 0, removed.stderr
    for store_ in (store, ChromaStore(settings)):
        s = Searcher(settings, store_, embedder)
        _check_matches_committed(store_, s)
        assert _lexical_sources(s, _marker(5)) == set()

    # reset: the snapshots go with the collections; a new index never maps an old one.
    reset = cli(env, "reset", "--yes")
    assert reset.returncode == 0, (reset.stdout, reset.stderr)
    assert not store.snapshot_root().exists()
    store = ChromaStore(settings)
    assert cli(env, "ingest", "-q", str(new)).returncode == 0
    searcher = Searcher(settings, store, embedder)
    committed = _check_matches_committed(store, searcher)
    assert set(committed) == {f"new_{i:02d}.txt" for i in range(N_NEW)}
    assert [p for p in store.snapshot_root().iterdir()] == [_saved(store)]
