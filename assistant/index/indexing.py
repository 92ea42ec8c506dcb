"""Indexing: files into the store, incrementally.

New and changed files are chunked and embedded (only chunks not already held); deleted
files' chunks are removed; unchanged files are skipped without even loading the model.
Each file is committed on its own (see ``store``), so one bad file never costs the others.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from assistant.config import Settings
from assistant.errors import DocumentError, InputError
from assistant.index.embedding import LocalEmbeddings
from assistant.index.snapshot_cache import SnapshotCache
from assistant.index.store import (
    SCHEMA,
    ChromaStore,
    DocRecord,
    group_metadata,
    province_field,
)
from assistant.ingest.chunking import Chunk, Chunker
from assistant.ingest.loading import (
    SUPPORTED_SUFFIXES,
    LoadedDocument,
    file_sha256,
    load,
)
from assistant.ingest.metadata import METADATA_FILE, sidecar_groups
from assistant.ingest.ocr import OcrOptions
from assistant.text import dates


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unsupported types inside a folder
    warnings: list[tuple[str, str]] = field(default_factory=list)  # indexed, with a caveat
    chunks_embedded: int = 0
    chunks_reused: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated",
                 f"{len(self.unchanged)} unchanged", f"{len(self.removed)} removed"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped (unsupported type)")
        head = ", ".join(parts)
        notes = "".join(f"\nWarning: {source}: {why}" for source, why in self.warnings)
        if self.chunks_embedded == 0 and not self.removed and not self.failed:
            return f"Nothing to embed: {head}.{notes}"
        return (f"{head}; {self.chunks_embedded} chunks embedded, {self.chunks_reused} reused "
                f"in {self.seconds:.1f} s.{notes}")


@dataclass
class _Target:
    path: Path
    source: str


@dataclass
class _Prepared:
    """A file loaded and chunked, waiting for its share of an embedding call."""

    target: _Target
    doc: LoadedDocument
    chunks: list[Chunk]
    metadatas: list[dict[str, Any]]
    new: list[int]  # positions of chunks the store does not hold yet
    updating: bool


class Indexer:
    def __init__(self, settings: Settings, store: ChromaStore,
                 embedder: LocalEmbeddings) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self._writing = False

    def _begin(self) -> None:
        """Before the first change to the store in a run (see ``ChromaStore.begin_write``)."""
        if not self._writing:
            self.store.begin_write()
            self._writing = True

    def _end(self) -> None:
        self.collect_garbage()
        self.store.end_write()
        self._writing = False
        # Readers (this process, or any sharing the cache folder) then map it at once.
        SnapshotCache(self.store.snapshot_root()).current(self.store)

    def migrate(self) -> int:
        """Bring an index of schema 1 to the current one: province keys on every chunk
        (metadata only, no re-embedding). Returns the chunks updated."""
        if self.store.schema() >= SCHEMA:
            return 0
        self._begin()
        updated = 0
        for record in self.store.documents():
            got = self.store.get_chunks(record.chunk_ids, None)
            metas = [{**(m or {}), **{province_field(p): True
                                      for p in (m or {}).get("provinces", [])}}
                     for m in got["metadatas"]]
            if got["ids"]:
                self.store.write_chunks(list(got["ids"]), [], metas, None)
                updated += len(got["ids"])
        self.store._set_state(schema=SCHEMA)
        return updated

    def discover(self, paths: Iterable[Path]) -> tuple[list[_Target], list[Path], list[str]]:
        """Files to index, the folders they came from, and unsupported files skipped."""
        targets: list[_Target] = []
        roots: list[Path] = []
        skipped: list[str] = []
        for raw in paths:
            path = Path(raw).expanduser()
            if path.is_dir():
                root = path.resolve()
                roots.append(root)
                for file in sorted(root.rglob("*")):
                    rel = file.relative_to(root)
                    if not file.is_file() or any(p.startswith(".") for p in rel.parts):
                        continue
                    if file.name == METADATA_FILE:
                        continue
                    if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                        skipped.append(rel.as_posix())
                        continue
                    targets.append(_Target(file, rel.as_posix()))
            elif path.is_file() or path.suffix:
                targets.append(_Target(path, self._source_for(path)))
            else:
                raise InputError(f"No such file or folder: {path}")
        return targets, roots, skipped

    def _source_for(self, path: Path) -> str:
        resolved = path.resolve()
        corpus = self.settings.corpus_dir.resolve()
        if resolved.is_relative_to(corpus):
            return resolved.relative_to(corpus).as_posix()
        return path.name

    def ingest(self, paths: Iterable[Path], progress: bool = False) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        targets, roots, report.skipped = self.discover(paths)
        committed = {r.source: r for r in self.store.documents()}
        if committed:
            # Even when nothing needs embedding: say so if another embedder built the index.
            self.store.verify_embedder(self.embedder.model_id)
            self.migrate()  # old indexes get their filter keys before anything is added
            if self.store.mirror_stale():
                self._begin()  # its end makes the mirror whole, even if nothing else changes
        pending: list[_Prepared] = []
        # Several files share one embedding call (small calls cost the model dearly);
        # each file is still committed on its own, after its vectors are written.
        flush_at = 4 * self.embedder.batch_size

        bar = tqdm(targets, desc="Ingesting", unit="file", disable=not progress)
        for target in bar:
            bar.set_postfix_str(target.source[-40:], refresh=False)
            try:
                if not target.path.exists():
                    raise DocumentError(target.source, "file not found")
                previous = committed.get(target.source)
                # Unchanged: same bytes and same readers (a file moved to another group
                # in metadata.yaml is rewritten, its vectors reused).
                if previous and previous.sha256 == file_sha256(target.path) and \
                        tuple(previous.groups) == sidecar_groups(target.path, target.source):
                    report.unchanged.append(target.source)
                    continue
                pending.append(self._prepare(target, updating=previous is not None))
            except DocumentError as exc:
                report.failed.append((exc.path, exc.reason))
            except OSError as exc:
                report.failed.append((target.source, f"cannot read file ({exc.strerror})"))
            if sum(len(p.new) for p in pending) >= flush_at:
                self._flush(pending, report)
        self._flush(pending, report)

        # Files gone from a folder we just walked: their chunks go too.
        seen = {t.source for t in targets}
        for record in committed.values():
            path = Path(record.path) if record.path else None
            if path and record.source not in seen and not path.exists() and any(
                    path.is_relative_to(root) for root in roots):
                self._begin()
                self.store.delete_document(record.source)
                report.removed.append(record.source)
        if self._writing:
            self._end()
        report.seconds = time.perf_counter() - started
        return report

    def _prepare(self, target: _Target, updating: bool) -> _Prepared:
        doc = load(target.path, target.source, self.settings.languages,
                   self.settings.ingest.max_file_mb, OcrOptions.from_settings(self.settings),
                   self.settings.ingest.max_unzipped_mb)
        chunker = Chunker(self.embedder, self.settings.languages, self.settings.ingest.chunk_tokens,
                          self.settings.ingest.chunk_overlap_tokens)
        chunks = chunker.chunks(doc)
        if not chunks:
            raise DocumentError(target.source, "no indexable text after cleaning")
        self.store.check_embedder(self.embedder.model_id, self.embedder.dimension,
                                  self.embedder.profile)
        have = self.store.existing_chunk_ids([c.id for c in chunks])
        return _Prepared(target, doc, chunks, [_chunk_metadata(doc, c) for c in chunks],
                         new=[i for i, c in enumerate(chunks) if c.id not in have],
                         updating=updating)

    def _flush(self, pending: list[_Prepared], report: IngestReport) -> None:
        texts = [p.chunks[i].text for p in pending for i in p.new]
        vectors = self.embedder.embed_passages(texts, progress=len(texts) > 64)
        offset = 0
        for p in pending:
            own = vectors[offset : offset + len(p.new)]
            offset += len(p.new)
            try:
                report.chunks_embedded += self._write(p, own)
            except DocumentError as exc:
                report.failed.append((exc.path, exc.reason))
                continue
            report.chunks_reused += len(p.chunks) - len(p.new)
            report.warnings += [(p.doc.source, w) for w in p.doc.warnings]
            (report.updated if p.updating else report.added).append(p.doc.source)
        pending.clear()

    def _write(self, p: _Prepared, vectors: np.ndarray) -> int:
        ids = [c.id for c in p.chunks]
        self._begin()
        fresh = set(p.new)
        old = [i for i in range(len(p.chunks)) if i not in fresh]
        if p.new:
            self.store.write_chunks([ids[i] for i in p.new], [p.chunks[i].text for i in p.new],
                                    [p.metadatas[i] for i in p.new], vectors)
        if old:
            self.store.write_chunks([ids[i] for i in old], [], [p.metadatas[i] for i in old],
                                    None)
        if not p.target.path.exists():  # deleted while we worked: do not commit a ghost
            self.store.delete_chunks([ids[i] for i in p.new])  # nor leave its vectors behind
            raise DocumentError(p.doc.source, "file was deleted during ingestion")
        previous = self.store.document(p.doc.source)
        self.store.commit_document(_record(p.doc, ids), p.doc.text)
        if previous:
            self.store.delete_chunks(sorted(set(previous.chunk_ids) - set(ids)))
        return len(p.new)

    def collect_garbage(self) -> int:
        """Delete chunks no committed document lists (left by an interrupted run)."""
        listed: set[str] = set()
        for record in self.store.documents():
            listed.update(record.chunk_ids)
        orphans = sorted(self.store.all_chunk_ids() - listed)
        self.store.delete_chunks(orphans)
        return len(orphans)

    def remove(self, source: str) -> bool:
        if self.store.document(source) is None:
            return False
        self._begin()
        self.store.delete_document(source)
        self._end()
        return True


def _record(doc: LoadedDocument, chunk_ids: list[str]) -> DocRecord:
    return DocRecord(
        source=doc.source, sha256=doc.sha256, title=doc.title, language=doc.language,
        chunk_ids=chunk_ids, path=str(doc.path.resolve()), url=doc.url, date=doc.date,
        provinces=doc.provinces, ingested_at=time.time(), groups=list(doc.groups),
    )


def _chunk_metadata(doc: LoadedDocument, chunk: Chunk) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "source": doc.source, "index": chunk.index, "lang": chunk.language,
        "doc_lang": doc.language, "title": doc.title,
    }
    if chunk.locator:  # the citation names the page or row: "Report · p. 2 · OCR 93%"
        meta.update(title=f"{doc.title} · {chunk.locator}", locator=chunk.locator)
    if doc.url:
        meta["url"] = doc.url
    if doc.date:
        meta["date"] = dates.to_int(doc.date)
    if doc.provinces:
        meta["provinces"] = doc.provinces
        meta.update({province_field(p): True for p in doc.provinces})
    meta.update(group_metadata(list(doc.groups)))
    return meta

