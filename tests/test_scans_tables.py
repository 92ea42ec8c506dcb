"""Real documents end to end (issue 23): scanned pages made here (five languages, noise and
skew, wrapped in a PDF) and a photo read by Tesseract, a DOCX table, an xlsx of indicators
per district and encoded text files, each uploaded as the Documents tab does and asked a
question only it answers, cited to the right page, row or file."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import docx
import openpyxl
import pytest

from assistant import Assistant, Settings
from assistant.ingest.loading import load
from assistant.ingest.ocr import installed
from assistant.web.sources import render_answer
from bench.ocr_pages import PAGES, page_image, scanned_pdf

LANGUAGES = Settings().languages
needs_ocr = pytest.mark.skipif(
    not installed("tesseract") >= {"eng", "vie", "ukr", "fra", "ara"},
    reason="Tesseract with vie/ukr/fra/ara data is not installed (`make ocr`)")


def figures(line: str) -> list[str]:
    return re.findall(r"(?<!\w)\d+(?:[.,]\d+)*", line)


@needs_ocr
@pytest.mark.parametrize("language", ["vi", "uk", "fr", "en", "ar"])
def test_scanned_page_reads_back_with_every_figure(tmp_path: Path, language: str) -> None:
    # Page 1 is a scan in another language: each page is read in its own.
    other = "fr" if language == "en" else "en"
    pdf = scanned_pdf(tmp_path / "scan.pdf", [page_image(other, 3), page_image(language, 7)])
    doc = load(pdf, "scan.pdf", LANGUAGES)
    assert [re.sub(r"\d+%$", "", s.locator) for s in doc.sections] == \
        ["p. 1 · OCR ", "p. 2 · OCR "]
    page = " ".join(doc.lines[doc.sections[1].start:doc.sections[1].end])
    expected = [f for line in PAGES[language] for f in figures(line)]
    assert figures(page) == expected
    assert doc.warnings == []  # clean enough: no page reported as doubtful


def _table_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("Ambulance fleet of the southern provinces, December 2025.")
    table = document.add_table(rows=3, cols=3)
    for row, values in zip(table.rows, [("Province", "Ambulances", "Drivers"),
                                        ("Soc Trang", "47", "95"), ("Bac Lieu", "31", "66")],
                           strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.save(str(path))
    return path


def _indicators_xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Districts"
    # Two header rows, the indicator names merged over their two years.
    sheet.append(["District", "Hospital beds", None, "Doctors", None])
    sheet.append([None, 2024, 2025, 2024, 2025])
    sheet.merge_cells("B1:C1")
    sheet.merge_cells("D1:E1")
    sheet.merge_cells("A1:A2")
    for row in (["Hoa An", 310, 326, 41, 44], ["Trung Khanh", 188, 204, 23, 27],
                ["Bao Lac", 152, 161, 19, 22]):
        sheet.append(row)
    book.save(str(path))
    return path


TEXTS = {  # name: (text, encoding)
    "ukr_cp1251.txt": ("Житомирська область отримала 23 нові машини швидкої допомоги у "
                       "вересні 2025 року.", "cp1251"),
    "ara_1256.txt": ("تسلمت محافظة الزرقاء 19 جهازا جديدا لغسيل الكلى في عام 2025.",
                     "windows-1256"),
    "fra_1252.txt": ("Réunion à Thái Nguyên : 64 infirmières formées à l'échographie.",
                     "cp1252"),
    "vie_utf16.txt": ("Tỉnh Hà Giang đã xây dựng 12 trạm y tế xã mới trong năm 2025.",
                      "utf-16"),
}


@pytest.mark.slow
@needs_ocr
def test_uploaded_scans_tables_and_encodings_answer_with_page_row_and_file(
        tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    assistant = Assistant(make_settings(data_dir=tmp_path / "data",
                                        corpus_dir=tmp_path / "corpus"))
    files = [(scanned_pdf(tmp_path / "scan.pdf", [page_image("en", 1), page_image("vi", 2)]),
              "scan.pdf")]
    page_image("fr", 4).save(tmp_path / "photo.jpg", quality=85)
    files.append((tmp_path / "photo.jpg", "photo.jpg"))
    files.append((_table_docx(tmp_path / "fleet.docx"), "fleet.docx"))
    files.append((_indicators_xlsx(tmp_path / "cao_bang.xlsx"), "cao_bang.xlsx"))
    for name, (text, encoding) in TEXTS.items():
        (tmp_path / name).write_bytes(text.encode(encoding))
        files.append((tmp_path / name, name))
    report = assistant.add_files(files)
    assert report.refused == [] and report.ingest is not None
    assert report.ingest.failed == [] and report.ingest.warnings == []
    assert sorted(report.ingest.added) == sorted(name for _, name in files)

    cases = [  # question, figure, source, what the citation must name
        ("Tỉnh Lạng Sơn có bao nhiêu giường bệnh?", "2862", "scan.pdf", "p. 2 · OCR"),
        ("How many clinics does the Northern district have?", "58", "scan.pdf", "p. 1 · OCR"),
        ("Combien d'infirmières compte la province de Kindia ?", "583", "photo.jpg",
         "p. 1 · OCR"),
        ("How many ambulances does Bac Lieu have?", "31", "fleet.docx", "table 1 · row 3"),
        ("How many hospital beds did Trung Khanh district have in 2025?", "204",
         "cao_bang.xlsx", "Districts · row 4"),
        ("Скільки машин швидкої допомоги отримала Житомирська область?", "23",
         "ukr_cp1251.txt", ""),
        ("كم عدد أجهزة غسيل الكلى التي تسلمتها محافظة الزرقاء؟", "19", "ara_1256.txt", ""),
        ("Combien d'infirmières ont été formées à Thái Nguyên ?", "64", "fra_1252.txt", ""),
        ("Tỉnh Hà Giang đã xây dựng bao nhiêu trạm y tế xã mới?", "12", "vie_utf16.txt", ""),
    ]
    # Fails closed, rightly by the rule (issue 21): "أجهزة" (devices, a broken plural) is
    # not "جهازا" to the figure binding, and dialysis machines are outside the vocabulary;
    # the decoded file must still be the nearest report it names.
    closed = {"كم عدد أجهزة غسيل الكلى التي تسلمتها محافظة الزرقاء؟"}
    failures = []
    for turn, (question, figure, source, locator) in enumerate(cases):
        answer = assistant.ask(question)
        if question in closed:
            near = {c.source for c in [*answer.nearest, *answer.suggestions]}
            if not (answer.abstained and source in near):
                failures.append((question, answer.answer, sorted(near)))
            continue
        # The web chat's source card names the page or row, with the cited row marked.
        html = render_answer(answer, turn, "")
        if locator and (locator not in html or "<mark" not in html):
            failures.append((question, "card", html[:300]))
        cited = answer.citations[0] if answer.citations else None
        if (answer.abstained or cited is None or cited.source != source
                or figure not in answer.answer or figure not in " ".join(cited.sentences)
                or locator not in cited.title):
            failures.append((question, answer.answer, cited and (cited.source, cited.title)))
    assert failures == [], "\n".join(map(repr, failures))


@pytest.mark.slow
@needs_ocr
def test_documents_tab_upload_then_web_chat_cites_page_and_row(
        tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    from gradio_client import Client, handle_file

    from assistant.web.app import serve

    from .conftest import free_port

    # No users file: local single-user mode, the Documents tab is open.
    assistant = Assistant(make_settings(data_dir=tmp_path / "data",
                                        corpus_dir=tmp_path / "corpus"))
    scan = scanned_pdf(tmp_path / "scan.pdf", [page_image("en", 1), page_image("vi", 2)])
    sheet = _indicators_xlsx(tmp_path / "cao_bang.xlsx")
    port = free_port()
    app = serve(assistant, host="127.0.0.1", port=port, block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        status, table, _ = client.predict([handle_file(str(scan)), handle_file(str(sheet))],
                                          api_name="/upload")
        assert "Accepted: scan.pdf, cao_bang.xlsx" in status, status
        assert len(table["data"]) == 2
        answers = {}
        for question in ("Tỉnh Lạng Sơn có bao nhiêu giường bệnh?",
                         "How many doctors did Bao Lac district have in 2025?"):
            history, _, _ = client.predict(question, [], "(any)", "(any)", "", "",
                                           api_name="/chat")
            content = history[-1]["content"]
            answers[question] = content if isinstance(content, str) else " ".join(
                part.get("text", "") for part in content)
    finally:
        app.close()
    vi, xlsx = answers.values()
    assert "2862" in vi and "scan · p. 2 · OCR" in vi and "<mark" in vi
    assert "22" in xlsx and "cao_bang · Districts · row 5" in xlsx
    assert "<mark id=\"t1-src1\">Bao Lac · Doctors · 2025: 22.</mark>" in xlsx
