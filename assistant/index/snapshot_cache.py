"""Finding, building and saving snapshots (``snapshot.py``) of a Chroma store's committed
files: the newest saved one of the store's exact state is mapped; otherwise one is built,
reusing the rows of unchanged files from the newest saved one of the same collection, and
saved when no writer was active while it was read (see ``snapshot.py`` on consistency)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.index.snapshot import Blobs, DocEntry, Snapshot, empty_array, folder_name
from assistant.text.languages import UNKNOWN, tokenize

if TYPE_CHECKING:
    from assistant.index.store import ChromaStore, DocRecord

_FETCH = 500


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
        ids, langs, doc_of_row = [], [], empty_array(np.int32)
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
    matrix = np.concatenate(vectors) if vectors else empty_array(np.float32, 0, dimension)
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
            out[cid] = (str(meta.get("lang", UNKNOWN)), text or "", np.asarray(vec, np.float32),
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
        exact = Snapshot.load(self.root / folder_name(key))
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
        prefix = folder_name(f"{collection}-")
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
        prefix = folder_name(f"{collection}-")
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
