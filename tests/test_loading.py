from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import docx
import pytest
from reportlab.pdfgen import canvas

from assistant.config import Settings
from assistant.errors import DocumentError
from assistant.ingest.loading import load
from assistant.ingest.ocr import OcrOptions, installed

from .conftest import CORPUS

LANGUAGES = Settings().languages  # the configured languages

ARABIC = CORPUS / "004_3160aee91d886ff2.txt"
TRA_VINH = CORPUS / "001_233030e2ea93ce29.txt"


def _write(path: Path, kind: str, lines: list[str]) -> Path:
    if kind == "pdf":
        pdf = canvas.Canvas(str(path))
        pdf.setTitle("Quarterly health report")
        for i, line in enumerate(lines):
            pdf.drawString(40, 800 - 20 * i, line)
        pdf.save()
    elif kind == "docx":
        document = docx.Document()
        document.core_properties.title = "Quarterly health report"
        for line in lines:
            document.add_paragraph(line)
        table = document.add_table(rows=1, cols=2)
        table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Beds", "2862"
        document.save(str(path))
    elif kind == "html":
        body = "".join(f"<p>{line}</p>" for line in lines)
        path.write_text(f"<html><head><title>Quarterly health report</title>"
                        f"<script>var x = 'not text';</script></head><body><nav>Menu</nav>"
                        f"{body}</body></html>", encoding="utf-8")
    else:
        path.write_text("\n".join(lines), encoding="utf-8")
    return path


LINES = [
    "The province has 2862 hospital beds and 9.6 doctors per 10,000 people.",
    "Conference scene - Photo: DONG HA",
    "Source: https://example.org/report-2025",
    "Comment (0)",
]


@pytest.mark.parametrize("kind", ["txt", "md", "html", "pdf", "docx"])
def test_every_format_gives_text_and_metadata(tmp_path: Path, kind: str) -> None:
    path = _write(tmp_path / f"report.{kind}", kind, LINES)
    doc = load(path, path.name, LANGUAGES)
    content = " ".join(doc.content_lines)
    assert "2862 hospital beds" in content and "9.6 doctors" in content
    assert "Photo: DONG HA" not in content and "Comment (0)" not in content
    assert "Photo: DONG HA" in doc.text  # the original stays for display
    assert doc.url == "https://example.org/report-2025"
    assert doc.language == "en"
    assert len(doc.sha256) == 64
    if kind in {"pdf", "docx", "html"}:
        assert doc.title == "Quarterly health report"
    if kind == "html":
        assert "not text" not in doc.text and "Menu" not in doc.text
    if kind == "docx":  # a headerless two-column table reads as key and value, one row
        assert "Beds: 2862" in doc.text
        assert [(s.locator, s.whole) for s in doc.sections] == [("table 1 · row 1", True)]


def test_bundled_report_metadata() -> None:
    doc = load(ARABIC, ARABIC.name, LANGUAGES)
    assert doc.language == "ar"
    assert doc.provinces == ["Lang Son"]
    assert doc.date == "2025-07-10"
    assert doc.url and doc.url.startswith("https://baolangson.vn/")
    assert not any("تعليق (0)" in line for line in doc.content_lines)


def test_bare_source_line_and_bylines_are_boilerplate() -> None:
    doc = load(TRA_VINH, TRA_VINH.name, LANGUAGES)
    dropped = [ln for ln, bp in zip(doc.lines, doc.boilerplate, strict=True) if bp]
    assert dropped == ["News and photos: MY NHAN", "Source", "Comment (0)"]
    assert doc.url is None


def test_repeated_captions_are_boilerplate() -> None:
    doc = load(CORPUS / "002_198b8447694e4d5d.txt", "002.txt", LANGUAGES)
    caption = "Представники лікарень та медичних центрів обговорювали"
    assert any(caption in ln for ln in doc.lines)
    assert not any(caption in ln for ln in doc.content_lines)


@pytest.mark.parametrize(("text", "iso"), [
    ("Hanoi, 2025-03-04: meeting", "2025-03-04"),
    ("Le matin du 4 novembre 2025, la réunion", "2025-11-04"),
    ("On June 13, 2025 the workshop", "2025-06-13"),
    ("Báo cáo ngày 10/07/2025", "2025-07-10"),
    ("No date here at all", None),
])
def test_dates_found_in_text(tmp_path: Path, text: str, iso: str | None) -> None:
    path = tmp_path / "d.txt"
    path.write_text(text + "\nMore text about hospital beds in the province.", encoding="utf-8")
    assert load(path, "d.txt", LANGUAGES).date == iso


def test_decomposed_text_is_stored_composed(tmp_path: Path) -> None:
    composed = "Tỉnh Trà Vinh có 9,6 bác sĩ trên 10.000 dân, tăng so với năm trước."
    path = tmp_path / "nfd.txt"
    path.write_text(unicodedata.normalize("NFD", composed), encoding="utf-8")
    doc = load(path, "nfd.txt", LANGUAGES)
    assert doc.text == composed and doc.language == "vi"


# Issue 23: any encoding, through charset-normalizer among the configured languages' code
# pages. Before it, UTF-16 was refused as binary and a short cp1252 note read as cp1250.
@pytest.mark.parametrize(("text", "encoding"), [
    ("Réunion à Thái Nguyên : 64 infirmières.", "cp1252"),
    ("Les infirmières sont arrivées à l'hôpital de Thái Nguyên à midi.", "cp1252"),
    ("Житомирська область отримала 23 машини.", "cp1251"),
    ("تسلمت محافظة الزرقاء 19 جهازا جديدا.", "windows-1256"),
    *[("Tỉnh Hà Giang đã xây dựng 12 trạm y tế xã mới.", enc) for enc in (
        "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
        "utf-32-be")],
    ("The province opened 12 new clinics.", "utf-16-le"),
])
def test_text_in_any_encoding_decodes_exactly(tmp_path: Path, text: str,
                                               encoding: str) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(text.encode(encoding))
    assert load(path, "note.txt", LANGUAGES).text == text


@pytest.mark.parametrize(("data", "reason"), [
    ("été".encode("cp1252"), "encoding is ambiguous (cp1251 reads 'йtй', cp1252 reads 'été')"),
    (bytes(range(256)) * 8, "not readable as text in any encoding"),
    (b"\x00\x01\x02\x03" * 300, "binary"),
])
def test_undecodable_text_is_refused_with_the_reason(tmp_path: Path, data: bytes,
                                                     reason: str) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(data)
    with pytest.raises(DocumentError, match=re.escape(reason)):
        load(path, "note.txt", LANGUAGES)


def test_csv_rows_carry_their_headers(tmp_path: Path) -> None:
    path = tmp_path / "beds.csv"
    path.write_text("Province;Hospital beds;Doctors per 10,000\nLang Son;2862;9,6\n"
                    "Tra Vinh;1530;8,1\n", encoding="utf-8")
    doc = load(path, "beds.csv", LANGUAGES)
    assert doc.title == "beds"
    assert [(s.locator, doc.lines[s.start]) for s in doc.sections] == [
        ("row 2", "Lang Son · Hospital beds: 2862. Lang Son · Doctors per 10,000: 9,6."),
        ("row 3", "Tra Vinh · Hospital beds: 1530. Tra Vinh · Doctors per 10,000: 8,1.")]


def test_ruled_pdf_table_becomes_rows(tmp_path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    path = tmp_path / "fleet.pdf"
    grid = [["Province", "Ambulances"], ["Soc Trang", "47"], ["Bac Lieu", "31"]]
    table = Table(grid, style=TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black")]))
    SimpleDocTemplate(str(path), pagesize=A4).build([table])
    doc = load(path, "fleet.pdf", LANGUAGES)
    rows = [(s.locator, doc.lines[s.start]) for s in doc.sections]
    assert rows == [("p. 1 · table 1 · row 2", "Soc Trang · Ambulances: 47."),
                    ("p. 1 · table 1 · row 3", "Bac Lieu · Ambulances: 31.")]


def _scan(path: Path, text_page: bool) -> Path:
    from bench.ocr_pages import page_image, scanned_pdf

    scan = scanned_pdf(tmp := path.with_suffix(".scan.pdf"), [page_image("en", 5)])
    if not text_page:
        return scan
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    _write(path.with_suffix(".text.pdf"), "pdf", LINES)
    writer.append(PdfReader(path.with_suffix(".text.pdf")))
    writer.append(PdfReader(tmp))
    writer.write(path)
    return path


@pytest.mark.parametrize("text_page", [False, True])
def test_without_tesseract_a_scan_says_how_to_install_it(tmp_path: Path,
                                                          text_page: bool) -> None:
    path = _scan(tmp_path / "mixed.pdf", text_page)
    no_ocr = OcrOptions(command=str(tmp_path / "no-tesseract"))
    if not text_page:
        with pytest.raises(DocumentError, match=r"Tesseract is not installed.*make ocr"):
            load(path, "mixed.pdf", LANGUAGES, ocr=no_ocr)
        return
    doc = load(path, "mixed.pdf", LANGUAGES, ocr=no_ocr)  # the text page is indexed
    assert "2862 hospital beds" in doc.text
    assert doc.warnings and doc.warnings[0].startswith("pages 2 are scans, not indexed")
    assert "apt-get install tesseract-ocr" in doc.warnings[0]


@pytest.mark.skipif(not installed("tesseract") >= {"eng"}, reason="needs `make ocr`")
def test_pages_read_with_low_confidence_are_reported(tmp_path: Path) -> None:
    from bench.ocr_pages import PAGES, render_page

    path = tmp_path / "faint.png"
    render_page(PAGES["en"], seed=2, noise=90.0, skew=3.0).save(path)
    doc = load(path, "faint.png", LANGUAGES, ocr=OcrOptions(min_confidence=99.5))
    assert doc.warnings and doc.warnings[0].startswith("OCR read with low confidence: p. 1 (")


def test_docx_table_with_merged_two_row_header(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    top = table.rows[0].cells
    top[0].merge(table.rows[1].cells[0]).text = "Province"
    top[1].merge(top[2]).text = "Midwives"
    for cell, year in zip(table.rows[1].cells[1:], ("2024", "2025"), strict=True):
        cell.text = year
    for cell, value in zip(table.rows[2].cells, ("Tra Vinh", "118", "131"), strict=True):
        cell.text = value
    document.save(str(tmp_path / "midwives.docx"))
    doc = load(tmp_path / "midwives.docx", "midwives.docx", LANGUAGES)
    assert [(s.locator, doc.lines[s.start]) for s in doc.sections] == [
        ("table 1 · row 3",
         "Tra Vinh · Midwives · 2024: 118. Tra Vinh · Midwives · 2025: 131.")]
