"""Citations: numbered sources that point at passages actually retrieved and shown."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.text import dates

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
                date=dates.iso(raw_date),
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


