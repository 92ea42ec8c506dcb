"""BM25 over the committed chunks of one index snapshot (``index.snapshot``).

The postings are saved with the snapshot and memory-mapped, and scored at query time
(bm25s's "lucene" formula, idf and lengths from the snapshot's own rows), so a new process
answers at once and an ingest updates them by the changed files only.
"""

from __future__ import annotations

import numpy as np

from assistant.index.snapshot import Snapshot
from assistant.text.languages import tokenize


class Lexicon:
    """BM25 over the chunks of one snapshot (the files committed at its revision)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.key = snapshot.key  # (collection, revision): changes on reset too
        self.visible = snapshot.visible
        self.ids = snapshot.ids

    def top(self, query: str, n: int, mask: np.ndarray | None = None
            ) -> list[tuple[str, float]]:
        """The ``n`` best chunks with a positive score; ``mask``: only those rows."""
        if not self.ids:
            return []
        scores = self.snapshot.bm25_scores(tokenize(query))
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(scores))
        best = np.argpartition(-scores, n - 1)[:n]
        return [(self.ids[i], float(scores[i])) for i in best[np.argsort(-scores[best])]
                if scores[i] > 0]
