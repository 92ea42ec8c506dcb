"""What search reads, for one index revision, persisted and memory-mapped.

A snapshot holds, for every chunk of every committed file: its id, language, raw vector,
text and metadata, its file's filter fields (language, date, provinces) and its BM25 term
frequencies, as an inverted index scored at query time (idf and length from the
snapshot's own rows). Before this, every process rebuilt BM25 and read every vector from
Chroma on its first question (81 s at 100,000 chunks); now it maps a folder of arrays.

Consistency: a snapshot is derived from the committed file records only (``store``), and
a file enters it whole (all the chunks its record lists were read) or not at all. It is
saved under the key (docs-collection id, revision) and only while no writer is active
(``ChromaStore.begin_write`` marks the store, ``end_write`` bumps the revision again and
clears the mark). So a saved snapshot matches exactly one frozen state of the store: a
crash mid-ingest leaves the mark set and nothing is saved until a writer finishes; a
`reset` makes new collections, so no old key matches. An unsaved state is built in memory,
incrementally from the newest saved snapshot of the same collection.

Where it lives: beside an embedded index (``index/snapshots``), or, with a Chroma server,
in a local cache folder per server and collection (``data/index-cache``): each app process
keeps its own and updates it by the files that changed (see docs/scale.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from assistant.access import User

FORMAT = 2
K1, B = 1.5, 0.75  # bm25s defaults ("lucene"), the scores the in-memory BM25 gave


@dataclass(frozen=True)
class DocEntry:
    source: str
    sha256: str
    chunk_ids: tuple[str, ...]
    language: str
    date: int  # YYYYMMDD, 0: unknown
    provinces: tuple[str, ...]
    groups: tuple[str, ...] = ()  # who may read it; empty: everyone


def empty_array(dtype: Any, *shape: int) -> np.ndarray:
    return np.zeros(shape or (0,), dtype=dtype)


class Blobs:
    """Strings as one UTF-8 byte array and offsets (mappable; one string decoded at a time)."""

    def __init__(self, ptr: np.ndarray, data: np.ndarray) -> None:
        self.ptr, self.data = ptr, data

    @classmethod
    def of(cls, items: Sequence[str]) -> Blobs:
        encoded = [x.encode("utf-8") for x in items]
        ptr = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=ptr[1:])
        return cls(ptr, np.frombuffer(b"".join(encoded), dtype=np.uint8).copy())

    def __getitem__(self, i: int) -> str:
        return bytes(self.data[self.ptr[i] : self.ptr[i + 1]]).decode("utf-8")

    def keep(self, rows: np.ndarray) -> Blobs:
        """The strings of the rows where ``rows`` (a boolean array) is True, in order."""
        lengths = np.diff(self.ptr)
        ptr = np.zeros(int(rows.sum()) + 1, dtype=np.int64)
        np.cumsum(lengths[rows], out=ptr[1:])
        return Blobs(ptr, np.asarray(self.data)[np.repeat(rows, lengths)])

    def extend(self, items: Sequence[str]) -> Blobs:
        more = Blobs.of(items)
        return Blobs(np.concatenate([self.ptr, self.ptr[-1] + more.ptr[1:]]),
                     np.concatenate([np.asarray(self.data), more.data]))


class Snapshot:
    """Arrays of one revision; rows are chunks. Read-only once built."""

    def __init__(self, key: str, revision: int, docs: list[DocEntry], ids: list[str],
                 langs: list[str], doc_of_row: np.ndarray, vectors: np.ndarray,
                 vocab: list[str], fwd_ptr: np.ndarray, fwd_term: np.ndarray,
                 fwd_tf: np.ndarray, inv: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                 doc_len: np.ndarray | None = None, folder: Path | None = None,
                 texts: Blobs | None = None, metas: Blobs | None = None) -> None:
        self.key, self.revision, self.docs, self.ids, self.langs = key, revision, docs, ids, langs
        self.doc_of_row, self.vectors, self.vocab = doc_of_row, vectors, vocab
        self.fwd_ptr, self.fwd_term, self.fwd_tf = fwd_ptr, fwd_term, fwd_tf
        self.folder = folder
        # Each chunk's text and Chroma metadata (JSON): search needs no Chroma round trip.
        self.texts = texts or Blobs.of([""] * len(ids))
        self.metas = metas or Blobs.of(["{}"] * len(ids))
        self.row = {cid: i for i, cid in enumerate(ids)}
        self.visible = frozenset(ids)
        self.term_id = {t: i for i, t in enumerate(vocab)}
        # A row's length is all its tokens (tf summed), as bm25s counts it.
        self.doc_len = doc_len if doc_len is not None else np.bincount(
            np.repeat(np.arange(len(ids)), np.diff(fwd_ptr)), weights=fwd_tf,
            minlength=len(ids)).astype(np.float32)
        if inv is None:
            inv = _invert(fwd_ptr, fwd_term, fwd_tf, len(vocab))
        self.inv_ptr, self.inv_row, self.inv_tf = inv

    def __len__(self) -> int:
        return len(self.ids)

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Any]:
        """Like ``ChromaStore.get_chunks`` (ids, metadatas, documents), from the snapshot:
        only chunks it holds, i.e. of files committed at its revision."""
        rows = [self.row[i] for i in ids if i in self.row]
        return {"ids": [self.ids[r] for r in rows],
                "metadatas": [json.loads(self.metas[r]) for r in rows],
                "documents": [self.texts[r] for r in rows]}

    # -- BM25 ------------------------------------------------------------------------------
    def bm25_scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 of every row for these query tokens (repeats count, as in bm25s)."""
        n = len(self.ids)
        scores = np.zeros(n, dtype=np.float32)
        if not n:
            return scores
        avg = float(self.doc_len.mean()) or 1.0
        norm: np.ndarray | None = None
        for token in tokens:
            term = self.term_id.get(token)
            if term is None:
                continue
            lo, hi = int(self.inv_ptr[term]), int(self.inv_ptr[term + 1])
            if lo == hi:
                continue
            if norm is None:
                norm = K1 * ((1 - B) + B * self.doc_len / avg)
            rows = self.inv_row[lo:hi]
            tf = self.inv_tf[lo:hi]
            df = hi - lo
            idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
            scores[rows] += (idf * tf / (norm[rows] + tf)).astype(np.float32)
        return scores

    # -- filter fields, as arrays (what a filter mask is computed from) ---------------------
    @cached_property
    def doc_dates(self) -> np.ndarray:
        return np.array([d.date for d in self.docs], dtype=np.int32)

    @cached_property
    def lang_stats(self) -> tuple[dict[str, np.ndarray], dict[str, int]]:
        """Per chunk language: the sum of the raw vectors and their count (what centering
        needs; saved, so a new process never reads the raw vectors)."""
        if self.folder is not None and (self.folder / "stats.json").is_file():
            saved = json.loads((self.folder / "stats.json").read_text(encoding="utf-8"))
            return ({k: np.asarray(v, np.float32) for k, v in saved["sums"].items()},
                    {k: int(v) for k, v in saved["counts"].items()})
        names, codes = self.lang_codes
        sums, counts = {}, {}
        for i, lang in enumerate(names):
            rows = np.flatnonzero(codes == i)
            sums[lang] = np.asarray(self.vectors[rows], np.float64).sum(axis=0).astype(np.float32)
            counts[lang] = len(rows)
        return sums, counts

    @cached_property
    def lang_codes(self) -> tuple[list[str], np.ndarray]:
        """The chunk languages, and each row's index into them."""
        names = sorted(set(self.langs))
        code = {lang: i for i, lang in enumerate(names)}
        return names, np.fromiter((code[x] for x in self.langs), np.int16, len(self.langs))

    def readable(self, user: User) -> np.ndarray:
        """Per file: may ``user`` read it (see ``User.may_read``)."""
        return np.fromiter((user.may_read(d.groups) for d in self.docs), bool, len(self.docs))

    @cached_property
    def province_docs(self) -> dict[str, np.ndarray]:
        """Province -> indices of the files about it."""
        out: dict[str, list[int]] = {}
        for i, d in enumerate(self.docs):
            for p in d.provinces:
                out.setdefault(p, []).append(i)
        return {p: np.asarray(ix, np.int32) for p, ix in out.items()}

    # -- persistence -------------------------------------------------------------------------
    def save(self, root: Path) -> Path | None:
        """Write to ``root/snap-<key>``; atomic (a temporary folder renamed). None if present."""
        root.mkdir(parents=True, exist_ok=True)
        final = root / folder_name(self.key)
        if final.exists():
            return None
        tmp = root / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            arrays = {"vectors": self.vectors, "doc_of_row": self.doc_of_row,
                      "fwd_ptr": self.fwd_ptr, "fwd_term": self.fwd_term, "fwd_tf": self.fwd_tf,
                      "inv_ptr": self.inv_ptr, "inv_row": self.inv_row, "inv_tf": self.inv_tf,
                      "doc_len": self.doc_len, "text_ptr": self.texts.ptr,
                      "text_data": self.texts.data, "meta_ptr": self.metas.ptr,
                      "meta_data": self.metas.data}
            for name, array in arrays.items():
                np.save(tmp / f"{name}.npy", np.ascontiguousarray(array))
            (tmp / "ids.json").write_text(json.dumps({"ids": self.ids, "langs": self.langs,
                                                      "vocab": self.vocab}), encoding="utf-8")
            sums, counts = self.lang_stats
            (tmp / "stats.json").write_text(json.dumps(
                {"sums": {k: v.tolist() for k, v in sums.items()}, "counts": counts}),
                encoding="utf-8")
            meta = {"format": FORMAT, "key": self.key, "revision": self.revision,
                    "docs": [[d.source, d.sha256, list(d.chunk_ids), d.language, d.date,
                              list(d.provinces), list(d.groups)] for d in self.docs]}
            # meta.json last: a folder without it is incomplete and never loaded.
            (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
            try:
                tmp.rename(final)
            except OSError:  # another process saved the same revision first
                return None
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return final

    @classmethod
    def load(cls, folder: Path) -> Snapshot | None:
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT:
                return None
            names = json.loads((folder / "ids.json").read_text(encoding="utf-8"))

            def arr(name: str) -> np.ndarray:
                # A plain view of the map (indexing a np.memmap object is slow).
                return np.asarray(np.load(folder / f"{name}.npy", mmap_mode="r"))

            # Saved before groups existed: six fields, no groups (readable by everyone).
            docs = [DocEntry(s, h, tuple(c), lang, int(d), tuple(p), tuple(g[0]) if g else ())
                    for s, h, c, lang, d, p, *g in meta["docs"]]
            return cls(meta["key"], int(meta["revision"]), docs, names["ids"], names["langs"],
                       np.asarray(arr("doc_of_row")), arr("vectors"), names["vocab"],
                       np.asarray(arr("fwd_ptr")), arr("fwd_term"), arr("fwd_tf"),
                       inv=(np.asarray(arr("inv_ptr")), arr("inv_row"), arr("inv_tf")),
                       doc_len=np.asarray(arr("doc_len")), folder=folder,
                       texts=Blobs(arr("text_ptr"), arr("text_data")),
                       metas=Blobs(arr("meta_ptr"), arr("meta_data")))
        except (OSError, ValueError, KeyError):
            return None


def folder_name(key: str) -> str:
    # The format is in the name: a folder of another format is never mistaken for this one.
    return f"snap{FORMAT}-" + re.sub(r"[^0-9A-Za-z_.-]", "_", key)


def _invert(fwd_ptr: np.ndarray, fwd_term: np.ndarray, fwd_tf: np.ndarray, n_terms: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.repeat(np.arange(len(fwd_ptr) - 1, dtype=np.int32), np.diff(fwd_ptr))
    order = np.argsort(fwd_term, kind="stable")
    counts = np.bincount(fwd_term, minlength=n_terms) if len(fwd_term) else \
        np.zeros(n_terms, np.int64)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return ptr, rows[order].astype(np.int32), np.asarray(fwd_tf)[order].astype(np.float32)
