"""The centred vectors as a Chroma collection (``search.backend="chroma"``), so that Chroma's
HNSW finds the cross-lingual candidates instead of an exact product in every process.

``<name>_centred`` holds, per chunk id, ``unit(v - mean[lang])`` and the chunk's metadata
(the filters' keys), no text. The means are the **shipped** ones of the embedder's profile
(``language_stats.py``), not mixed with the corpus's own means (``centering_prior``): a
stored vector then never needs re-centring, whatever is ingested later; the tag below (model
and a digest of the means) changes only with a new profile or a regenerated means file, and
then the next ingest rewrites the whole collection (``backfill``) while the index is marked
``writing``. The choice and its cost in ranking: docs/scale.md, "Search in Chroma".

Written by the store with the chunks (``ChromaStore.mirror``), i.e. before the file's record
commits them: a reader sees a file whole or not at all exactly as on the snapshot path,
because it keeps only candidates that a committed record lists.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import Any

import numpy as np

from assistant.index.store import ChromaStore
from assistant.search.centering import Centering
from assistant.search.language_stats import LanguageMeans
from assistant.text.languages import UNKNOWN

_PAGE = 2000


FORMAT = 3  # of the stored vectors, metadata and graph: a new one rewrites the collection
# Centred vectors are spread thin (a question's best cosine is about 0.4): Chroma's default
# graph (16 neighbours, ef 100) missed a quarter of the exact top 360 at 50,000 chunks, and
# 32 neighbours with ef 200 still a tenth of the top 10 at 20,000; 48 neighbours built with
# ef 400 and searched with ef 1000 miss under 1% (recall@10 of the search 0.992; ef 300:
# 0.977) for a few ms more a query (bench/results.md, "Scale, search in Chroma").
# ``ef_search`` alone may be changed on a built collection (``collection.modify``).
HNSW = {"space": "cosine", "max_neighbors": 48, "ef_construction": 400, "ef_search": 1000}
NORM = "centred_norm"  # |v - mean[lang]|, so that raw = norm * centred + mean[lang]
# Metadata the filters read (``Filters.where``) and search needs; the rest (title, url,
# province list) stays in the chunks collection: Chroma's cost per result is mostly metadata.
_KEPT = ("source", "lang", "date", "restricted", "groups")


def _slim(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in meta.items() if k in _KEPT or k.startswith("province_")}


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

    @cached_property
    def collection(self) -> Any:
        return self.store._call(self.store.client.get_or_create_collection,
                                self.store.mirror_name, configuration={"hnsw": HNSW},
                                embedding_function=None)

    def forget(self) -> None:
        self.__dict__.pop("collection", None)

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
        shifts = [self.shift(lang) for lang in langs]
        # raw = norm * centred + shift: the raw cosine comes back without the raw vector.
        norms = [float(np.linalg.norm(v - s)) if s is not None else 1.0
                 for v, s in zip(vectors, shifts, strict=True)]
        self.store._call(self.collection.upsert, ids=ids,
                         metadatas=[{**_slim(m), NORM: n}
                                    for m, n in zip(metadatas, norms, strict=True)],
                         embeddings=self.centred(vectors, langs))

    def delete(self, ids: list[str]) -> None:
        if ids:
            self.store._call(self.collection.delete, ids=ids)

    def backfill(self, store: ChromaStore) -> None:
        """Make the collection match the chunks (after a writer without the mirror, or with
        other means): every chunk present with its current metadata, none that is gone;
        all re-centred when the means changed."""
        if store.state().get("mirrored_with", self.tag) != self.tag:
            store._call(store.client.delete_collection, store.mirror_name)
            self.forget()
        have: set[str] = set()
        offset = 0
        while got := store._call(self.collection.get, include=[], limit=_PAGE,
                                 offset=offset)["ids"]:
            have.update(got)
            offset += len(got)
        seen: set[str] = set()
        offset = 0
        while True:
            got = store._call(store.chunks.get, include=["metadatas", "embeddings"],
                              limit=_PAGE, offset=offset)
            ids, metas = got["ids"], got["metadatas"]
            if not ids:
                break
            offset += len(ids)
            seen.update(ids)
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
        store._set_state(mirrored_with=self.tag)


def attach(store: ChromaStore, model_id: str) -> CentredCollection:
    """Keep ``store``'s centred collection in step from now on (idempotent)."""
    if not isinstance(store.mirror, CentredCollection):
        store.mirror = CentredCollection(store, model_id)
    return store.mirror
