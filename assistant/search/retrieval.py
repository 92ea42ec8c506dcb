"""Retrieval: dense search in Chroma plus BM25, fused with an eye on languages.

A plain rank fusion promotes whatever BM25 finds, and BM25 only ever finds documents in
the question's own language: on cross-lingual questions that pushes the right answer,
written in another language, out of the top ranks. So BM25 here may only *reorder* the
candidates written in the question's language, among the ranks dense search already gave
them; a document in another language keeps exactly the rank dense search gave it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.config import Settings
from assistant.index.embedding import LocalEmbeddings
from assistant.index.store import ChromaStore
from assistant.search.centering import CenteredIndex, LanguageMeans
from assistant.text import dates
from assistant.text.anchors import find_provinces
from assistant.text.languages import UNKNOWN, detect, tokenize

# (question, its language, target languages) -> {language: translated question}
Translate = Callable[[str, str, list[str]], dict[str, str]]

RRF_K = 60
_ANCHOR_DEPTH = 4


@dataclass(frozen=True)
class Filters:
    languages: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    def where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.languages:
            clauses.append({"lang": {"$in": list(self.languages)}})
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.provinces:
            options = [{"provinces": {"$contains": p}} for p in self.provinces]
            clauses.append(options[0] if len(options) == 1 else {"$or": options})
        if self.since:
            clauses.append({"date": {"$gte": dates.to_int(self.since)}})
        if self.until:
            clauses.append({"date": {"$lte": dates.to_int(self.until)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


@dataclass
class Hit:
    id: str
    source: str
    text: str
    metadata: dict[str, Any]
    dense: float = 0.0  # cosine similarity to the question
    bm25: float = 0.0
    doc_bm25: float = 0.0  # best BM25 score among the document's candidate chunks
    vector: np.ndarray | None = field(default=None, repr=False)
    centred: float | None = None  # similarity after language centering, when it is on

    @property
    def similarity(self) -> float:
        """What dense ranking sorts by: the centred similarity when there is one."""
        return self.dense if self.centred is None else self.centred

    @property
    def language(self) -> str:
        return str(self.metadata.get("lang", UNKNOWN))


class _Lexicon:
    """BM25 over the committed chunks, rebuilt when the index's revision moves."""

    def __init__(self, store: ChromaStore) -> None:
        import bm25s

        self.revision = store.revision()
        visible: set[str] = set()
        for record in store.documents():
            visible.update(record.chunk_ids)
        self.visible = visible
        self.ids: list[str] = []
        tokens: list[list[str]] = []
        for chunk_id, _meta, text in store.iter_chunks():
            if chunk_id in visible:
                self.ids.append(chunk_id)
                tokens.append(tokenize(text))
        self.bm25 = bm25s.BM25()
        if tokens:
            self.bm25.index(tokens, show_progress=False)

    def top(self, query: str, n: int) -> list[tuple[str, float]]:
        if not self.ids:
            return []
        scores = self.bm25.get_scores(tokenize(query))
        n = min(n, len(scores))
        best = np.argpartition(-scores, n - 1)[:n]
        return [(self.ids[i], float(scores[i])) for i in best[np.argsort(-scores[best])]
                if scores[i] > 0]


class Searcher:
    """Finds the chunks that answer a question, in any language."""

    def __init__(self, settings: Settings, store: ChromaStore, embedder: LocalEmbeddings,
                 fusion: str | None = None) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.fusion = fusion or settings.fusion
        self._lexicon: _Lexicon | None = None
        self._centered: CenteredIndex | None = None
        self._last_language = ("", UNKNOWN)
        # (question, its language, target languages) -> {language: translation}; set by the
        # service when a language model may translate questions (``translate_questions``).
        self.translate: Translate | None = None

    def lexicon(self) -> _Lexicon:
        if self._lexicon is None or self._lexicon.revision != self.store.revision():
            self.store.verify_embedder(self.embedder.model_id)
            self._lexicon = _Lexicon(self.store)
        return self._lexicon

    def centered(self) -> CenteredIndex | None:
        """Centred chunk vectors of the current revision (None: centering switched off)."""
        if self.settings.crosslingual != "centering":
            return None
        lexicon = self.lexicon()
        if self._centered is None or self._centered.revision != lexicon.revision:
            shipped = LanguageMeans.shipped(self.embedder.model_id)
            self._centered = CenteredIndex(self.store, lexicon.visible, shipped,
                                           self.settings.centering_prior)
        return self._centered

    def search(self, query: str, k: int | None = None, filters: Filters | None = None,
               query_vector: np.ndarray | None = None) -> list[Hit]:
        k = k or self.settings.retrieval_k
        n = self.settings.candidate_k
        query = unicodedata.normalize("NFC", query)  # as documents are (loading.py)
        filters = filters or Filters()
        where = filters.where()
        lexicon = self.lexicon()
        qvec = self.embedder.embed_query_vector(query) if query_vector is None else query_vector
        hits: dict[str, Hit] = {}
        # Province names are anchors that hold across languages: passages from reports
        # about the province a question names are fetched too, and ranked first.
        anchors = find_provinces(query) if self.settings.province_anchor else []
        centered = self.centered() if self.fusion != "bm25" else None
        cq = qvec
        translated: dict[str, np.ndarray] = {}

        def centred_of(chunk_id: str) -> float | None:
            return None if centered is None else centered.score(chunk_id, cq, translated)

        if centered is not None:
            cq = centered.centering.query(qvec, self._language(query))
            translated = self._translations(centered, query)
            self._centered_candidates(centered, qvec, cq, translated,
                                      (n + 10) * (_ANCHOR_DEPTH if anchors else 1), where,
                                      lexicon.visible, hits)
        if self.fusion != "bm25" and (centered is None or where):
            # With an anchor, look deeper rather than run a filtered query: Chroma's
            # array filters scan the whole collection (300 ms at 100,000 chunks).
            depth = (n + 10) * (_ANCHOR_DEPTH if anchors else 1)
            got = self.store.query(qvec, depth, where)
            for cid, meta, text, dist in zip(got["ids"][0], got["metadatas"][0],
                                             got["documents"][0], got["distances"][0],
                                             strict=True):
                if cid in lexicon.visible and cid not in hits:
                    hits[cid] = Hit(cid, meta["source"], text, meta, dense=1.0 - float(dist),
                                    centred=centred_of(cid))
        if self.fusion != "dense":
            lexical = dict(lexicon.top(query, n))
            missing = [cid for cid in lexical if cid not in hits]
            if missing:
                got = self.store.get_chunks(missing, where, embeddings=centered is None)
                vectors = got["embeddings"] if centered is None else [None] * len(got["ids"])
                for cid, meta, text, vec in zip(got["ids"], got["metadatas"], got["documents"],
                                                vectors, strict=True):
                    if centered is not None:  # the raw cosine comes from the centred copy
                        hits[cid] = Hit(cid, meta["source"], text, meta,
                                        dense=centered.raw_similarity(cid, qvec),
                                        centred=centred_of(cid))
                        continue
                    vector = np.asarray(vec, dtype=np.float32)
                    hits[cid] = Hit(cid, meta["source"], text, meta, dense=float(vector @ qvec),
                                    vector=vector, centred=centred_of(cid))
            for cid, score in lexical.items():
                if cid in hits:
                    hits[cid].bm25 = score
        ranked = self._fuse(list(hits.values()), query)
        if anchors:
            wanted = set(anchors)
            ranked.sort(key=lambda h: not wanted.intersection(h.metadata.get("provinces", [])))
        return ranked[:k]

    def _language(self, query: str) -> str:
        # Centering and fusion both need it: detect once per question.
        if self._last_language[0] != query:
            self._last_language = (query, detect(query, self.settings.languages))
        return self._last_language[1]

    def _translations(self, centered: CenteredIndex, query: str) -> dict[str, np.ndarray]:
        """The question translated into the corpus's other languages, embedded and centred
        with each language's query mean; empty without a translator (or when it fails)."""
        language = self._language(query)
        targets = sorted(centered.languages() - {language, UNKNOWN})
        if self.translate is None or not targets:
            return {}
        texts = self.translate(query, language, targets)
        return {lang: centered.centering.query(self.embedder.embed_query_vector(text), lang)
                for lang, text in texts.items() if lang in targets}

    def _centered_candidates(self, centered: CenteredIndex, qvec: np.ndarray, cq: np.ndarray,
                             translated: dict[str, np.ndarray], depth: int,
                             where: dict[str, Any] | None, visible: set[str],
                             hits: dict[str, Hit]) -> None:
        # Exact search over centred vectors; with a filter, the raw filtered Chroma query
        # still runs too (rescored), in case the filter removes every centred candidate.
        scores = dict(centered.top(cq, depth, translated))
        if not scores:
            return
        got = self.store.get_chunks(list(scores), where)
        for cid, meta, text in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
            if cid in visible:
                hits[cid] = Hit(cid, meta["source"], text, meta,
                                dense=centered.raw_similarity(cid, qvec), centred=scores[cid])

    def _fuse(self, hits: list[Hit], query: str) -> list[Hit]:
        by_dense = sorted(hits, key=lambda h: -h.similarity)
        if self.fusion == "dense":
            return by_dense
        if self.fusion == "bm25":
            return sorted((h for h in hits if h.bm25 > 0), key=lambda h: -h.bm25)
        if self.fusion == "rrf":
            return _rrf(by_dense)
        qlang = self._language(query)
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


def _rrf(by_dense: list[Hit], key: Callable[[Hit], float] = lambda h: h.bm25) -> list[Hit]:
    """Reciprocal-rank fusion of the dense order given and the BM25 order (by ``key``)."""
    bm25_rank = {h.id: r for r, h in enumerate(sorted(
        (h for h in by_dense if key(h) > 0), key=lambda h: -key(h)))}
    def score(item: tuple[int, Hit]) -> float:
        rank, hit = item
        lexical = bm25_rank.get(hit.id)
        return 1 / (RRF_K + rank) + (1 / (RRF_K + lexical) if lexical is not None else 0.0)
    return [h for _, h in sorted(enumerate(by_dense), key=score, reverse=True)]


class HybridRetriever(BaseRetriever):
    """LangChain face of the ``Searcher``: Documents with scores in their metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    searcher: Searcher
    k: int = 5
    filters: Filters = Filters()

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(page_content=h.text, id=h.id,
                     metadata={**h.metadata, "score": h.dense, "bm25": h.bm25,
                               **({"centred": h.centred} if h.centred is not None else {})})
            for h in self.searcher.search(query, self.k, self.filters)
        ]
