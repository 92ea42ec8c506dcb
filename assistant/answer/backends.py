"""The answer-backend seam: one interface, chosen once from ``Settings.answer_backend``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from assistant.answer.extractive import Answer, ExtractiveAnswerer
from assistant.search.followup import History
from assistant.search.retrieval import Filters

if TYPE_CHECKING:
    from assistant.answer.local_llm import LocalModelServer
    from assistant.service import Assistant


class AnswerBackend(Protocol):
    backend: str

    def answer(self, question: str, filters: Filters | None = None, k: int | None = None,
               history: History | None = None) -> Answer: ...

    def stream(self, question: str, filters: Filters | None = None, k: int | None = None,
               history: History | None = None) -> Iterator[str | Answer]:
        """Text deltas (``str``) as they come, then the final, checked ``Answer``."""
        ...


def make_backend(assistant: Assistant) -> tuple[AnswerBackend, LocalModelServer | None]:
    """The configured backend, and the local model server it owns (if any)."""
    settings = assistant.settings
    extractive: ExtractiveAnswerer = assistant.answerer
    if settings.answer_backend == "extractive":
        return extractive, None
    from assistant.answer.generative import GenerativeAnswerer

    if settings.answer_backend == "openai":
        return GenerativeAnswerer(settings, assistant.searcher, assistant.embedder,
                                  extractive), None
    from assistant.answer.local_llm import LocalModelServer

    server = LocalModelServer.from_settings(settings)
    return GenerativeAnswerer(settings, assistant.searcher, assistant.embedder, extractive,
                              backend="local", endpoint=server.start), server
