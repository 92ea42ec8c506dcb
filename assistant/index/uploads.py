"""Uploads: check files people hand us before any parser sees them, then stage them.

Used by the web app's Documents tab and by ``assistant add``. A refused file is reported
with a reason and touches nothing: too large, an executable or unsupported type, a zip bomb
disguised as .docx (python-docx would inflate it), a name that tries to leave the uploads
folder, or a copy of a document already indexed (same content hash).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.config import Settings
from assistant.errors import InputError
from assistant.index.indexing import Indexer, IngestReport
from assistant.index.store import DocRecord
from assistant.ingest.archives import expansion_problem
from assistant.ingest.loading import SUPPORTED_SUFFIXES, file_sha256
from assistant.ingest.metadata import METADATA_FILE

UPLOADS = "uploads"
# Magic numbers of programs: ELF, Windows PE, Mach-O (both byte orders, fat), scripts.
_EXECUTABLE_MAGIC = (b"\x7fELF", b"MZ", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe",
                     b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce", b"\xca\xfe\xba\xbe", b"#!")
_UNSAFE = re.compile(r"[^\w.\- ]+")
NAME_BYTES = 255  # the longest file name Linux, macOS and Windows file systems all take
# Images are read by OCR: their type is checked by magic number, as PDFs are.
_IMAGE_MAGIC = {".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",),
                ".tif": (b"II*\x00", b"MM\x00*"), ".tiff": (b"II*\x00", b"MM\x00*")}


class UploadRefused(InputError):
    """One uploaded file cannot be accepted; ``str()`` says why."""


@dataclass
class UploadReport:
    accepted: list[str] = field(default_factory=list)  # sources as they will be indexed
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (name, indexed as)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    ingest: IngestReport | None = None

    def summary(self) -> str:
        lines = [f"Accepted: {', '.join(self.accepted)}" if self.accepted else "Nothing added."]
        lines += [f"Duplicate: {n} is already indexed as {s}" for n, s in self.duplicates]
        lines += [f"Refused: {n}: {why}" for n, why in self.refused]
        if self.ingest is not None:
            lines += [f"Failed: {s}: {why}" for s, why in self.ingest.failed]
            lines.append(self.ingest.summary())
        return "\n".join(lines)


def uploads_dir(settings: Settings) -> Path:
    return settings.data_dir / UPLOADS


def safe_name(name: str) -> str:
    """The last path component, stripped of anything a file system or shell could misread.

    A name that climbs out of its folder (``../``) is refused outright: no browser sends
    one, so it is someone probing, and they should see it did not work.
    """
    parts = unicodedata.normalize("NFC", name.replace("\\", "/")).split("/")
    if ".." in (part.strip() for part in parts):
        raise UploadRefused(f"'{name}' tries to leave the uploads folder ('../')")
    base = parts[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base or base.startswith("."):
        raise UploadRefused(f"'{name}' is not a usable file name")
    # Too long for a file system: shorten the stem, keep the type.
    stem, suffix = (base.rsplit(".", 1)[0], "." + base.rsplit(".", 1)[1]) if "." in base \
        else (base, "")
    while stem and len((stem + suffix).encode()) > NAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix


def check_file(path: Path, name: str, settings: Settings) -> None:
    """Raise ``UploadRefused`` unless ``path`` looks like a document we can read safely."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadRefused(f"unsupported file type '{suffix or '(none)'}' "
                            f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
    size = path.stat().st_size  # before reading a byte: a 200 MB file is never loaded
    if size > settings.ingest.max_file_mb * 1024 * 1024:
        raise UploadRefused(f"file is {size / 1024 / 1024:.0f} MB, larger than the "
                            f"{settings.ingest.max_file_mb:g} MB limit")
    if size == 0:
        raise UploadRefused("file is empty")
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(_EXECUTABLE_MAGIC):
        raise UploadRefused("file is a program, not a document")
    if suffix == ".pdf" and not head.startswith(b"%PDF"):
        raise UploadRefused("file does not look like a PDF")
    if suffix in _IMAGE_MAGIC and not head.startswith(_IMAGE_MAGIC[suffix]):
        raise UploadRefused(f"file does not look like a {suffix.lstrip('.').upper()} image")
    if suffix in (".docx", ".xlsx"):
        _check_zip(path, settings.ingest.max_unzipped_mb, suffix)


def _check_zip(path: Path, max_mb: float, suffix: str) -> None:
    problem = expansion_problem(path, max_mb, suffix)
    if problem:
        raise UploadRefused(problem)


def _set_groups(folder: Path, name: str, groups: tuple[str, ...]) -> None:
    """Record who may read an uploaded file in the uploads folder's ``metadata.yaml``, as
    for corpus files: a rebuild re-reads it, so the groups outlive the index."""
    path = folder / METADATA_FILE
    data = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}) or {}
    if groups:
        data[name] = {**(data.get(name) or {}), "groups": list(groups)}
    elif name in data:
        data[name].pop("groups", None)
    else:
        return
    tmp = folder / f".{METADATA_FILE}.part"
    tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def stage(files: list[tuple[Path, str]], settings: Settings, indexed: list[DocRecord],
          groups: tuple[str, ...] = ()) -> tuple[list[Path], UploadReport]:
    """Check each (temporary path, original name) and copy the good ones into the uploads
    folder, readable by ``groups`` (none: everyone); return the staged paths and a report
    of what was refused or duplicated."""
    report = UploadReport()
    by_hash = {r.sha256: r.source for r in indexed}
    by_source = {r.source: r for r in indexed}
    target_dir = uploads_dir(settings)
    staged: list[Path] = []
    for path, original in files:
        shown = original or path.name
        try:
            name = safe_name(shown)
            check_file(path, name, settings)
            digest = file_sha256(path)
            if digest in by_hash:
                report.duplicates.append((shown, by_hash[digest]))
                continue
            other = by_source.get(name)
            if other and Path(other.path).parent != target_dir.resolve():
                raise UploadRefused(f"another document is already indexed as '{name}'; "
                                    "rename the file")
        except UploadRefused as exc:
            report.refused.append((shown, str(exc)))
            continue
        except OSError as exc:
            report.refused.append((shown, f"cannot read file ({exc.strerror})"))
            continue
        target_dir.mkdir(parents=True, exist_ok=True)
        _set_groups(target_dir, name, groups)  # before the file: never readable by all
        target = target_dir / name
        # Short: the name may already be as long as a file system allows.
        tmp = target.with_name(f".{hashlib.sha1(digest.encode()).hexdigest()[:16]}.part")
        shutil.copyfile(path, tmp)
        tmp.replace(target)  # atomic: a half-copied file is never picked up by an ingest
        by_hash[digest] = name
        staged.append(target)
        report.accepted.append(name)
    return staged, report


def discard(settings: Settings, record: DocRecord | None) -> None:
    """Delete an uploaded file once its document left the index (corpus files stay)."""
    if record and record.path:
        path = Path(record.path)
        if path.parent == uploads_dir(settings).resolve() and path.exists():
            path.unlink()


def add_files(indexer: Indexer, files: list[tuple[Path, str]],
              progress: Callable[[int, int, str], None] | None = None,
              groups: tuple[str, ...] = ()) -> UploadReport:
    """Check, stage and index uploaded files, one at a time so progress can be shown.
    ``groups``: who may read them (none: everyone)."""
    staged, report = stage(files, indexer.settings, indexer.store.documents(), groups)
    if not staged:
        return report
    total = IngestReport()
    for i, path in enumerate(staged):
        if progress:
            progress(i, len(staged), path.name)
        one = indexer.ingest([path])
        for name in ("added", "updated", "unchanged", "warnings"):  # failures: refused, below
            getattr(total, name).extend(getattr(one, name))
        total.chunks_embedded += one.chunks_embedded
        total.chunks_reused += one.chunks_reused
        total.seconds += one.seconds
        for _source, reason in one.failed:  # unreadable after all: do not keep the file
            path.unlink(missing_ok=True)
            # Refused, not "accepted" and then failed: one line says what happened.
            if path.name in report.accepted:
                report.accepted.remove(path.name)
            report.refused.append((path.name, reason))
    if progress:
        progress(len(staged), len(staged), "done")
    report.ingest = total
    return report


def remove_document(indexer: Indexer, source: str) -> bool:
    """Drop a document from the index, and its file if it was uploaded."""
    record = indexer.store.document(source)
    if not indexer.remove(source):
        return False
    discard(indexer.settings, record)
    return True


def rebuild(indexer: Indexer) -> IngestReport:
    """Start the index over from the corpus folder and the uploaded files."""
    settings = indexer.settings
    targets = [d for d in (settings.corpus_dir, uploads_dir(settings)) if d.is_dir()]
    indexer.store.reset()
    return indexer.ingest(targets, progress=True)  # the web tab follows the tqdm bar
