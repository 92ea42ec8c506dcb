"""BM25 over the committed chunks (bm25s), rebuilt when the index's revision moves."""

from __future__ import annotations

import numpy as np

from assistant.index.store import ChromaStore
from assistant.text.languages import tokenize


class Lexicon:
    """BM25 over the committed chunks, rebuilt when the index's revision moves."""

    def __init__(self, store: ChromaStore) -> None:
        import bm25s

        self.revision = store.revision()
        visible: set[str] = set()
        for record in store.documents():
            visible.update(record.chunk_ids)
        self.visible = visible
        self.ids: list[str] = []
        tokens: list[list[str]] = []
        for chunk_id, _meta, text in store.iter_chunks():
            if chunk_id in visible:
                self.ids.append(chunk_id)
                tokens.append(tokenize(text))
        self.bm25 = bm25s.BM25()
        if tokens:
            self.bm25.index(tokens, show_progress=False)

    def top(self, query: str, n: int) -> list[tuple[str, float]]:
        if not self.ids:
            return []
        scores = self.bm25.get_scores(tokenize(query))
        n = min(n, len(scores))
        best = np.argpartition(-scores, n - 1)[:n]
        return [(self.ids[i], float(scores[i])) for i in best[np.argsort(-scores[best])]
                if scores[i] > 0]
