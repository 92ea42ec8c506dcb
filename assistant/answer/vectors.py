"""Sentence vectors for the extractive answerer, shared by the web app's threads."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from assistant.index.embedding import LocalEmbeddings


class VectorCache:
    """Passage vectors of sentences, least recently used dropped first; safe to share.

    The same passages come back for related questions: each sentence is embedded once.
    Embedding happens outside the lock, so threads never wait on each other's model calls.
    """

    def __init__(self, embedder: LocalEmbeddings, size: int) -> None:
        self.embedder = embedder
        self.size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def passages(self, sentences: list[str]) -> np.ndarray:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for s in dict.fromkeys(sentences):
                if s in self._cache:
                    self._cache.move_to_end(s)
                    found[s] = self._cache[s]
        todo = [s for s in dict.fromkeys(sentences) if s not in found]
        if todo:
            found.update(zip(todo, self.embedder.embed_passages(todo), strict=True))
            with self._lock:
                for s in todo:
                    self._cache[s] = found[s]
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return np.stack([found[s] for s in sentences])
