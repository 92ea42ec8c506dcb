"""Indexing: files into the store, incrementally.

New and changed files are chunked and embedded (only chunks not already held); deleted
files' chunks are removed; unchanged files are skipped without even loading the model.
Each file is committed on its own (see ``store``), so one bad file never costs the others.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .chunking import Chunk, Chunker
from .config import Settings
from .embedding import LocalEmbeddings
from .errors import DocumentError, InputError
from .loading import METADATA_FILE, SUPPORTED_SUFFIXES, LoadedDocument, load
from .store import ChromaStore, DocRecord, date_int


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unsupported types inside a folder
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
        if self.chunks_embedded == 0 and not self.removed and not self.failed:
            return f"Nothing to embed: {head}."
        return (f"{head}; {self.chunks_embedded} chunks embedded, {self.chunks_reused} reused "
                f"in {self.seconds:.1f} s.")


@dataclass
class _Target:
    path: Path
    source: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Indexer:
    def __init__(self, settings: Settings, store: ChromaStore,
                 embedder: LocalEmbeddings) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder

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
        changed = False

        bar = tqdm(targets, desc="Ingesting", unit="file", disable=not progress)
        for target in bar:
            bar.set_postfix_str(target.source[-40:], refresh=False)
            try:
                if not target.path.exists():
                    raise DocumentError(target.source, "file not found")
                previous = committed.get(target.source)
                if previous and previous.sha256 == file_sha256(target.path):
                    report.unchanged.append(target.source)
                    continue
                embedded, reused = self._index_file(target, progress)
            except DocumentError as exc:
                report.failed.append((exc.path, exc.reason))
                continue
            except OSError as exc:
                report.failed.append((target.source, f"cannot read file ({exc.strerror})"))
                continue
            changed = True
            report.chunks_embedded += embedded
            report.chunks_reused += reused
            (report.updated if previous else report.added).append(target.source)

        # Files gone from a folder we just walked: their chunks go too.
        seen = {t.source for t in targets}
        for record in committed.values():
            path = Path(record.path) if record.path else None
            if path and record.source not in seen and not path.exists() and any(
                    path.is_relative_to(root) for root in roots):
                self.store.delete_document(record.source)
                report.removed.append(record.source)
                changed = True
        if changed:
            self.collect_garbage()
            self.store.bump_revision()
        report.seconds = time.perf_counter() - started
        return report

    def _index_file(self, target: _Target, progress: bool) -> tuple[int, int]:
        doc = load(target.path, target.source, self.settings.max_file_mb,
                   self.settings.languages)
        chunker = Chunker(self.embedder, self.settings.chunk_tokens,
                          self.settings.chunk_overlap_tokens, self.settings.languages)
        chunks = chunker.chunks(doc)
        if not chunks:
            raise DocumentError(target.source, "no indexable text after cleaning")
        self.store.check_embedder(self.embedder.model_id, self.embedder.dimension)
        ids = [c.id for c in chunks]
        metadatas = [_chunk_metadata(doc, c) for c in chunks]
        have = self.store.existing_chunk_ids(ids)
        new = [i for i, c in enumerate(chunks) if c.id not in have]
        old = [i for i, c in enumerate(chunks) if c.id in have]
        if new:
            vectors = self.embedder.embed_passages([chunks[i].text for i in new],
                                                   progress=progress and len(new) > 64)
            self.store.write_chunks([ids[i] for i in new], [chunks[i].text for i in new],
                                    [metadatas[i] for i in new], vectors)
        if old:
            self.store.write_chunks([ids[i] for i in old], [], [metadatas[i] for i in old], None)
        if not target.path.exists():  # deleted while we worked: do not commit a ghost
            self.store.delete_chunks([ids[i] for i in new])  # nor leave its vectors behind
            raise DocumentError(target.source, "file was deleted during ingestion")
        previous = self.store.document(doc.source)
        self.store.commit_document(_record(doc, ids), doc.text)
        if previous:
            stale = set(previous.chunk_ids) - set(ids)
            self.store.delete_chunks(sorted(stale))
        return len(new), len(old)

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
        self.store.delete_document(source)
        self.store.bump_revision()
        return True


def _record(doc: LoadedDocument, chunk_ids: list[str]) -> DocRecord:
    return DocRecord(
        source=doc.source, sha256=doc.sha256, title=doc.title, language=doc.language,
        chunk_ids=chunk_ids, path=str(doc.path.resolve()), url=doc.url, date=doc.date,
        provinces=doc.provinces, ingested_at=time.time(),
    )


def _chunk_metadata(doc: LoadedDocument, chunk: Chunk) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "source": doc.source, "index": chunk.index, "lang": chunk.language,
        "doc_lang": doc.language, "title": doc.title,
    }
    if doc.url:
        meta["url"] = doc.url
    if doc.date:
        meta["date"] = date_int(doc.date)
    if doc.provinces:
        meta["provinces"] = doc.provinces
    return meta

