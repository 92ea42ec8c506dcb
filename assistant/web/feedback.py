"""Feedback on answers: thumbs up/down and a comment, kept in SQLite in the data folder.

Each row carries what an evaluator needs to turn it into an eval case: the question, the
answer as shown, its sources, the backend and the latency. ``assistant feedback export``
writes the rows as CSV or JSONL.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from assistant.answer.types import Answer
from assistant.records.rows import write_rows

FILE_NAME = "feedback.sqlite"
COLUMNS = ("id", "created_at", "user", "rating", "comment", "question", "answer", "sources",
           "backend", "latency_ms", "abstained")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    user TEXT,
    rating INTEGER NOT NULL,          -- 1 thumbs up, -1 thumbs down, 0 comment only
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,            -- JSON list of {n, source, title, url, sentences}
    backend TEXT NOT NULL,
    latency_ms REAL NOT NULL,
    abstained INTEGER NOT NULL
)
"""


@dataclass
class Turn:
    """What the chat showed for one answer: enough to record feedback on it later."""

    question: str
    answer: str
    backend: str
    latency_ms: float
    abstained: bool
    sources: list[dict[str, Any]] = field(default_factory=list)
    language: str = ""  # the question's (for the audit log)

    @classmethod
    def from_answer(cls, answer: Answer) -> Turn:
        return cls(question=answer.question, answer=answer.answer, backend=answer.backend,
                   latency_ms=round(answer.latency_ms, 1), abstained=answer.abstained,
                   language=answer.language,
                   sources=[{"n": c.n, "source": c.source, "title": c.title, "url": c.url,
                             "sentences": c.sentences} for c in answer.citations])


class FeedbackStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short connection per call: the web app records from many worker threads.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute(_SCHEMA)
            with conn:
                yield conn
        finally:
            conn.close()

    def record(self, turn: Turn, rating: int, comment: str = "", user: str | None = None) -> int:
        if rating not in (-1, 0, 1):
            raise ValueError("rating must be -1, 0 or 1")
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO feedback (created_at, user, rating, comment, question, answer,"
                " sources, backend, latency_ms, abstained) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), user, rating,
                 comment.strip(), turn.question, turn.answer,
                 json.dumps(turn.sources, ensure_ascii=False), turn.backend, turn.latency_ms,
                 int(turn.abstained)))
            return int(cur.lastrowid or 0)

    def rows(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            rows = [dict(r) for r in conn.execute(
                f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")]
        for row in rows:
            row["sources"] = json.loads(row["sources"])
            row["abstained"] = bool(row["abstained"])
        return rows

    def export(self, out: IO[str], fmt: Literal["csv", "jsonl"],
               readable: Collection[str] | None = None) -> int:
        """Write the rows; with ``readable`` (the sources a reader may read), only rows
        whose every cited source is among them: an answer quotes its sources."""
        rows = [r for r in self.rows() if readable is None
                or all(s.get("source") in readable for s in r["sources"])]
        return write_rows(out, fmt, rows, COLUMNS, lambda row: {
            **row, "sources": json.dumps(row["sources"], ensure_ascii=False)})


def turn_dict(turn: Turn) -> dict[str, Any]:
    return asdict(turn)
