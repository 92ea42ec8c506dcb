"""What a reader hands back: the file's text in parts, each maybe named for citations.

A plain report is one part. A scanned page, or a table row, is a part with a locator
("p. 2 · OCR 93%", "Districts · row 4") that the citation shows; a row is ``whole``: one
passage of its own, never packed with its neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Part:
    text: str
    locator: str = ""
    whole: bool = False


@dataclass
class Extracted:
    parts: list[Part]
    title: str = ""
    warnings: list[str] = field(default_factory=list)  # reported at ingest, not fatal
