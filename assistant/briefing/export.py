"""A ``Briefing`` as Markdown, DOCX (python-docx: a real table, the numbered sources) or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from assistant.answer.lead import place_names
from assistant.briefing.types import Briefing, FigureRow, Line

Format = Literal["md", "docx", "json"]
FORMATS: tuple[Format, ...] = ("md", "docx", "json")


def _cell(text: str | None) -> str:
    # A pipe or a line break would break the Markdown table row.
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _line_text(line: Line, labels: dict[str, str]) -> str:
    due = f" ({labels['due']}: {line.due})" if line.due else ""
    return f"{line.text}{due} [{line.cite}]"


def _scope(briefing: Briefing) -> list[str]:
    labels = briefing.labels
    docs = [f"[{d['n']}] {d['title'] or d['source']} ({d['language']}, "
            f"{d['date'] or labels['undated']})" for d in briefing.documents]
    dates = sorted(d["date"] for d in briefing.documents if d["date"])
    cites = "".join(f"[{d['n']}]" for d in briefing.documents)
    span = (dates[0] if dates[0] == dates[-1] else f"{dates[0]} – {dates[-1]}") if dates \
        else labels["undated"]
    if dates and len(dates) < len(briefing.documents):
        span += f"; {labels['undated']}: {len(briefing.documents) - len(dates)}"
    languages = ", ".join(sorted({d["language"] for d in briefing.documents}))
    provinces = place_names(sorted({p for d in briefing.documents for p in d["provinces"]}),
                            briefing.language)
    return [f"{labels['documents']}: " + "; ".join(docs),
            f"{labels['dates']}: {span} {cites}",
            f"{labels['languages']}: {languages} {cites}",
            f"{labels['provinces']}: {provinces or '-'} {cites}"]


def _row(row: FigureRow) -> list[str]:
    return [row.indicator, row.value, row.unit, row.target or "", row.province,
            row.period or "", f"[{row.cite}]"]


def _columns(briefing: Briefing) -> list[str]:
    return [briefing.labels[k] for k in
            ("indicator", "value", "unit", "target", "province", "period", "source")]


def _sections(briefing: Briefing) -> list[tuple[str, list[Line]]]:
    return [(briefing.labels["directives"], briefing.directives),
            (briefing.labels["problems"], briefing.problems)]


def _source_line(briefing: Briefing, n: int) -> str:
    c = briefing.citations[n - 1]
    url = f" <{c.url}>" if c.url else ""
    meta = ", ".join(x for x in [c.language, c.date or ""] if x)
    return f"[{c.n}] {c.title} — {c.source} ({meta}){url}"


def to_markdown(briefing: Briefing) -> str:
    labels = briefing.labels
    out = [f"# {briefing.title}", ""]
    if briefing.empty:
        return "\n".join([*out, labels["none_found"], ""])
    out += [f"## {labels['scope']}", "", *(f"- {x}" for x in _scope(briefing)), ""]
    out += [f"## {labels['summary']}", "",
            *(f"- {_line_text(x, labels)}" for x in briefing.summary), ""]
    if briefing.figures:
        columns = _columns(briefing)
        out += [f"## {labels['key_figures']}", "", "| " + " | ".join(columns) + " |",
                "|" + "---|" * len(columns)]
        out += ["| " + " | ".join(_cell(c) for c in _row(r)) + " |" for r in briefing.figures]
        out.append("")
    for heading, lines in _sections(briefing):
        if lines:
            out += [f"## {heading}", "", *(f"- {_line_text(x, labels)}" for x in lines), ""]
    if briefing.by_province:
        out += [f"## {labels['by_province']}", ""]
        for province, lines in briefing.by_province.items():
            out += [f"### {province}", "", *(f"- {_line_text(x, labels)}" for x in lines), ""]
    out += [f"## {labels['sources']}", ""]
    out += [f"{c.n}. {_source_line(briefing, c.n)[len(f'[{c.n}] '):]}"
            for c in briefing.citations]
    return "\n".join(out) + "\n"


def to_json(briefing: Briefing) -> str:
    return json.dumps(briefing.to_dict(), ensure_ascii=False, indent=2)


def to_docx(briefing: Briefing, path: Path) -> Path:
    from docx import Document
    from docx.shared import Pt

    labels = briefing.labels
    doc = Document()
    doc.add_heading(briefing.title, level=0)
    if briefing.empty:
        doc.add_paragraph(labels["none_found"])
        doc.save(str(path))
        return path
    doc.add_heading(labels["scope"], level=1)
    for text in _scope(briefing):
        doc.add_paragraph(text, style="List Bullet")
    doc.add_heading(labels["summary"], level=1)
    for line in briefing.summary:
        doc.add_paragraph(_line_text(line, labels), style="List Bullet")
    if briefing.figures:
        doc.add_heading(labels["key_figures"], level=1)
        columns = _columns(briefing)
        table = doc.add_table(rows=1, cols=len(columns))
        table.style = "Table Grid"
        for cell, name in zip(table.rows[0].cells, columns, strict=True):
            cell.text = name
            for run in cell.paragraphs[0].runs:
                run.bold = True
        for row in briefing.figures:
            for cell, value in zip(table.add_row().cells, _row(row), strict=True):
                cell.text = value
                for run in cell.paragraphs[0].runs:
                    run.font.size = Pt(9)
    for heading, lines in _sections(briefing):
        if lines:
            doc.add_heading(heading, level=1)
            for line in lines:
                doc.add_paragraph(_line_text(line, labels), style="List Bullet")
    if briefing.by_province:
        doc.add_heading(labels["by_province"], level=1)
        for province, lines in briefing.by_province.items():
            doc.add_heading(province, level=2)
            for line in lines:
                doc.add_paragraph(_line_text(line, labels), style="List Bullet")
    doc.add_heading(labels["sources"], level=1)
    for c in briefing.citations:
        doc.add_paragraph(_source_line(briefing, c.n))
    doc.save(str(path))
    return path


def export(briefing: Briefing, fmt: Format, path: Path | None = None) -> str | Path:
    """Markdown or JSON text (also written to ``path`` if given), or the DOCX file's path."""
    if fmt == "docx":
        if path is None:
            raise ValueError("a DOCX briefing needs a file to write")
        return to_docx(briefing, path)
    text = to_markdown(briefing) if fmt == "md" else to_json(briefing)
    if path is not None:
        path.write_text(text, encoding="utf-8")
        return path
    return text
