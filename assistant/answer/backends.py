"""The answer-backend seam: one small protocol, chosen once from ``Settings.answer_backend``
(or passed to ``Assistant`` ready-made)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.llm import ChatEndpoint
from assistant.answer.types import Answer
from assistant.config import Settings
from assistant.index.embedding import LocalEmbeddings
from assistant.search.query import Query
from assistant.search.searcher import Hit


class AnswerBackend(Protocol):
    """Composes an answer from a prepared question and the passages retrieved for it.

    A backend never validates, embeds or searches; the service does that once.
    """

    name: str
    pool_k: int  # how many passages it wants to compose from

    def compose(self, query: Query, hits: list[Hit]) -> Answer: ...

    def stream(self, query: Query, hits: list[Hit]) -> Iterator[str | Answer]:
        """Text deltas (``str``) as they come, then the final, checked ``Answer``."""
        ...


def make_backend(settings: Settings, embedder: LocalEmbeddings,
                 chat: ChatEndpoint | None) -> AnswerBackend:
    """The backend ``settings.answer_backend`` names; a model backend needs ``chat``."""
    extractive = ExtractiveAnswerer(settings, embedder)
    if chat is None:
        return extractive
    from assistant.answer.generative import GenerativeAnswerer

    return GenerativeAnswerer(settings, chat, embedder, extractive)
