"""Search in Chroma (``search.backend="chroma"``): HNSW finds the candidates, this process
scores a few hundred of them, and keeps no copy of the index.

Per question: one HNSW query over the centred collection (``chroma_index``) with the
question centred, one per translation (restricted to its language), and, with
``crosslingual="relation"``, one over the raw vectors of the question's own language in
that language's own collection (ranked as plain dense search ranks it; no ``where``, which
makes Chroma scan rows: filters are in ``_candidates``). The queries return ids; one
``get`` reads the candidates' centred vectors and slim metadata, ``Searcher``'s scores are
computed on them alone, and for the first k one ``get`` reads texts and one their files'
records (only chunks a committed record lists are shown). What is read is kept until the
revision moves (``read_cache``). Stored vectors are centred with the profile's means; the
candidates are scored with those mixed with the corpus's own (``chroma_index.Recentring``,
docs/scale.md). BM25 is not here: fusion modes that use it stay on the snapshot backend."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import IndexStoreError
from assistant.index.embedding import LocalEmbeddings
from assistant.index.store import ChromaStore, DocRecord, province_field
from assistant.search import chroma_filters as filtering
from assistant.search.chroma_index import NORM, CentredCollection, Recentring, attach
from assistant.search.chroma_scores import candidate_scores
from assistant.search.filters import Filters
from assistant.search.language_stats import PairLevels
from assistant.search.query import Query
from assistant.search.read_cache import ReadCache, nbytes
from assistant.search.searcher import _ANCHOR_DEPTH, Hit, Searcher
from assistant.text import dates
from assistant.text.languages import UNKNOWN

# Centred candidates fetched per needed one: relation scores add a raw term that the HNSW
# order (centred cosine alone) does not see (recall: tests/test_chroma_search.py).
FETCH_FACTOR = 2
_PAGE = 2000


def _and(where: dict[str, Any] | None, clause: dict[str, Any]) -> dict[str, Any]:
    return clause if where is None else {"$and": [where, clause]}


class ChromaSearcher(Searcher):
    """``Searcher``'s interface over Chroma's own search; shared by threads (no state per
    question; the per-revision checks are replaced whole under a lock)."""

    def __init__(self, settings: Settings, store: ChromaStore, embedder: LocalEmbeddings,
                 fusion: str | None = None) -> None:
        super().__init__(settings, store, embedder, fusion)
        if self.fusion != "vectors":
            raise ValueError(f"search.backend=chroma ranks by vector scores only; fusion "
                             f"'{self.fusion}' needs BM25: use the snapshot backend.")
        self.centred: CentredCollection = attach(store, embedder.model_id)
        self.levels = PairLevels.shipped(embedder.model_id)
        self._checked: tuple[str, int, int] | None = None
        self._recentring: tuple[tuple[str, int], Recentring] | None = None
        self._languages: tuple[tuple[str, int], list[str]] | None = None
        self._check_lock = threading.Lock()
        self._docs_handle: Any = None
        self._reads: tuple[tuple[str, int], ReadCache] | None = None

    # -- the index's revision: checked once per revision ----------------------------------
    def _current(self) -> int:
        return self._revision()[0]

    def _revision(self) -> tuple[int, ReadCache]:
        """The schema of the current revision, after checking that the index was built by
        this embedder and that its centred collection is whole; and what this process has
        read of that revision (``read_cache``; nothing kept while a writer is at work)."""
        collection, revision, writing = self.store.identity()
        key = (collection, revision)
        checked = self._checked
        schema = checked[2] if checked is not None and checked[:2] == key else \
            self._check(collection, revision)
        mib = self.settings.search.read_cache_mib
        if writing or not mib:
            return schema, ReadCache.NONE
        known = self._reads
        if known is None or known[0] != key:  # replaced whole, as the other per-revision state
            known = self._reads = (key, ReadCache(mib))
        return schema, known[1]

    def _check(self, collection: str, revision: int) -> int:
        with self._check_lock:
            if self._checked is not None and self._checked[0] != collection:
                self.centred.forget()  # a reset: the collection was dropped
            self.store.verify_embedder(self.embedder.model_id)
            state = self.store.state()
            if state.get("mirrored") != self.centred.tag and not self.store.is_empty():
                raise IndexStoreError(
                    f"The index at {self.store.location} has no up-to-date centred vectors "
                    "for search.backend=chroma (it was last written without that setting, "
                    "or with other language means). Run `assistant ingest` with "
                    "ASSISTANT_SEARCH__BACKEND=chroma once to add them.")
            self._checked = (collection, revision, int(state.get("schema", 1)))
            return self._checked[2]

    def recentring(self) -> Recentring:
        """The corpus's means of the checked revision (read once per revision)."""
        key = self._checked[:2] if self._checked else ("", 0)
        known = self._recentring
        if known is None or known[0] != key:
            known = self._recentring = (key, Recentring(
                self.centred, self.settings.search.centering_prior))
        return known[1]

    def _docs(self) -> Any:
        """The records' collection handle of the checked revision (``store.docs`` fetches
        it anew each time: its metadata is the index's state, read fresh)."""
        handle = self._docs_handle
        if handle is None or str(handle.id) != (self._checked or ("",))[0]:
            handle = self._docs_handle = self.store.docs
        return handle

    def warm_up(self) -> None:
        self._current()
        self.centred.load(self.embedder.embed_query_vector("warm-up"))

    def snapshot(self) -> Any:
        raise IndexStoreError("search.backend=chroma keeps no snapshot of the index.")

    def languages(self) -> list[str]:
        """The files' languages (translation targets), listed once per revision and only
        when asked (a translator is configured): start-up reads no record."""
        self._current()
        key = self._checked[:2] if self._checked else ("", 0)
        known = self._languages
        if known is None or known[0] != key:
            known = self._languages = (key, sorted(
                {r.language for r in self.store.documents()} - {UNKNOWN}))
        return known[1]

    # -- candidates ---------------------------------------------------------------------
    def _query(self, collection: Any, vector: np.ndarray, n: int,
               where: dict[str, Any] | None, include: list[str]) -> dict[str, Any]:
        got = self.store._call(collection.query, query_embeddings=[vector.tolist()],
                               n_results=n, where=where, include=include)
        return {key: got[key][0] for key in ("ids", *include)}

    def _committed(self, metas: Sequence[dict[str, Any]], filters: Filters | None,
                   reads: ReadCache = ReadCache.NONE) -> set[str]:
        """Chunk ids that a committed file record lists (and that the reader may read)."""
        sources = sorted({str(m["source"]) for m in metas})
        if not sources:
            return set()

        def fetch(missing: list[str]) -> dict[str, DocRecord]:
            got = self.store._call(self._docs().get, ids=missing, include=["metadatas"])
            return {cid: DocRecord.from_metadata(meta)
                    for cid, meta in zip(got["ids"], got["metadatas"], strict=True)}
        keep: set[str] = set()
        for record in reads.read("record", sources, fetch,
                                 lambda r: nbytes(r.chunk_ids, r.groups) + 1024).values():
            if filters is not None and filters.restricted and filters.reader is not None \
                    and not filters.reader.may_read(record.groups):
                continue  # ``where`` says so too; this holds even where it lags
            keep.update(record.chunk_ids)
        return keep

    def _candidates(self, query: Query, cq: np.ndarray, translated: dict[str, np.ndarray],
                    depth: int, filters: Filters | None, schema: int,
                    reads: ReadCache = ReadCache.NONE
                    ) -> tuple[list[str], list[dict[str, Any]], np.ndarray]:
        """(ids, slim metadata, centred vectors) of the candidates: the ids from HNSW
        queries, then one ``get`` of their vectors and metadata from the centred collection
        (Chroma's cost is per result and per ``where``, not per query).

        A ``where`` makes Chroma scan the rows it matches (a signed-in reader's, every row:
        about a second at 100,000 chunks). So a filter on files is met by all their rows
        when they are few (``chroma_filters``); any other filter is applied here, to deeper
        results read without one, unrestricted or from the filtered languages' own
        collections (``_gather``), and when too few pass, the ``where`` runs after all."""
        where = filters.where(schema) if filters else None
        if where is not None and filters is not None and schema >= 2:
            deeper = filtering.POST_FILTER_DEPTH
            if reads.keeps and filtering.lists_rows(filters):  # listed once per revision
                rows, share = filtering.passing(self.store, self.centred.collection, where, reads)
                if len(rows) <= filtering.EXACT_ROWS:
                    return self._fetch(rows, reads)
                deeper = filtering.post_filter_depth(share, deeper)
            got = self._gather(query, cq, translated, depth, None, filters.admits, reads,
                               filters.languages, deeper)
            if got is not None:
                return got
        found = self._gather(query, cq, translated, depth, where, None, reads)
        assert found is not None  # only a filter applied here gives up
        return found

    def _gather(self, query: Query, cq: np.ndarray, translated: dict[str, np.ndarray],
                depth: int, where: dict[str, Any] | None,
                admits: Callable[[Mapping[str, Any]], bool] | None, reads: ReadCache,
                languages: tuple[str, ...] = (), deeper: int = 1
                ) -> tuple[list[str], list[dict[str, Any]], np.ndarray] | None:
        """The candidates, filtered by Chroma (``where``) or here (``admits``, on results
        ``deeper`` times as deep; None when fewer pass than each query needs: then it is the
        ``where``'s turn). With ``languages``, from those languages' own raw collections."""
        mode = self.settings.search.crosslingual
        centred = self.centred.collection
        asked: list[tuple[list[str], int]] = []  # per query: its ids, how many were asked

        def ask(collection: Any, vector: np.ndarray, n: int,
                clause: dict[str, Any] | None) -> None:
            n *= deeper
            asked.append((self._query(collection, vector, n, clause, [])["ids"], n))
        # More than ``depth`` (the relation score's raw term reorders them), but not
        # FETCH_FACTOR times the anchors' deeper look: Chroma's cost is per result.
        fetch = depth + (FETCH_FACTOR - 1) * (self.settings.search.candidate_k + 10)
        if languages:
            for lang in languages:
                own = self.centred.own(lang)
                if mode == "none" or (mode == "relation" and lang == query.language):
                    ask(own, query.vector, depth, None)  # plain dense order, exactly
                if mode != "none":
                    # The centred question over raw vectors orders one language's chunks
                    # by centred cosine times each chunk's centring norm (its mean is the
                    # same for all): read deeper, then scored exactly.
                    ask(own, cq, filtering.LANGUAGE_FETCH * fetch, None)
                    if lang in translated:
                        ask(own, translated[lang], filtering.LANGUAGE_FETCH * depth, None)
        elif mode == "none":
            ask(self.store.chunks, query.vector, depth, where)
        else:
            ask(centred, cq, fetch, where)
            for lang, vec in translated.items():
                ask(centred, vec, depth, _and(where, {"lang": lang}))
            if mode == "relation" and query.language != UNKNOWN:
                # The raw vectors' own order in the question's language: its own collection
                # (no ``where``), or, with Chroma filtering, the chunks restricted to it.
                lang = query.language
                if where is None:
                    ask(self.centred.own(lang), query.vector, depth, None)
                else:
                    ask(self.store.chunks, query.vector, depth, _and(where, {"lang": lang}))
        # An id may come back twice, or be missing from the centred collection (written
        # mid-ingest): an id twice in one ``get`` is an error; a missing one is no candidate.
        ids, metas, vectors = self._fetch(
            list(dict.fromkeys(cid for got, _ in asked for cid in got)), reads)
        if admits is None:
            return ids, metas, vectors
        meta_of = dict(zip(ids, metas, strict=True))
        for got, n in asked:
            passed = sum(cid in meta_of and admits(meta_of[cid]) for cid in got)
            if len(got) == n and passed < n // deeper:
                return None  # too few pass for the search to be what a ``where`` gives
        keep = [i for i, meta in enumerate(metas) if admits(meta)]
        ids, metas = [ids[i] for i in keep], [metas[i] for i in keep]
        return ids, metas, vectors[keep] if keep else np.empty((0, 0), np.float32)

    def _fetch(self, ids: list[str], reads: ReadCache
               ) -> tuple[list[str], list[dict[str, Any]], np.ndarray]:
        """Centred vectors and slim metadata of ``ids`` (those present, in their order):
        the ones not read before in this revision, in one ``get``."""
        def fetch(missing: list[str]) -> dict[str, tuple[dict[str, Any], np.ndarray]]:
            got = self.store._call(self.centred.collection.get, ids=missing,
                                   include=["metadatas", "embeddings"])
            vectors = np.asarray(got["embeddings"], np.float32)
            # A kept row is a copy (a view would keep the whole batch alive).
            return {cid: (meta, vectors[i].copy() if reads.keeps else vectors[i])
                    for i, (cid, meta) in enumerate(zip(got["ids"], got["metadatas"],
                                                        strict=True))}
        rows = reads.read("candidate", ids, fetch, lambda row: nbytes(*row))
        present = [cid for cid in ids if cid in rows]
        if not present:
            return [], [], np.empty((0, 0), np.float32)
        return (present, [rows[cid][0] for cid in present],
                np.stack([rows[cid][1] for cid in present]))

    def search(self, query: Query, k: int | None = None,
               filters: Filters | None = None) -> list[Hit]:
        k = k or self.settings.search.retrieval_k
        schema, reads = self._revision()
        anchors = list(query.provinces) if self.settings.search.province_anchor else []
        depth = (self.settings.search.candidate_k + 10) * (_ANCHOR_DEPTH if anchors else 1)
        qvec, qlang = np.asarray(query.vector, np.float32), query.language
        centering = self.centred.centering
        cq = centering.query(qvec, qlang)
        translated = {lang: centering.query(vec, lang)
                      for lang, vec in query.translation_vectors.items()}
        ids, metas, centred = self._candidates(query, cq, translated, depth, filters, schema,
                                               reads)
        if not ids:
            return []
        langs = [str(m.get("lang", UNKNOWN)) for m in metas]
        norms = np.asarray([float(m.get(NORM, 1.0)) for m in metas], np.float32)
        shift = {}
        for lang in set(langs):
            mean = self.centred.shift(lang)
            shift[lang] = 0.0 if mean is None else float(mean @ qvec)
        offset = np.asarray([shift[lang] for lang in langs], np.float32)
        raw = norms * (centred @ qvec) + offset  # the raw cosine, as CenteredIndex has it
        mode = self.settings.search.crosslingual
        scores = None
        if mode != "none":  # scored with the corpus's means, as the snapshot path scores
            corpus = self.recentring()
            scores = candidate_scores(
                self.settings.search, self.levels, corpus.passages(centred, norms, langs),
                langs, raw, corpus.centering.query(qvec, qlang),
                {lang: corpus.centering.query(vec, lang)
                 for lang, vec in query.translation_vectors.items()}, qvec, qlang, depth, corpus)
        order = list(np.argsort(-(raw if scores is None else scores), kind="stable")[:depth])
        if anchors or query.days:  # ``anchored``'s order, read from the slim metadata
            keys = [province_field(p) for p in anchors]
            order.sort(key=lambda i: (bool(keys) and not any(metas[i].get(f) for f in keys),
                                      dates.day_of(metas[i].get("date")) not in query.days))
        # Texts and full metadata for the first k only (Chroma's cost is per result); a
        # chunk of a file not committed is dropped, and the next ones read in its place.
        hits: list[Hit] = []
        for start in range(0, len(order), k + 10):
            part = [ids[i] for i in order[start : start + k + 10]]
            full = reads.read("chunk", part, self._texts, lambda row: nbytes(*row))
            committed = self._committed([m for m, _ in full.values()], filters, reads)
            for i in order[start : start + k + 10]:
                cid = ids[i]
                if cid in full and cid in committed:
                    meta, text = full[cid]
                    meta = dict(meta)  # the hit's own: what is kept stays as it was read
                    hits.append(Hit(cid, meta["source"], text, meta, dense=float(raw[i]),
                                    crosslingual=None if scores is None else float(scores[i])))
            if len(hits) >= k:
                break
        return hits[:k]

    def _texts(self, ids: list[str]) -> dict[str, tuple[dict[str, Any], str]]:
        got = self.store.get_chunks(ids, None)  # full metadata and text, of those present
        return {cid: (m, t) for cid, m, t in zip(got["ids"], got["metadatas"],
                                                 got["documents"], strict=True)}

    def passages(self, ids: Sequence[str], filters: Filters | None = None
                 ) -> Iterator[tuple[dict[str, Any], str, np.ndarray]]:
        """As ``Searcher.passages``, read from Chroma a page at a time."""
        schema = self._current()
        where = filters.where(schema) if filters else None
        for start in range(0, len(ids), _PAGE):
            page = list(ids[start : start + _PAGE])
            got = self.store.get_chunks(page, where, embeddings=True)
            committed = self._committed(got["metadatas"], filters)
            found = {cid: i for i, cid in enumerate(got["ids"]) if cid in committed}
            for cid in page:
                if (i := found.get(cid)) is not None:
                    yield (got["metadatas"][i], got["documents"][i],
                           np.asarray(got["embeddings"][i], dtype=np.float32))
