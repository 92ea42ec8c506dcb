"""Tables: every row becomes a passage that carries its headers, so a figure in a cell can
be found, quoted and cited ("Lang Son · Hospital beds · 2025: 2862").

Sources: ``.xlsx`` (openpyxl), ``.csv`` (the csv module's sniffer), DOCX tables
(python-docx) and ruled tables in PDFs (pdfplumber). Headers: the leading rows that hold
only words or years (at most three), with merged cells spread over the columns they cover.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from assistant.ingest.parts import Part

MAX_HEADER_ROWS = 3
DELIMITERS = ",;\t|"
_YEAR = re.compile(r"^(19|20)\d\d$")
_NUMBER = re.compile(r"^[-+(]?[\d\s.,%‰()]*\d[\d\s.,%‰()]*$")


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() \
            else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(round(value, 10))
    return " ".join(str(value).split())


def _is_figure(cell: str) -> bool:
    return bool(_NUMBER.match(cell)) and not _YEAR.match(cell.strip())


def header_rows(rows: Sequence[Sequence[str]]) -> int:
    """How many leading rows are headers: those with no figure in them (years allowed)."""
    count = 0
    for row in rows[: MAX_HEADER_ROWS + 1]:
        if any(_is_figure(c) for c in row if c):
            break
        count += 1
    if count == len(rows):  # a table of words only: its first row names the columns
        return 1 if len(rows) > 1 else 0
    return min(count, MAX_HEADER_ROWS)


def row_parts(rows: Sequence[Sequence[Any]], where: str,
              numbers: Sequence[int] | None = None) -> list[Part]:
    """One ``Part`` per data row. ``where`` prefixes the locator ("Sheet1", "table 2");
    ``numbers`` are the rows' own numbers (a spreadsheet's), else 1, 2, ..."""
    grid = [[cell_text(c) for c in row] for row in rows]
    numbered = [(n, r) for n, r in zip(numbers or range(1, len(grid) + 1), grid, strict=True)
                if any(r)]
    if not numbered:
        return []
    width = max(len(r) for _, r in numbered)
    numbered = [(n, r + [""] * (width - len(r))) for n, r in numbered]
    keep = [j for j in range(width) if any(r[j] for _, r in numbered)]  # no empty columns
    numbered = [(n, [r[j] for j in keep]) for n, r in numbered]
    k = header_rows([r for _, r in numbered])
    head = [r for _, r in numbered[:k]]
    for row in head[:-1]:  # a group label over several columns (merged, left cell only)
        for j in range(1, len(row)):
            row[j] = row[j] or row[j - 1]
    labels = [" · ".join(dict.fromkeys(r[j] for r in head if r[j])) for j in range(len(keep))]
    parts = []
    for n, row in numbered[k:]:
        text = _row_text(row, labels)
        if text:
            parts.append(Part(text, f"{where} · row {n}" if where else f"row {n}", whole=True))
    return parts


def _row_text(row: list[str], labels: list[str]) -> str:
    cells = [(label, value) for label, value in zip(labels, row, strict=True) if value]
    if not cells:
        return ""
    if not any(labels):  # no header: "Beds · 2862" reads as a key and its value
        values = [v for _, v in cells]
        return f"{' · '.join(values[:-1])}: {values[-1]}" if len(values) > 1 else values[0]
    # The first column names the row (a district, an indicator) when it holds words:
    # each cell then reads on its own, "Lang Son · Hospital beds · 2025: 2862".
    first = row[0]
    if first and not _is_figure(first):
        rest = [(lab, v) for lab, v in zip(labels[1:], row[1:], strict=True) if v]
        if not rest:
            return f"{labels[0]}: {first}" if labels[0] else first
        return ". ".join(f"{first} · {lab}: {v}" if lab else f"{first}: {v}"
                         for lab, v in rest) + "."
    return "; ".join(f"{lab}: {v}" if lab else v for lab, v in cells) + "."


def xlsx_parts(data: bytes) -> tuple[list[Part], str]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    parts: list[Part] = []
    for sheet in book.worksheets:
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        for merged in sheet.merged_cells.ranges:  # the value sits in the top-left cell only
            top = values[merged.min_row - 1][merged.min_col - 1]
            for r in range(merged.min_row - 1, min(merged.max_row, len(values))):
                for c in range(merged.min_col - 1, min(merged.max_col, len(values[r]))):
                    values[r][c] = top
        parts += row_parts(values, sheet.title, range(1, len(values) + 1))
    return parts, str(book.properties.title or "")


def csv_parts(text: str) -> list[Part]:
    import csv

    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    # The sniffer prefers "," on a tie, but "Lang Son;2862;9,6" (decimal commas) is
    # consistent either way: the delimiter that splits every line alike into the most
    # columns wins.
    lines = sample.splitlines()[:20]
    if len(lines) > 1:
        widths = {d: {len(r) for r in csv.reader(lines, delimiter=d)} for d in DELIMITERS}
        even = [d for d in DELIMITERS if len(widths[d]) == 1]
        best = max(even, key=lambda d: min(widths[d]), default=None)
        if best and min(widths[best]) > min(widths.get(dialect.delimiter, {1})):
            dialect = type("Sniffed", (csv.excel,), {"delimiter": best})
    return row_parts(list(csv.reader(io.StringIO(text), dialect)), "")


def docx_table_parts(document: Any) -> list[Part]:
    parts: list[Part] = []
    for t, table in enumerate(document.tables, 1):
        # python-docx repeats a merged cell in every grid column it spans.
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        parts += row_parts(rows, f"table {t}")
    return parts


def pdf_table_parts(data: bytes) -> dict[int, list[Part]]:
    """Ruled tables per page number (1-based); a page without one is absent."""
    import pdfplumber

    found: dict[int, list[Part]] = {}
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for p, page in enumerate(pdf.pages, 1):
            for t, table in enumerate(page.extract_tables(), 1):
                rows = [[c or "" for c in row] for row in table]
                found.setdefault(p, []).extend(row_parts(rows, f"p. {p} · table {t}"))
    return found
