"""What every answer backend returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.answer.citations import Citation
from assistant.search.searcher import Hit
from assistant.text.languages import UNKNOWN


@dataclass(frozen=True)
class Fallback:
    """A language model failed and the extractive answer stands in for its answer."""

    backend: str  # the backend that failed
    notice: str  # what the reader is told
    error: str
    error_type: str


@dataclass(frozen=True)
class Generation:
    """What a language model's answer was made of (for the eval, benches and tests)."""

    model: str
    raw_answer: str
    context: Mapping[str, Any]  # the context budget's report: passages shown, tokens
    dropped_markers: list[int]  # [n] markers past the passages shown, as written
    attached: list[dict[str, Any]]  # uncited sentences cited to the passage supporting them
    unsupported_sentences: list[str]
    unverified_figures: list[str]  # figures of the answer no shown passage holds


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    retrieved: list[Hit]
    language: str = UNKNOWN
    reason: str = ""
    backend: str = "extractive"
    latency_ms: float = 0.0
    evidence: float = 0.0  # score of the best sentence (similarity plus anchor bonuses)
    # How sure: "answered", "partial" (the passage holds part of what was asked) or
    # "not found" (abstained); from the support check (answer/support.py).
    status: str = "answered"
    # The share of the question's words the quoted passage holds (the status's basis for
    # an untyped question in the passage's language); 1 where a typed check decided.
    support: float = 1.0
    lead: str = ""  # the lead line, without its [n]
    span: str = ""  # the fact the lead states (a figure, name, date or place) as written
    # An abstention's [1]: the nearest report ("it gives X, not Y [1]").
    nearest: list[Citation] = field(default_factory=list)
    # The closest passages when abstaining, shown apart from any answer, never cited by it.
    suggestions: list[Citation] = field(default_factory=list)
    standalone_question: str = ""  # a follow-up's rewrite, as searched and answered
    vetoed: bool = False  # a model was not asked: the answerability check said no
    fallback: Fallback | None = None
    generation: Generation | None = None

    def __post_init__(self) -> None:
        if self.abstained:
            self.status = "not found"

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "language": self.language,
            "backend": self.backend,
            "reason": self.reason,
            "evidence": round(self.evidence, 4),
            "latency_ms": round(self.latency_ms, 1),
            "status": self.status,
            "support": round(self.support, 3),
            "lead": self.lead,
            "span": self.span,
            "citations": [c.to_dict() for c in self.citations],
            "nearest": [c.to_dict() for c in self.nearest],
            "suggestions": [c.to_dict() for c in self.suggestions],
            **({"standalone_question": self.standalone_question}
               if self.standalone_question else {}),
            **({"fallback": asdict(self.fallback)} if self.fallback else {}),
            "retrieved": [
                {"source": h.source, "score": round(h.dense, 4), "bm25": round(h.bm25, 3),
                 "language": h.language, "text": h.text}
                for h in self.retrieved
            ],
        }
