"""What every answer backend returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.answer.citations import Citation
from assistant.search.searcher import Hit
from assistant.text.languages import UNKNOWN


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
    extra: dict[str, Any] = field(default_factory=dict)

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
            "citations": [c.to_dict() for c in self.citations],
            # An abstention names the nearest report ("it gives X, not Y [1]").
            "nearest": list(self.extra.get("nearest", [])),
            "retrieved": [
                {"source": h.source, "score": round(h.dense, 4), "bm25": round(h.bm25, 3),
                 "language": h.language, "text": h.text}
                for h in self.retrieved
            ],
        }
