"""Loading: a file on disk becomes a ``LoadedDocument`` (text, boilerplate marked, metadata).

Parsers are well-kept libraries (pypdf, python-docx, BeautifulSoup, charset-normalizer;
Tesseract for scans in ``ocr``, tables in ``tables``); this module only decides what is
boilerplate and what the metadata is.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import DocumentError, UnsupportedFileError
from assistant.ingest.archives import expansion_problem
from assistant.ingest.encoding import decode
from assistant.ingest.metadata import sidecar_entry, sidecar_groups
from assistant.ingest.ocr import OcrOptions, OcrUnavailable
from assistant.ingest.parts import Extracted, Part
from assistant.text.anchors import find_provinces
from assistant.text.dates import publication_date
from assistant.text.languages import UNKNOWN, detect

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".xlsx", ".csv",
                      *IMAGE_SUFFIXES)

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
# A Python object's repr in a parser's message means nothing to the person told.
_OBJECT = re.compile(r"\s*<[\w.]+ object at 0x[0-9a-fA-F]+>")


@dataclass(frozen=True)
class Section:
    """Lines ``start:end`` of a document that a citation names (a page, a table row)."""

    start: int
    end: int
    locator: str
    whole: bool = False


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
    language: str = UNKNOWN
    url: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd
    provinces: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)  # none: the text is one flow
    warnings: list[str] = field(default_factory=list)
    groups: tuple[str, ...] = ()  # who may read it (metadata.yaml); empty: everyone

    @property
    def content_lines(self) -> list[str]:
        return [ln for ln, bp in zip(self.lines, self.boilerplate, strict=True) if not bp]


def load(path: Path, source: str, languages: list[str], max_mb: float = 50.0,
         ocr: OcrOptions | None = None, max_unzipped_mb: float = 200.0) -> LoadedDocument:
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
    entry = sidecar_entry(path)
    context = _Context(source, languages, ocr or OcrOptions(tuple(languages)),
                       str(entry.get("language") or "") or None, max_unzipped_mb)
    try:
        got = _read(suffix, data, context)
    except DocumentError:
        raise
    except Exception as exc:  # parsers raise many types on damaged files (zlib, lxml, pypdf)
        detail = _OBJECT.sub("", str(exc))  # "cannot identify image file <_io.BytesIO ...>"
        raise DocumentError(source, f"corrupt or unreadable {suffix.lstrip('.').upper()} "
                                    f"({type(exc).__name__}: {detail})") from None
    lines, sections = _lines(got.parts)
    if not lines:
        raise DocumentError(source, "no text found in file")
    doc = LoadedDocument(
        source=source, path=path, text="\n".join(lines), lines=lines,
        boilerplate=_mark_boilerplate(lines, sections), sha256=hashlib.sha256(data).hexdigest(),
        sections=sections, warnings=got.warnings,
    )
    if not doc.content_lines:
        raise DocumentError(source, "file holds only boilerplate, no content")
    doc.title = got.title or _title_from(doc.content_lines[0])
    doc.url = _find_url(lines)
    doc.date = publication_date(doc.text, doc.url)
    doc.provinces = find_provinces(doc.text)
    doc.language = detect(" ".join(doc.content_lines), languages)
    _apply_sidecar(doc, entry)
    return doc


@dataclass(frozen=True)
class _Context:
    source: str
    languages: list[str]
    ocr: OcrOptions
    language: str | None  # from metadata.yaml: the language to read scans in first
    max_unzipped_mb: float


def _read(suffix: str, data: bytes, ctx: _Context) -> Extracted:
    from assistant.ingest import tables

    if suffix == ".pdf":
        return _pdf(data, ctx)
    if suffix in IMAGE_SUFFIXES:
        from assistant.ingest.ocr import image_frames, read_pages

        frames = image_frames(data)
        read, warnings = read_pages(frames, len(frames), ctx.ocr, ctx.source,
                                    range(1, len(frames) + 1), ctx.language)
        return Extracted(list(read.values()), warnings=warnings)
    if suffix in (".docx", ".xlsx"):  # zip archives: refuse zip bombs before parsing
        problem = expansion_problem(data, ctx.max_unzipped_mb, suffix,
                                    invalid_is_a_problem=False)
        if problem:
            raise DocumentError(ctx.source, problem)
    # A table's first row is no title: the workbook's own, else the file's name.
    if suffix == ".xlsx":
        parts, title = tables.xlsx_parts(data)
        return Extracted(parts, title or Path(ctx.source).stem)
    if suffix == ".csv":
        return Extracted(tables.csv_parts(decode(data, ctx.source, ctx.languages)),
                         Path(ctx.source).stem)
    if suffix == ".docx":
        return _docx(data, ctx.source)
    text = decode(data, ctx.source, ctx.languages)
    if suffix in (".html", ".htm"):
        text, title = _html_text(text)
        return Extracted([Part(text)], title)
    return Extracted([Part(text)])


def _lines(parts: list[Part]) -> tuple[list[str], list[Section]]:
    lines: list[str] = []
    sections: list[Section] = []
    for part in parts:
        # NFC: Vietnamese typed with combining marks (NFD) must embed, match BM25 and cite
        # the same as its precomposed form; the embedder does not normalise it.
        text = unicodedata.normalize("NFC", part.text)
        own = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        own = [ln for ln in own if ln]
        if own and (part.locator or part.whole):
            sections.append(Section(len(lines), len(lines) + len(own), part.locator,
                                    part.whole))
        lines += own
    return lines, sections


def _html_text(text: str) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "lxml")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "form"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    return soup.get_text("\n"), title


def _pdf(data: bytes, ctx: _Context) -> Extracted:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    from assistant.ingest import tables
    from assistant.ingest.ocr import pdf_page_images, read_pages

    # pypdf logs damage without naming the file; we report it, with the name, instead.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(ctx.source, "PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str(reader.metadata.title or "") if reader.metadata else ""
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(ctx.source, f"corrupt or unreadable PDF ({exc})") from None
    if not pages:
        raise DocumentError(ctx.source, "corrupt or unreadable PDF (it has no pages)")
    scans = [n for n, text in enumerate(pages, 1) if not text.strip()]
    if not scans:  # a text PDF reads as one flow, as before; its ruled tables as rows
        rows = tables.pdf_table_parts(data)
        return Extracted([Part("\n".join(pages)), *(p for n in sorted(rows) for p in rows[n])],
                         title)
    try:
        read, warnings = read_pages(pdf_page_images(data, scans, ctx.ocr.dpi), len(scans),
                                    ctx.ocr, ctx.source, scans, ctx.language)
    except OcrUnavailable as exc:
        if len(scans) == len(pages):
            raise
        # Index the pages that have text; say which were left out and how to read them.
        read, warnings = {}, [f"pages {', '.join(map(str, scans))} are scans, not indexed: "
                              f"{exc.reason}"]
    parts = [read[n] if n in read else Part(text, f"p. {n}")
             for n, text in enumerate(pages, 1) if text.strip() or n in read]
    return Extracted(parts, title, warnings)


def _docx(data: bytes, source: str) -> Extracted:
    import io

    import docx

    from assistant.ingest.tables import docx_table_parts

    try:
        document = docx.Document(io.BytesIO(data))
    except DocumentError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DocumentError(source, f"corrupt or unreadable DOCX ({exc})") from None
    text = "\n".join(p.text for p in document.paragraphs)
    return Extracted([Part(text), *docx_table_parts(document)],
                     document.core_properties.title or "")


def _mark_boilerplate(lines: list[str], sections: list[Section]) -> list[bool]:
    # Captions are often repeated under every photo; a repeated line is not content. A
    # table row is content even when another row reads the same.
    rows = {i for s in sections if s.whole for i in range(s.start, s.end)}
    counts = Counter(lines)
    return [
        i not in rows and (counts[ln] > 1 or any(p.search(ln) for p in _BOILERPLATE))
        for i, ln in enumerate(lines)
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


def _apply_sidecar(doc: LoadedDocument, entry: dict[str, Any]) -> None:
    """Curated metadata in ``metadata.yaml`` beside the files wins over what we inferred."""
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
