from __future__ import annotations

import unicodedata
from pathlib import Path

import docx
import pytest
from reportlab.pdfgen import canvas

from assistant.config import Settings
from assistant.ingest.loading import load

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
    if kind == "docx":
        assert "Beds | 2862" in doc.text


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
