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
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.text.languages import tokenize

if TYPE_CHECKING:
    from assistant.access import User
    from assistant.index.store import ChromaStore, DocRecord

FORMAT = 2
K1, B = 1.5, 0.75  # bm25s defaults ("lucene"), the scores the in-memory BM25 gave
_FETCH = 500


@dataclass(frozen=True)
class DocEntry:
    source: str
    sha256: str
    chunk_ids: tuple[str, ...]
    language: str
    date: int  # YYYYMMDD, 0: unknown
    provinces: tuple[str, ...]
    groups: tuple[str, ...] = ()  # who may read it; empty: everyone


def _empty(dtype: Any, *shape: int) -> np.ndarray:
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
        final = root / _folder_name(self.key)
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


def _folder_name(key: str) -> str:
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


def _entry(record: DocRecord) -> DocEntry:
    from assistant.text import dates

    return DocEntry(record.source, record.sha256, tuple(record.chunk_ids), record.language,
                    (dates.to_int(record.date) or 0) if record.date else 0,
                    tuple(record.provinces), tuple(record.groups))


def build(store: ChromaStore, key: str, revision: int, records: Sequence[DocRecord],
          previous: Snapshot | None, dimension: int) -> Snapshot:
    """The snapshot of ``records``, reusing ``previous``'s rows of files that did not change;
    the chunks of the others are read from Chroma and tokenized."""
    entries = [_entry(r) for r in sorted(records, key=lambda r: r.source)]
    prev_docs = {d.source: i for i, d in enumerate(previous.docs)} if previous else {}
    reused: dict[str, int] = {}
    wanted: list[str] = []
    for e in entries:
        i = prev_docs.get(e.source)
        if previous is not None and i is not None and previous.docs[i] == e:
            reused[e.source] = i
        else:
            wanted += e.chunk_ids
    fetched = _fetch(store, wanted)

    # A file enters whole or not at all: every chunk its record lists must be there.
    docs: list[DocEntry] = []
    new_rows: list[tuple[int, str, str, str, np.ndarray, str]] = []
    # (doc, id, lang, text, vector, metadata as JSON)
    keep_prev_doc = np.full(len(previous.docs) if previous else 0, -1, dtype=np.int32)
    for e in entries:
        if e.source in reused:
            keep_prev_doc[reused[e.source]] = len(docs)
            docs.append(e)
        elif all(c in fetched for c in e.chunk_ids):
            for cid in e.chunk_ids:
                lang, text, vec, meta = fetched[cid]
                new_rows.append((len(docs), cid, lang, text, vec, meta))
            docs.append(e)

    vocab = list(previous.vocab) if previous else []
    term_id = dict(previous.term_id) if previous else {}
    if previous is not None and len(previous):
        keep = keep_prev_doc[previous.doc_of_row] >= 0
        ids = [cid for cid, k in zip(previous.ids, keep, strict=True) if k]
        langs = [lang for lang, k in zip(previous.langs, keep, strict=True) if k]
        doc_of_row = keep_prev_doc[previous.doc_of_row[keep]]
        vectors = [np.asarray(previous.vectors[keep], dtype=np.float32)]
        lengths = np.diff(previous.fwd_ptr)
        entry_keep = np.repeat(keep, lengths)
        terms = [np.asarray(previous.fwd_term[entry_keep], dtype=np.int32)]
        tfs = [np.asarray(previous.fwd_tf[entry_keep], dtype=np.uint16)]
        row_lengths = [lengths[keep]]
        texts, metas = previous.texts.keep(keep), previous.metas.keep(keep)
    else:
        texts, metas = Blobs.of([]), Blobs.of([])
        ids, langs, doc_of_row = [], [], _empty(np.int32)
        vectors, terms, tfs, row_lengths = [], [], [], []
    new_docs, new_len, new_terms, new_tfs = [], [], [], []
    for doc, cid, lang, text, _vec, _meta in new_rows:
        counts = Counter(tokenize(text))
        for token in counts:
            if token not in term_id:
                term_id[token] = len(vocab)
                vocab.append(token)
        ids.append(cid)
        langs.append(lang)
        new_docs.append(doc)
        new_len.append(len(counts))
        new_terms += [term_id[t] for t in counts]
        new_tfs += [min(c, 65535) for c in counts.values()]
    if new_rows:
        vectors.append(np.asarray([r[4] for r in new_rows], dtype=np.float32))
        doc_of_row = np.concatenate([doc_of_row, np.asarray(new_docs, np.int32)])
    terms.append(np.asarray(new_terms, np.int32))
    tfs.append(np.asarray(new_tfs, np.uint16))
    row_lengths.append(np.asarray(new_len, np.int64))
    fwd_ptr = np.concatenate([[0], np.cumsum(np.concatenate(row_lengths))]).astype(np.int64)
    matrix = np.concatenate(vectors) if vectors else _empty(np.float32, 0, dimension)
    return Snapshot(key, revision, docs, ids, langs, doc_of_row.astype(np.int32), matrix,
                    vocab, fwd_ptr, np.concatenate(terms), np.concatenate(tfs),
                    texts=texts.extend([r[3] for r in new_rows]),
                    metas=metas.extend([r[5] for r in new_rows]))


def _fetch(store: ChromaStore, ids: list[str]
           ) -> dict[str, tuple[str, str, np.ndarray, str]]:
    out: dict[str, tuple[str, str, np.ndarray, str]] = {}
    for start in range(0, len(ids), _FETCH):
        got = store.get_chunks(ids[start : start + _FETCH], None, embeddings=True)
        for cid, meta, text, vec in zip(got["ids"], got["metadatas"], got["documents"],
                                        got["embeddings"], strict=True):
            meta = meta or {}
            out[cid] = (str(meta.get("lang", "und")), text or "", np.asarray(vec, np.float32),
                        json.dumps(meta, ensure_ascii=False))
    return out


class SnapshotCache:
    """Finds, builds and saves snapshots in one folder (see the module's docstring)."""

    def __init__(self, root: Path, keep: int = 2) -> None:
        self.root = root
        self.keep = keep

    def current(self, store: ChromaStore) -> Snapshot:
        collection, revision, writing = store.identity()
        key = f"{collection}-{revision}"
        exact = Snapshot.load(self.root / _folder_name(key))
        if exact is not None and exact.key == key:
            return exact
        previous = self.latest(collection)
        records = store.documents()
        dimension = int(store.state().get("dimension", 0))
        snap = build(store, key, revision, records, previous, dimension)
        # Saved only for a frozen state: the store unchanged while we read it, no writer.
        if not writing and store.identity() == (collection, revision, False):
            saved = snap.save(self.root)
            self.prune(collection)
            if saved is not None:
                return Snapshot.load(saved) or snap  # mapped: its pages are shareable
        return snap

    def latest(self, collection: str) -> Snapshot | None:
        prefix = _folder_name(f"{collection}-")
        best: tuple[int, Path] | None = None
        if self.root.is_dir():
            for folder in self.root.iterdir():
                tail = folder.name[len(prefix):]
                if folder.name.startswith(prefix) and tail.isdigit() and \
                        (best is None or int(tail) > best[0]):
                    best = (int(tail), folder)
        return Snapshot.load(best[1]) if best else None

    def prune(self, collection: str) -> None:
        """Keep the newest few of this collection; drop other collections' (after a reset)."""
        if not self.root.is_dir():
            return
        prefix = _folder_name(f"{collection}-")
        mine = sorted((f for f in self.root.iterdir() if f.name.startswith(prefix)),
                      key=lambda f: int(f.name[len(prefix):] or 0) if
                      f.name[len(prefix):].isdigit() else -1)
        others = [f for f in self.root.iterdir()
                  if f.name.startswith("snap") and not f.name.startswith(prefix)]
        for folder in mine[: -self.keep] + others:
            # Safe under readers: a mapped file outlives its directory entry.
            shutil.rmtree(folder, ignore_errors=True)

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
