"""Citations: numbered sources that point at passages actually retrieved and shown."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

MARKER = re.compile(r"\[(\d+)\]")


@dataclass
class Citation:
    n: int
    source: str
    title: str
    url: str | None
    text: str  # the passage the cited sentences come from
    sentences: list[str] = field(default_factory=list)
    language: str = "und"
    date: str | None = None
    provinces: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CitationBuilder:
    """Numbers sources 1..k in order of first use; one number per source document."""

    def __init__(self) -> None:
        self._by_source: dict[str, Citation] = {}

    def cite(self, source: str, sentence: str, passage: str, metadata: dict[str, Any]) -> int:
        citation = self._by_source.get(source)
        if citation is None:
            raw_date = metadata.get("date")
            citation = Citation(
                n=len(self._by_source) + 1, source=source, title=str(metadata.get("title", "")),
                url=metadata.get("url"), text=passage, language=str(metadata.get("lang", "und")),
                date=_iso(raw_date) if raw_date else None,
                provinces=list(metadata.get("provinces", [])),
            )
            self._by_source[source] = citation
        elif passage not in citation.text:
            citation.text = f"{citation.text}\n…\n{passage}"
        citation.sentences.append(sentence)
        return citation.n

    @property
    def citations(self) -> list[Citation]:
        return sorted(self._by_source.values(), key=lambda c: c.n)


def markers(text: str) -> list[int]:
    """The citation numbers an answer uses, in order."""
    return [int(m) for m in MARKER.findall(text)]


def render_sources(citations: list[Citation], heading: str = "Sources") -> str:
    lines = [f"{heading}:"]
    for c in citations:
        link = f" <{c.url}>" if c.url else ""
        lines.append(f"[{c.n}] {c.title} ({c.source}){link}")
    return "\n".join(lines)


def _iso(value: Any) -> str:
    text = str(value)
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if text.isdigit() and len(text) == 8 else text
