"""The centred vectors as a Chroma collection (``search.backend="chroma"``), so that Chroma's
HNSW finds the cross-lingual candidates instead of an exact product in every process.

``<name>_centred`` holds, per chunk id, ``unit(v - mean[lang])`` and the chunk's metadata
(the filters' keys), no text. ``<name>_centred_raw_<lang>``, one per language, holds the raw
vectors of that language's chunks (ids and vectors only): the question's own language is
ranked in plain dense order, and a collection of that language alone needs no ``where``
(which makes Chroma scan the language's rows) and no fallback. The vectors are centred with
the **shipped** means of the embedder's profile (``language_stats.py``): a stored vector
then never needs re-centring, whatever is ingested later; the tag below (model and a digest
of the means) changes only with a new profile or a regenerated means file, and then the next
ingest rewrites the whole collection (``backfill``) while the index is marked ``writing``.
The corpus's own per-language sums and counts (what ``centering_prior`` mixes in on the
snapshot path) are kept in the collection's metadata, updated by every write and delete:
search re-centres its few hundred candidates with the combined means exactly, so it ranks as
the snapshot path does (docs/scale.md, "Search in Chroma").

Written by the store with the chunks (``ChromaStore.mirror``), i.e. before the file's record
commits them: a reader sees a file whole or not at all exactly as on the snapshot path,
because it keeps only candidates that a committed record lists.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property
from typing import Any

import numpy as np

from assistant.index.store import ChromaStore
from assistant.search.centering import Centering
from assistant.search.language_stats import LanguageMeans
from assistant.text.languages import UNKNOWN

_PAGE = 2000


FORMAT = 5  # of the stored vectors, metadata and graph: a new one rewrites the collection
# Centred vectors are spread thin (a question's best cosine is about 0.4): Chroma's default
# graph (16 neighbours, ef 100) missed a quarter of the exact top 360 at 50,000 chunks, and
# 32 neighbours with ef 200 still a tenth of the top 10 at 20,000; 48 neighbours built with
# ef 400 and searched with ef 1000 miss under 1% (recall@10 of the search 0.992; ef 300:
# 0.977) for a few ms more a query (bench/results.md, "Scale, search in Chroma").
# ``ef_search`` alone may be changed on a built collection (``collection.modify``).
HNSW = {"space": "cosine", "max_neighbors": 48, "ef_construction": 400, "ef_search": 1000}
# Raw vectors are not spread thin: Chroma's default graph finds them, as in the chunks'.
OWN_HNSW = {"space": "cosine"}
NORM = "centred_norm"  # |v - mean[lang]|, so that raw = norm * centred + mean[lang]
STATS = "corpus_stats"  # collection metadata: the raw vectors' sums and counts per language
# Metadata the filters read (``Filters.where``) and search needs; the rest (title, url,
# province list) stays in the chunks collection: Chroma's cost per result is mostly metadata.
_KEPT = ("source", "lang", "date", "restricted", "groups")


def _slim(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in meta.items() if k in _KEPT or k.startswith("province_")}


def _accumulate(sums: dict[str, np.ndarray], counts: dict[str, int], vectors: np.ndarray,
                languages: list[str], sign: int) -> None:
    """Add (sign 1) or take away (-1) ``vectors`` from per-language sums and counts."""
    for lang in set(languages) - {UNKNOWN}:
        rows = [i for i, x in enumerate(languages) if x == lang]
        total = np.asarray(vectors[rows], np.float64).sum(axis=0)
        sums[lang] = sums.get(lang, np.zeros_like(total)) + sign * total
        counts[lang] = counts.get(lang, 0) + sign * len(rows)


def means_tag(model_id: str, means: LanguageMeans) -> str:
    """Model and means the stored vectors were centred with."""
    digest = hashlib.sha256(model_id.encode())
    for lang in sorted(means.passage):
        digest.update(lang.encode() + np.asarray(means.passage[lang], np.float32).tobytes())
    return f"{model_id}#{FORMAT}-{digest.hexdigest()[:12]}"


class CentredCollection:
    """The store's mirror: centred copies of the chunk vectors, keyed by chunk id."""

    def __init__(self, store: ChromaStore, model_id: str) -> None:
        self.store = store
        self.means = LanguageMeans.shipped(model_id)
        self.centering = Centering(self.means)
        self.tag = means_tag(model_id, self.means)
        self._own: dict[str, Any] = {}  # language -> handle (a reset clears it)

    @cached_property
    def collection(self) -> Any:
        return self.store._call(self.store.client.get_or_create_collection,
                                self.store.mirror_name, configuration={"hnsw": HNSW},
                                embedding_function=None)

    def own(self, language: str) -> Any:
        """The raw vectors of ``language``'s chunks (created empty on first use)."""
        handle = self._own.get(language)
        if handle is None:
            handle = self._own[language] = self.store._call(
                self.store.client.get_or_create_collection, self.own_name(language),
                configuration={"hnsw": OWN_HNSW}, embedding_function=None)
        return handle

    def own_name(self, language: str) -> str:
        return f"{self.store.mirror_name}_raw_{re.sub(r'[^A-Za-z0-9]', '', language)}"

    def forget(self) -> None:
        self.__dict__.pop("collection", None)
        self._own.clear()

    def load(self, probe: np.ndarray) -> None:
        """Have Chroma load now what a first question would wait for (docs/scale.md): each
        mirror collection's HNSW graph, loaded on its first query, and the segments a
        collection opens on its first read (0.5 s for the chunks at 100,000). One query per
        mirror collection, one row read of each collection a question reads; none created."""
        for name in self.store.mirror_collections():
            handle = self.collection if name == self.store.mirror_name else self.store._call(
                self.store.client.get_collection, name, embedding_function=None)
            if self.store._call(handle.count):
                self.store._call(handle.query, query_embeddings=[probe.tolist()],
                                 n_results=1, include=[])
        for handle in (self.collection, self.store.chunks, self.store.docs):
            self.store._call(handle.get, limit=1, include=["documents", "metadatas"])

    def drop(self) -> None:
        """Delete the centred collection and every language's raw one (``reset``, or other
        means: rewritten whole)."""
        for name in self.store.mirror_collections():
            self.store._call(self.store.client.delete_collection, name)
        self.forget()

    # -- the corpus's per-language statistics ---------------------------------------------
    def stats(self) -> tuple[dict[str, np.ndarray], dict[str, int]]:
        """Per language (not ``unknown``): the sum of the chunks' raw vectors, and their
        count; read fresh (the cached handle's metadata is as it was when opened)."""
        meta = self.store._call(self.store.client.get_collection, self.store.mirror_name,
                                embedding_function=None).metadata or {}
        saved = json.loads(str(meta.get(STATS) or "{}"))
        return ({k: np.asarray(v, np.float64) for k, v in saved.get("sums", {}).items()},
                {k: int(v) for k, v in saved.get("counts", {}).items()})

    def _save_stats(self, sums: dict[str, np.ndarray], counts: dict[str, int]) -> None:
        kept = [lang for lang, n in counts.items() if n > 0]
        self.store._call(self.collection.modify, metadata={STATS: json.dumps({
            "sums": {k: sums[k].tolist() for k in kept},
            "counts": {k: counts[k] for k in kept}})})

    def _count(self, *changes: tuple[np.ndarray, list[str], int]) -> None:
        """Add (sign 1) or take away (sign -1) raw vectors from the saved statistics:
        ``(vectors, languages, sign)`` each."""
        if not any(len(languages) for _, languages, _ in changes):
            return
        sums, counts = self.stats()
        for vectors, languages, sign in changes:
            _accumulate(sums, counts, vectors, languages, sign)
        self._save_stats(sums, counts)

    def _held(self, ids: list[str]) -> tuple[list[str], np.ndarray, list[str]]:
        """The ids held of ``ids``, their raw vectors (from norm, centred vector and
        language) and languages."""
        got = self.store._call(self.collection.get, ids=ids,
                               include=["metadatas", "embeddings"])
        langs = [str(m.get("lang", UNKNOWN)) for m in got["metadatas"]]
        if not langs:
            return [], np.empty((0, 0), np.float32), []
        centred = np.asarray(got["embeddings"], np.float32)
        norms = np.asarray([float(m.get(NORM, 1.0)) for m in got["metadatas"]], np.float32)
        shifts = np.stack([self.shift_or_zero(lang, centred.shape[1]) for lang in langs])
        return list(got["ids"]), norms[:, None] * centred + shifts, langs

    def shift_or_zero(self, language: str, dim: int) -> np.ndarray:
        shift = self.shift(language)
        return np.zeros(dim, np.float32) if shift is None else shift

    def centred(self, vectors: np.ndarray, languages: list[str]) -> np.ndarray:
        return self.centering.passages(np.asarray(vectors, np.float32), languages)

    def shift(self, language: str) -> np.ndarray | None:
        return self.centering.passage_shift(language)

    def write(self, ids: list[str], metadatas: list[dict[str, Any]],
              embeddings: np.ndarray | None) -> None:
        if not ids:
            return
        if embeddings is None:  # metadata refresh (groups, province keys): same vectors
            self.store._call(self.collection.update, ids=ids,
                             metadatas=[_slim(m) for m in metadatas])
            return
        langs = [str(m.get("lang", UNKNOWN)) for m in metadatas]
        vectors = np.asarray(embeddings, np.float32)
        old_ids, old, old_langs = self._held(ids)  # an upsert replaces them: counted out
        shifts = [self.shift(lang) for lang in langs]
        # raw = norm * centred + shift: the raw cosine comes back without the raw vector.
        norms = [float(np.linalg.norm(v - s)) if s is not None else 1.0
                 for v, s in zip(vectors, shifts, strict=True)]
        self.store._call(self.collection.upsert, ids=ids,
                         metadatas=[{**_slim(m), NORM: n}
                                    for m, n in zip(metadatas, norms, strict=True)],
                         embeddings=self.centred(vectors, langs))
        held = dict(zip(old_ids, old_langs, strict=True))
        moved = [cid for cid, lang in zip(ids, langs, strict=True)
                 if cid in held and held[cid] != lang]
        self._drop_own(moved, [held[cid] for cid in moved])  # its language changed
        for lang in set(langs) - {UNKNOWN}:
            rows = [i for i, x in enumerate(langs) if x == lang]
            self.store._call(self.own(lang).upsert, ids=[ids[i] for i in rows],
                             embeddings=vectors[rows])
        self._count((old, old_langs, -1), (vectors, langs, 1))

    def _drop_own(self, ids: list[str], languages: list[str]) -> None:
        for lang in set(languages) - {UNKNOWN}:
            self.store._call(self.own(lang).delete,
                             ids=[cid for cid, x in zip(ids, languages, strict=True) if x == lang])

    def delete(self, ids: list[str]) -> None:
        if ids:
            old_ids, old, old_langs = self._held(ids)
            self.store._call(self.collection.delete, ids=ids)
            self._drop_own(old_ids, old_langs)
            self._count((old, old_langs, -1))

    def backfill(self) -> None:
        """Make the collection match the chunks (after a writer without the mirror, or with
        other means): every chunk present with its current metadata, none that is gone;
        all re-centred when the means changed."""
        store = self.store
        if store.state().get("mirrored_with", self.tag) != self.tag:
            self.drop()
        have: set[str] = set()
        offset = 0
        while got := store._call(self.collection.get, include=[], limit=_PAGE,
                                 offset=offset)["ids"]:
            have.update(got)
            offset += len(got)
        seen: set[str] = set()
        sums: dict[str, np.ndarray] = {}
        counts: dict[str, int] = {}
        offset = 0
        while True:
            got = store._call(store.chunks.get, include=["metadatas", "embeddings"],
                              limit=_PAGE, offset=offset)
            ids, metas = got["ids"], got["metadatas"]
            if not ids:
                break
            offset += len(ids)
            seen.update(ids)
            _accumulate(sums, counts, np.asarray(got["embeddings"], np.float32),
                        [str(m.get("lang", UNKNOWN)) for m in metas], 1)
            new = [i for i, cid in enumerate(ids) if cid not in have]
            old = [i for i, cid in enumerate(ids) if cid in have]
            if new:
                self.write([ids[i] for i in new], [metas[i] for i in new],
                           np.asarray([got["embeddings"][i] for i in new], np.float32))
            # A writer without the mirror may have changed metadata (groups): refresh it.
            self.write([ids[i] for i in old], [metas[i] for i in old], None)
        gone = sorted(have - seen)
        for start in range(0, len(gone), _PAGE):
            self.delete(gone[start : start + _PAGE])
        self._save_stats(sums, counts)  # counted afresh: whatever the writers before did
        store._set_state(mirrored_with=self.tag)


class Recentring:
    """The corpus's means as the snapshot path combines them (``LanguageMeans.combined``),
    applied to candidates that were centred with the shipped means: ``v - m' = norm *
    centred + (m - m')``. One per revision of the index (the statistics move with writes)."""

    def __init__(self, collection: CentredCollection, prior: float) -> None:
        sums, counts = collection.stats()
        self.counts = counts
        self.mean = {lang: (sums[lang] / n).astype(np.float32)
                     for lang, n in counts.items() if n > 0}
        self.centering = Centering(collection.means.combined(
            {k: v.astype(np.float32) for k, v in sums.items()}, counts, prior))
        self._collection = collection
        self._delta: dict[str, np.ndarray] = {}

    def delta(self, language: str, dim: int) -> np.ndarray:
        """Shipped minus combined passage mean of ``language``."""
        if language not in self._delta:
            combined = self.centering.passage_shift(language)
            self._delta[language] = self._collection.shift_or_zero(language, dim) - \
                (np.zeros(dim, np.float32) if combined is None else combined)
        return self._delta[language]

    def passages(self, centred: np.ndarray, norms: np.ndarray,
                 languages: list[str]) -> np.ndarray:
        """The candidates centred with the combined means (unit rows)."""
        if not len(languages):
            return centred
        dim = centred.shape[1]
        moved = norms[:, None] * centred + np.stack([self.delta(x, dim) for x in languages])
        return (moved / np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-12)
                ).astype(np.float32)


def attach(store: ChromaStore, model_id: str) -> CentredCollection:
    """Keep ``store``'s centred collection in step from now on (idempotent)."""
    if not isinstance(store.mirror, CentredCollection):
        store.mirror = CentredCollection(store, model_id)
    return store.mirror
