"""Retrieval: dense search in Chroma plus BM25, fused with an eye on languages.

A plain rank fusion promotes whatever BM25 finds, and BM25 only ever finds documents in
the question's own language: on cross-lingual questions that pushes the right answer,
written in another language, out of the top ranks. So BM25 here may only *reorder* the
candidates written in the question's language, among the ranks dense search already gave
them; a document in another language keeps exactly the rank dense search gave it.

The searcher is shared by every thread of the web app: it holds settings, the store, and
the index-wide caches (lexicon, centred vectors) rebuilt under a lock when the index's
revision moves; everything about one question comes in with the ``Query``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.config_groups import fusion_mode
from assistant.index.embedding import LocalEmbeddings
from assistant.index.snapshot import Snapshot
from assistant.index.snapshot_cache import SnapshotCache
from assistant.index.store import ChromaStore
from assistant.search.centering import CenteredIndex
from assistant.search.filters import Filters
from assistant.search.language_stats import LanguageMeans, PairLevels
from assistant.search.lexicon import Lexicon
from assistant.search.query import Query
from assistant.text import dates
from assistant.text.languages import UNKNOWN

RRF_K = 60
_ANCHOR_DEPTH = 4


@dataclass
class Hit:
    id: str
    source: str
    text: str
    metadata: dict[str, Any]
    dense: float = 0.0  # cosine similarity to the question
    bm25: float = 0.0
    doc_bm25: float = 0.0  # best BM25 score among the document's candidate chunks
    # With cross-lingual scoring on: the score dense ranking sorts by, the centred
    # similarity (crosslingual=centering) or the language-relation score (=relation).
    crosslingual: float | None = None

    @property
    def similarity(self) -> float:
        """What dense ranking sorts by: the cross-lingual score when there is one."""
        return self.dense if self.crosslingual is None else self.crosslingual

    @property
    def language(self) -> str:
        return str(self.metadata.get("lang", UNKNOWN))


@dataclass(frozen=True)
class _Snapshot:
    """The index-wide structures of one revision, replaced whole, never edited."""

    lexicon: Lexicon
    centered: CenteredIndex | None
    levels: PairLevels | None = None  # crosslingual="relation": the pairs' unrelated levels

    @property
    def index(self) -> Snapshot:
        return self.lexicon.snapshot


def limit_blas_threads(threads: int) -> None:
    """Process-wide: OpenBLAS threads spin for a while after each product, so a second one
    competes with the embedder's threads for the next question (2 cores: +16 ms p50)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    if any(p.get("user_api") == "blas" and p.get("num_threads") != threads
           for p in threadpool_info()):
        threadpool_limits(limits=threads, user_api="blas")


class Searcher:
    """Finds the chunks that answer a prepared ``Query``, in any language."""

    def __init__(self, settings: Settings, store: ChromaStore, embedder: LocalEmbeddings,
                 fusion: str | None = None) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder  # for its model id: the index must have been built by it
        self.fusion = fusion_mode(fusion) if fusion else settings.search.fusion
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()
        self._masks: dict[tuple[str, Filters], np.ndarray | None] = {}
        limit_blas_threads(settings.search.blas_threads)

    def snapshot(self) -> _Snapshot:
        """The lexicon and centred vectors of the index's current revision: mapped from the
        snapshot saved for it (``index.snapshot``), or built from the last one by the files
        that changed; one call to the store when nothing changed."""
        collection, revision, _ = self.store.identity()
        key = f"{collection}-{revision}"
        current = self._snapshot
        if current is not None and current.lexicon.key == key:
            return current
        with self._lock:  # one thread rebuilds; the others wait and share its result
            current = self._snapshot
            if current is None or current.lexicon.key != key:
                self.store.verify_embedder(self.embedder.model_id)
                index = SnapshotCache(self.store.snapshot_root()).current(self.store)
                lexicon = Lexicon(index)
                centered = None
                levels = None
                if self.settings.search.crosslingual in ("centering", "relation"):
                    shipped = LanguageMeans.shipped(self.embedder.model_id)
                    centered = CenteredIndex(index, shipped, self.settings.search.centering_prior)
                if self.settings.search.crosslingual == "relation":
                    levels = PairLevels.shipped(self.embedder.model_id)
                current = self._snapshot = _Snapshot(lexicon, centered, levels)
                self._masks = {}
            return current

    def warm_up(self) -> None:
        """Load what a first question would wait for (here: the revision's snapshot)."""
        self.snapshot()

    def _mask(self, filters: Filters | None, index: Snapshot) -> np.ndarray | None:
        """The filter's rows of this snapshot, cached (filters repeat: the web app's)."""
        if not filters:
            return None
        key = (index.key, filters)
        with self._lock:
            if key not in self._masks:
                if len(self._masks) >= 32:
                    self._masks.pop(next(iter(self._masks)))
                rows = filters.mask(index)
                # Keeping every row (a staff member on an index open to all) is no filter:
                # the unfiltered path costs less.
                self._masks[key] = None if rows is not None and rows.all() else rows
            return self._masks[key]

    def lexicon(self) -> Lexicon:
        return self.snapshot().lexicon

    def centered(self) -> CenteredIndex | None:
        """Centred chunk vectors of the current revision (None: centering switched off)."""
        return self.snapshot().centered

    def languages(self) -> list[str]:
        """The languages the index holds (what a question may be translated into)."""
        centered = self.centered()
        if centered is not None:
            return sorted(centered.languages())
        return sorted({r.language for r in self.store.documents()} - {UNKNOWN})

    def passages(self, ids: Sequence[str], filters: Filters | None = None
                 ) -> Iterator[tuple[dict[str, Any], str, np.ndarray]]:
        """(metadata, text, raw vector) of each of ``ids`` the filter keeps, in that order:
        what a briefing reads (every passage in scope, not the top k)."""
        index = self.snapshot().index
        mask = self._mask(filters, index)
        for cid in ids:
            row = index.row.get(cid)
            if row is not None and (mask is None or mask[row]):
                yield (json.loads(index.metas[row]), index.texts[row],
                       np.asarray(index.vectors[row], dtype=np.float32))

    def search(self, query: Query, k: int | None = None,
               filters: Filters | None = None) -> list[Hit]:
        k = k or self.settings.search.retrieval_k
        n = self.settings.search.candidate_k
        snapshot = self.snapshot()
        lexicon = snapshot.lexicon
        mask = self._mask(filters, snapshot.index)
        qvec = query.vector
        hits: dict[str, Hit] = {}
        # Province names are anchors that hold across languages: passages from reports
        # about the province a question names are fetched too, and ranked first.
        anchors = list(query.provinces) if self.settings.search.province_anchor else []
        depth = (n + 10) * (_ANCHOR_DEPTH if anchors else 1)
        centered = snapshot.centered if self.fusion != "bm25" else None
        cq = qvec
        translated: Mapping[str, np.ndarray] = {}

        def crosslingual_of(chunk_id: str) -> float | None:
            if centered is None:
                return None
            if scores is not None:  # the relation score (a BM25-only candidate's)
                row = centered.row.get(chunk_id)
                return -1.0 if row is None else float(scores[row])
            return centered.score(chunk_id, cq, translated)

        scores: np.ndarray | None = None

        if centered is not None:
            cq = centered.centering.query(qvec, query.language)
            # Each translation is centred with its own language's query mean.
            translated = {lang: centered.centering.query(vec, lang)
                          for lang, vec in query.translation_vectors.items()}
            if snapshot.levels is not None and query.language != UNKNOWN:
                scores = centered.relation_scores(qvec, query.language, cq, snapshot.levels,
                                                  depth, translated, mask,
                                                  raw_weight=self.settings.search.relation_raw_weight)
            self._crosslingual_candidates(centered, qvec, cq, translated, depth, mask,
                                          lexicon.visible, hits, scores)
        if self.fusion != "bm25" and centered is None:
            # With an anchor, look deeper rather than filter by it.
            where = filters.where(self.store.schema()) if filters else None
            got = self.store.query(qvec, depth, where)
            for cid, meta, text, dist in zip(got["ids"][0], got["metadatas"][0],
                                             got["documents"][0], got["distances"][0],
                                             strict=True):
                # The mask too: a reader's groups are enforced even where ``where`` lags.
                if cid in lexicon.visible and cid not in hits and (
                        mask is None or mask[snapshot.index.row[cid]]):
                    hits[cid] = Hit(cid, meta["source"], text, meta, dense=1.0 - float(dist),
                                    crosslingual=crosslingual_of(cid))
        if self.fusion != "vectors":
            lexical = dict(lexicon.top(query.text, n, mask))
            missing = [cid for cid in lexical if cid not in hits]
            if missing:  # the mask has filtered them already
                got = lexicon.snapshot.get_chunks(missing) if centered is not None else \
                    self.store.get_chunks(missing, None, embeddings=True)
                vectors = got["embeddings"] if centered is None else [None] * len(got["ids"])
                for cid, meta, text, vec in zip(got["ids"], got["metadatas"], got["documents"],
                                                vectors, strict=True):
                    if centered is not None:  # the raw cosine comes from the centred copy
                        hits[cid] = Hit(cid, meta["source"], text, meta,
                                        dense=centered.raw_similarity(cid, qvec),
                                        crosslingual=crosslingual_of(cid))
                        continue
                    vector = np.asarray(vec, dtype=np.float32)
                    hits[cid] = Hit(cid, meta["source"], text, meta, dense=float(vector @ qvec),
                                    crosslingual=crosslingual_of(cid))
            for cid, score in lexical.items():
                if cid in hits:
                    hits[cid].bm25 = score
        ranked = self._fuse(list(hits.values()), query.language)
        return anchored(ranked, anchors, query)[:k]

    def _crosslingual_candidates(self, centered: CenteredIndex, qvec: np.ndarray,
                                 cq: np.ndarray, translated: Mapping[str, np.ndarray],
                                 depth: int, mask: np.ndarray | None, visible: frozenset[str],
                                 hits: dict[str, Hit], relation: np.ndarray | None = None
                                 ) -> None:
        # Exact search over centred vectors (or relation scores), among the filter's rows.
        scores = dict(centered.top(cq, depth, translated, mask, relation))
        if not scores:
            return
        got = centered.snapshot.get_chunks(list(scores))  # text and metadata: no round trip
        for cid, meta, text in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
            if cid in visible:
                hits[cid] = Hit(cid, meta["source"], text, meta,
                                dense=centered.raw_similarity(cid, qvec), crosslingual=scores[cid])

    def _fuse(self, hits: list[Hit], qlang: str) -> list[Hit]:
        by_dense = sorted(hits, key=lambda h: -h.similarity)
        if self.fusion == "vectors":
            return by_dense
        if self.fusion == "bm25":
            return sorted((h for h in hits if h.bm25 > 0), key=lambda h: -h.bm25)
        if self.fusion == "rrf":
            return _rrf(by_dense)
        if qlang == UNKNOWN:
            return by_dense
        # Work on documents, not chunks: reordering chunks alone would let more distinct
        # same-language documents in ahead of one in another language.
        chunks_of: dict[str, list[Hit]] = {}
        for hit in by_dense:
            chunks_of.setdefault(hit.source, []).append(hit)
        docs = [chunks[0] for chunks in chunks_of.values()]  # best chunk stands for its doc
        for doc in docs:
            doc.doc_bm25 = max(h.bm25 for h in chunks_of[doc.source])
        slots = [i for i, d in enumerate(docs) if d.language == qlang]
        reordered = _rrf([docs[i] for i in slots], key=lambda h: h.doc_bm25)
        for slot, doc in zip(slots, reordered, strict=True):
            docs[slot] = doc
        return [hit for doc in docs for hit in chunks_of[doc.source]]


def anchored(ranked: list[Hit], anchors: Sequence[str], query: Query) -> list[Hit]:
    """Passages about a province the question names first (stable within each part)."""
    if anchors or query.days:
        # A day the question names ("the 4/11/2025 session") tells apart two reports
        # on one province: within the province's passages, the report of that day first.
        wanted = set(anchors)
        ranked.sort(key=lambda h: (
            bool(anchors) and not wanted.intersection(h.metadata.get("provinces", [])),
            dates.day_of(h.metadata.get("date")) not in query.days))
    return ranked


def _rrf(by_dense: list[Hit], key: Callable[[Hit], float] = lambda h: h.bm25) -> list[Hit]:
    """Reciprocal-rank fusion of the dense order given and the BM25 order (by ``key``)."""
    bm25_rank = {h.id: r for r, h in enumerate(sorted(
        (h for h in by_dense if key(h) > 0), key=lambda h: -key(h)))}

    def score(item: tuple[int, Hit]) -> float:
        rank, hit = item
        lexical = bm25_rank.get(hit.id)
        return 1 / (RRF_K + rank) + (1 / (RRF_K + lexical) if lexical is not None else 0.0)
    return [h for _, h in sorted(enumerate(by_dense), key=score, reverse=True)]
