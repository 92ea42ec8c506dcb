"""OCR: scanned PDF pages and photos read by Tesseract (Debian's ``tesseract-ocr`` with the
five languages' trained data, installed by ``make ocr``), through pytesseract.

A page is read in the languages its script calls for (Tesseract's own script detection,
or the language ``metadata.yaml`` gives the file), checked by the language detector and
read again if the detector disagrees. Pages read with low confidence are reported. PDF
pages are rasterised by pypdfium2 (PDFium, the engine of Chromium's PDF viewer).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from assistant.errors import DocumentError
from assistant.ingest.parts import Part
from assistant.text.languages import UNKNOWN, detect

# ISO 639-1 to Tesseract's trained-data names, and the languages each script can be.
TESSERACT: dict[str, str] = {"en": "eng", "vi": "vie", "uk": "ukr", "fr": "fra", "ar": "ara"}
SCRIPTS: dict[str, tuple[str, ...]] = {
    "Latin": ("vi", "fr", "en"), "Cyrillic": ("uk",), "Arabic": ("ar",)}
INSTALL_HINT = ("install Tesseract to read scans: `make ocr` as root, or `apt-get install "
                "tesseract-ocr tesseract-ocr-vie tesseract-ocr-ukr tesseract-ocr-fra "
                "tesseract-ocr-ara`")
MAX_PIXELS = 40_000_000  # a page rendered larger than this is scaled down (memory)


@dataclass(frozen=True)
class OcrOptions:
    languages: tuple[str, ...] = ("en", "vi", "uk", "fr", "ar")
    dpi: int = 300
    min_confidence: float = 75.0
    command: str = "tesseract"

    @classmethod
    def from_settings(cls, settings: Any) -> OcrOptions:
        return cls(tuple(settings.languages), settings.ocr.dpi, settings.ocr.min_confidence,
                   settings.ocr.tesseract_cmd)


@dataclass
class OcrPage:
    text: str
    confidence: float  # Tesseract's mean word confidence, 0-100
    language: str


class OcrUnavailable(DocumentError):
    """Tesseract, or the trained data of every configured language, is missing."""


def _binding(command: str) -> Any:
    """pytesseract, pointed at ``command`` (the binding keeps the program in a global)."""
    import pytesseract

    pytesseract.pytesseract.tesseract_cmd = command
    # One OpenMP thread: pages are read one at a time beside the embedder, and on two
    # shared cores Tesseract's threads only wait on each other (1.8 s -> 1.0 s a page).
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    return pytesseract


@lru_cache(maxsize=8)
def installed(command: str) -> frozenset[str]:
    """Tesseract's installed trained data (empty: Tesseract itself is missing)."""
    pytesseract = _binding(command)
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, OSError, RuntimeError):
        return frozenset()


class Reader:
    """Reads the pages of one file; remembers the language found on the first page."""

    def __init__(self, options: OcrOptions, source: str, hint: str | None = None) -> None:
        self.options = options
        self.source = source
        have = installed(options.command)
        self.languages = [lang for lang in options.languages
                          if TESSERACT.get(lang) in have]
        if not self.languages:
            raise OcrUnavailable(source, ("Tesseract has no trained data for "
                                          f"{', '.join(options.languages)}; " if have else
                                          "this is a scan and Tesseract is not installed; ")
                                 + INSTALL_HINT)
        self.language = hint if hint in self.languages else None

    def read(self, image: Any) -> OcrPage:
        from PIL import ImageFilter

        page = image.convert("L")
        if page.width * page.height > MAX_PIXELS:
            scale = (MAX_PIXELS / (page.width * page.height)) ** 0.5
            page = page.resize((int(page.width * scale), int(page.height * scale)))
        # A 3x3 median removes scanner speckle that Tesseract reads as marks ("%" as "90").
        page = page.filter(ImageFilter.MedianFilter(3))
        if self.language:  # the file's language so far: one pass, if it reads as that
            known = self._tesseract(page, self._codes([self.language]))
            if known.confidence >= self.options.min_confidence and detect(
                    known.text, self.languages) == self.language:
                known.language = self.language
                return known
        guess = self._script_languages(page)
        first = self._tesseract(page, self._codes(guess))
        found = detect(first.text, self.languages) if len(first.text) > 20 else UNKNOWN
        if found != UNKNOWN and [found] != guess:
            # Read again in the language found: one model reads better than several.
            again = self._tesseract(page, self._codes([found]))
            first = again if again.confidence >= first.confidence - 1 else first
        if found != UNKNOWN:
            self.language = found
        first.language = found
        return first

    def _codes(self, languages: list[str]) -> str:
        if len(languages) == 1 and languages[0] not in SCRIPTS["Latin"] \
                and "en" in self.languages:
            # English beside Cyrillic or Arabic: units and names in Latin letters, and it
            # reads "91,2%" where Ukrainian alone reads "91,290". Beside Vietnamese or
            # French it only costs accents ("bác sĩ" read "bac si").
            languages = [*languages, "en"]
        return "+".join(TESSERACT[lang] for lang in languages)

    def _script_languages(self, page: Any) -> list[str]:
        """The configured languages written in the page's script (all when unknown)."""
        pytesseract = _binding(self.options.command)
        if "osd" not in installed(self.options.command):
            return self.languages
        try:
            osd = pytesseract.image_to_osd(page, output_type=pytesseract.Output.DICT)
        except pytesseract.TesseractError:  # too little text to tell
            return self.languages
        options = [lang for lang in SCRIPTS.get(str(osd.get("script")), ())
                   if lang in self.languages]
        return options or self.languages

    def _tesseract(self, page: Any, codes: str) -> OcrPage:
        pytesseract = _binding(self.options.command)
        try:
            data = pytesseract.image_to_data(page, lang=codes,
                                             output_type=pytesseract.Output.DICT)
        except (pytesseract.TesseractError, OSError, RuntimeError) as exc:
            raise DocumentError(self.source, f"OCR failed ({exc})") from None
        lines: dict[tuple[int, int, int], list[str]] = {}
        weighted = chars = 0.0
        for i, word in enumerate(data["text"]):
            conf = float(data["conf"][i])
            if conf < 0 or not word.strip():
                continue
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            lines.setdefault(key, []).append(word)
            weighted += conf * len(word)
            chars += len(word)
        text = "\n".join(" ".join(words) for words in lines.values())
        return OcrPage(text, weighted / chars if chars else 0.0, UNKNOWN)


def read_pages(images: Sequence[Any] | Any, count: int, options: OcrOptions, source: str,
               numbers: Sequence[int], hint: str | None = None,
               ) -> tuple[dict[int, Part], list[str]]:
    """OCR ``count`` page images (an iterable, so PDF pages render one at a time), a
    progress bar per page; return a ``Part`` per page number and warnings for weak pages."""
    from tqdm.auto import tqdm

    reader = Reader(options, source, hint)
    parts: dict[int, Part] = {}
    weak: list[str] = []
    for number, image in tqdm(zip(numbers, images, strict=False), total=count, unit="page",
                              desc=f"OCR {source[-30:]}", leave=False):
        page = reader.read(image)
        if not page.text.strip():
            weak.append(f"p. {number} (no text found)")
            continue
        parts[number] = Part(page.text, f"p. {number} · OCR {page.confidence:.0f}%")
        if page.confidence < options.min_confidence:
            weak.append(f"p. {number} ({page.confidence:.0f}%)")
    warnings = [f"OCR read with low confidence: {', '.join(weak)}; check the scan or the "
                "figures cited from it"] if weak else []
    return parts, warnings


def pdf_page_images(data: bytes, pages: Sequence[int], dpi: int) -> Any:
    """Yield the given pages (1-based) of a PDF rendered in grey at ``dpi``."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        for number in pages:
            page = pdf[number - 1]
            width, height = page.get_size()  # points
            # A poster-sized page at 300 DPI would take gigabytes: cap its pixels first.
            scale = min(dpi / 72, (MAX_PIXELS / max(width * height, 1.0)) ** 0.5)
            bitmap = page.render(scale=scale, grayscale=True)
            yield bitmap.to_pil()
            page.close()
    finally:
        pdf.close()


def image_frames(data: bytes) -> list[Any]:
    """Each frame of an image file (a multi-page TIFF has several), with its EXIF rotation
    applied: a phone photo stored sideways is read upright."""
    from PIL import Image, ImageOps, ImageSequence

    image = Image.open(io.BytesIO(data))
    return [ImageOps.exif_transpose(frame.copy()) for frame in ImageSequence.Iterator(image)]
