"""What a briefing is: the request, its lines, its figures table, the briefing itself, and
the labels it is written with (``data/prompts/briefing.yaml``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationInfo, model_validator

from assistant.access import User
from assistant.answer.citations import Citation
from assistant.prompts import load_model, require_languages


class BriefingMessages(BaseModel):
    labels: dict[str, dict[str, str]]
    indicators: dict[str, dict[str, str]]
    llm_system: str
    llm_user: str
    language_names: dict[str, str]

    @model_validator(mode="after")
    def _every_language(self, info: ValidationInfo) -> BriefingMessages:
        for group in (self.labels, self.indicators, {"language_names": self.language_names}):
            require_languages(info, group)
        if any("{topic}" not in t for t in self.labels["title"].values()):
            raise ValueError("title must contain {topic}")
        return self

    def label(self, name: str, language: str) -> str:
        table = self.labels[name]
        return table.get(language) or table["en"]


@lru_cache(maxsize=8)
def load_briefing_messages(prompts_dir: Path, languages: tuple[str, ...]) -> BriefingMessages:
    return load_model(BriefingMessages, prompts_dir / "briefing.yaml", languages)


@dataclass(frozen=True)
class BriefRequest:
    topic: str = ""
    province: str | None = None
    since: date | None = None
    until: date | None = None
    language: str = "en"
    reader: User | None = None  # who asks: only documents they may read are briefed on


@dataclass
class Line:
    """One cited line: a source sentence verbatim (or a checked model-written line)."""

    text: str
    cite: int
    source: str
    language: str
    provinces: list[str] = field(default_factory=list)
    due: str | None = None


@dataclass
class FigureRow:
    indicator: str
    value: str  # verbatim from the cited sentence
    unit: str
    target: str | None
    province: str
    period: str | None
    cite: int
    concept: str
    sentence: str
    source: str


@dataclass
class Briefing:
    request: BriefRequest
    title: str
    language: str
    labels: dict[str, str]
    documents: list[dict[str, Any]] = field(default_factory=list)
    summary: list[Line] = field(default_factory=list)
    figures: list[FigureRow] = field(default_factory=list)
    directives: list[Line] = field(default_factory=list)
    problems: list[Line] = field(default_factory=list)
    by_province: dict[str, list[Line]] = field(default_factory=dict)
    citations: list[Citation] = field(default_factory=list)
    backend: str = "extractive"
    dropped: list[str] = field(default_factory=list)  # model lines that failed the check
    model_error: str = ""  # why the model's summary was not used (the extractive one stays)
    latency_ms: float = 0.0

    @property
    def empty(self) -> bool:
        return not self.citations

    def to_dict(self) -> dict[str, Any]:
        request = asdict(self.request)
        request.pop("reader", None)
        request["since"] = self.request.since.isoformat() if self.request.since else None
        request["until"] = self.request.until.isoformat() if self.request.until else None
        return {
            "title": self.title, "language": self.language, "backend": self.backend,
            "request": request, "documents": self.documents,
            "summary": [asdict(x) for x in self.summary],
            "figures": [asdict(x) for x in self.figures],
            "directives": [asdict(x) for x in self.directives],
            "problems": [asdict(x) for x in self.problems],
            "by_province": {p: [asdict(x) for x in lines] for p, lines in self.by_province.items()},
            "sources": [c.to_dict() for c in self.citations],
            "dropped": self.dropped, "latency_ms": round(self.latency_ms, 1),
        }
