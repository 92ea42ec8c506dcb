"""Loading: a file on disk becomes a ``LoadedDocument`` (text, boilerplate marked, metadata).

Parsers are well-kept libraries (pypdf, python-docx, BeautifulSoup, charset-normalizer);
this module only decides what is boilerplate and what the metadata is.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.access import clean_groups
from assistant.errors import DocumentError, InputError, UnsupportedFileError
from assistant.text.anchors import find_provinces
from assistant.text.languages import detect

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
METADATA_FILE = "metadata.yaml"

_BOILERPLATE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^(comment|comments|commentaire|bình luận|коментар|коментарі|تعليق|تعليقات)\s*\(\d+\)$",
        r"^(source|sources|nguồn|джерело|المصدر)\s*:?\s*(https?://\S+)?$",
        r"(-|–|—)\s*(photo|ảnh|фото|صورة)\s*:.*$",
        r"^(news and photos|photo|ảnh|фото|صورة|tin và ảnh|texte et photos)\s*:.*$",
    )
]
_URL_LINE = re.compile(r"^(?:source|sources|nguồn|джерело|المصدر)\s*:?\s*(https?://\S+)", re.I)
_MONTH_NAMES = (
    "january february march april may june july august september october november december",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
)
_MONTHS = {m: i for names in _MONTH_NAMES for i, m in enumerate(names.split(), 1)}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PATTERNS = [
    (re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b"), ("y", "m", "d")),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(20\d\d)\b"), ("d", "m", "y")),
    (re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}}),?\s+(20\d\d)\b", re.I), ("M", "d", "y")),
    (re.compile(rf"\b(\d{{1,2}})(?:er)?\s+({_MONTH_RE})\s+(20\d\d)\b", re.I), ("d", "M", "y")),
    # Vietnamese news URLs end in yyyymmddhhmm...: a reliable publication date.
    (re.compile(r"[-/](20\d\d)(\d\d)(\d\d)\d{4,}"), ("y", "m", "d")),
]


@dataclass
class LoadedDocument:
    """One source file, read and described."""

    source: str  # path relative to the folder it was ingested from: the citation key
    path: Path
    text: str  # the original text, for display
    lines: list[str]
    boilerplate: list[bool]  # per line: kept out of what is embedded
    sha256: str
    title: str = ""
    language: str = "und"
    url: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd
    provinces: list[str] = field(default_factory=list)
    groups: tuple[str, ...] = ()  # who may read it (metadata.yaml); empty: everyone

    @property
    def content_lines(self) -> list[str]:
        return [ln for ln, bp in zip(self.lines, self.boilerplate, strict=True) if not bp]


def load(path: Path, source: str, languages: list[str], max_mb: float = 50.0) -> LoadedDocument:
    """Read one file; raise ``DocumentError`` with a reason a person can act on."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileError(
            source, f"unsupported file type '{suffix or '(none)'}' "
            f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(source, "file disappeared before it could be read") from None
    except OSError as exc:
        raise DocumentError(source, f"cannot read file ({exc.strerror})") from None
    if len(data) > max_mb * 1024 * 1024:
        raise DocumentError(source, f"file is larger than the {max_mb:g} MB limit")
    if not data.strip():
        raise DocumentError(source, "file is empty")
    reader = {".pdf": _pdf_text, ".docx": _docx_text, ".html": _html_text, ".htm": _html_text}
    try:
        text, title = reader.get(suffix, _plain_text)(data, source)
    except DocumentError:
        raise
    except Exception as exc:  # parsers raise many types on damaged files (zlib, lxml, pypdf)
        raise DocumentError(source, f"corrupt or unreadable {suffix.lstrip('.').upper()} "
                                    f"({type(exc).__name__}: {exc})") from None
    # NFC: Vietnamese typed with combining marks (NFD) must embed, match BM25 and cite the
    # same as its precomposed form; the embedder does not normalise it.
    text = unicodedata.normalize("NFC", text)
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise DocumentError(source, "no text found in file")
    doc = LoadedDocument(
        source=source, path=path, text="\n".join(lines), lines=lines,
        boilerplate=_mark_boilerplate(lines), sha256=hashlib.sha256(data).hexdigest(),
    )
    if not doc.content_lines:
        raise DocumentError(source, "file holds only boilerplate, no content")
    doc.title = title or _title_from(doc.content_lines[0])
    doc.url = _find_url(lines)
    doc.date = _find_date(doc.text, doc.url)
    doc.provinces = find_provinces(doc.text)
    doc.language = detect(" ".join(doc.content_lines), languages)
    _apply_sidecar(doc)
    return doc


def _plain_text(data: bytes, source: str) -> tuple[str, str]:
    if b"\x00" in data[:8192]:
        raise DocumentError(source, "looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise DocumentError(source, "not readable as text in any known encoding")
    text = str(best)
    # Control characters other than whitespace mean the "text" is really binary.
    if sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f") > len(text) * 0.01:
        raise DocumentError(source, "looks like a binary file, not text")
    return text, ""


def _html_text(data: bytes, source: str) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    text, _ = _plain_text(data, source)
    soup = BeautifulSoup(text, "lxml")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "form"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    return soup.get_text("\n"), title


def _pdf_text(data: bytes, source: str) -> tuple[str, str]:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs damage without naming the file; we report it, with the name, instead.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(source, "PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str(reader.metadata.title or "") if reader.metadata else ""
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(source, f"corrupt or unreadable PDF ({exc})") from None
    if not "".join(pages).strip():
        raise DocumentError(source, "PDF has no extractable text (a scan needs OCR first)")
    return "\n".join(pages), title


def _docx_text(data: bytes, source: str) -> tuple[str, str]:
    import io

    import docx

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # A .docx is a zip: refuse archives that would inflate absurdly (zip bombs).
            if sum(info.file_size for info in archive.infolist()) > 200 * 1024 * 1024:
                raise DocumentError(source, "DOCX expands to more than 200 MB; refused")
        document = docx.Document(io.BytesIO(data))
    except DocumentError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DocumentError(source, f"corrupt or unreadable DOCX ({exc})") from None
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text.strip() for cell in row.cells))
    return "\n".join(parts), document.core_properties.title or ""


def _mark_boilerplate(lines: list[str]) -> list[bool]:
    # Captions are often repeated under every photo; a repeated line is not content.
    counts = Counter(lines)
    return [
        counts[ln] > 1 or any(p.search(ln) for p in _BOILERPLATE) for ln in lines
    ]


def _title_from(line: str) -> str:
    line = line.lstrip("-–—• ").strip()
    return line if len(line) <= 120 else line[:117].rsplit(" ", 1)[0] + "…"


def _find_url(lines: list[str]) -> str | None:
    for line in lines:
        match = _URL_LINE.match(line)
        if match:
            return match.group(1)
    return None


def _find_date(text: str, url: str | None) -> str | None:
    for haystack in (text, url or ""):
        for pattern, order in _DATE_PATTERNS:
            match = pattern.search(haystack)
            if not match:
                continue
            parts = dict(zip(order, match.groups(), strict=True))
            month = _MONTHS[parts["M"].lower()] if "M" in parts else int(parts["m"])
            try:
                return date(int(parts["y"]), month, int(parts["d"])).isoformat()
            except ValueError:
                continue
    return None


@lru_cache(maxsize=64)
def _sidecar(folder: Path, stamp: tuple[int, int]) -> dict[str, Any]:
    data = yaml.safe_load((folder / METADATA_FILE).read_text(encoding="utf-8")) or {}
    return data if isinstance(data, dict) else {}


def _sidecar_entries(path: Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The file's own entry in ``metadata.yaml`` beside it, and the folder's (key ``*``)."""
    meta_path = path.parent / METADATA_FILE
    if not meta_path.is_file():
        return None
    try:
        stat = meta_path.stat()  # (mtime, size): two quick writes may share an mtime
        data = _sidecar(path.parent, (stat.st_mtime_ns, stat.st_size))
    except (OSError, yaml.YAMLError):
        return None
    own, folder = data.get(path.name), data.get("*")
    return (own if isinstance(own, dict) else {}), (folder if isinstance(folder, dict) else {})


def sidecar_groups(path: Path, source: str | None = None) -> tuple[str, ...]:
    """The groups that may read ``path``: its ``groups`` in ``metadata.yaml``, else the
    folder's (the ``*`` entry), else none (everyone). A bad name fails the file: guessing
    "everyone" would show a restricted document to all."""
    entries = _sidecar_entries(path)
    if entries is None:
        return ()
    own, folder = entries
    raw = own.get("groups", folder.get("groups"))
    try:
        return clean_groups([raw] if isinstance(raw, str) else raw)
    except (InputError, TypeError) as exc:
        raise DocumentError(source or path.name, f"{METADATA_FILE}: groups: {exc}") from None


def _apply_sidecar(doc: LoadedDocument) -> None:
    """Curated metadata in ``metadata.yaml`` beside the files wins over what we inferred."""
    entries = _sidecar_entries(doc.path)
    if entries is None:
        return
    entry = entries[0]  # a malformed entry is ignored, never fatal
    for key in ("title", "language", "url", "date"):
        if entry.get(key):
            setattr(doc, key, str(entry[key]))
    provinces = entry.get("provinces")
    if provinces:
        doc.provinces = [str(p) for p in (provinces if isinstance(provinces, list)
                                          else [provinces])]
    doc.groups = sidecar_groups(doc.path, doc.source)


def file_sha256(path: Path) -> str:
    """A file's SHA-256 (hex), read in blocks: documents, uploads and model files."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
