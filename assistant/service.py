"""The ``Assistant``: settings in, every pipeline stage wired once, used by CLI and web."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.answer.backends import AnswerBackend, make_backend
from assistant.answer.extractive import Answer, ExtractiveAnswerer
from assistant.config import Settings
from assistant.index.embedding import LocalEmbeddings, make_embedder
from assistant.index.indexing import Indexer, IngestReport
from assistant.index.store import ChromaStore, DocRecord
from assistant.prompts import load_translation
from assistant.search.retrieval import Filters, HybridRetriever, Searcher
from assistant.search.translation import QuestionTranslator

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.briefing.briefer import Briefing, BriefRequest


class Assistant:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.store = ChromaStore(self.settings)

    @cached_property
    def embedder(self) -> LocalEmbeddings:
        return make_embedder(self.settings)

    @cached_property
    def indexer(self) -> Indexer:
        return Indexer(self.settings, self.store, self.embedder)

    @cached_property
    def searcher(self) -> Searcher:
        searcher = Searcher(self.settings, self.store, self.embedder)
        searcher.translate = self._translate
        return searcher

    def translating(self) -> bool:
        """Whether questions are translated for search (``translate_questions``)."""
        mode = self.settings.translate_questions
        return mode == "on" or (mode == "auto" and self.settings.answer_backend == "openai")

    def _translate(self, question: str, language: str, targets: list[str]) -> dict[str, str]:
        # Decided per question: ``use_backend`` may switch the backend after the searcher.
        if not self.translating():
            return {}
        return self._translator(question, language, targets)

    @cached_property
    def _translator(self) -> QuestionTranslator:
        def chat() -> BaseChatModel:
            from assistant.answer.generative import make_chat_model

            quick = self.settings.model_copy(update={
                "llm_max_retries": 0, "llm_timeout": self.settings.translation_timeout})
            # The local backend's server (started by the backend) or the configured endpoint.
            return make_chat_model(quick, getattr(self.backend, "base_url", None),
                                   legacy_max_tokens=self.settings.answer_backend == "local")

        return QuestionTranslator(chat, load_translation(self.settings.prompts_dir),
                                  self.settings.languages)

    @cached_property
    def answerer(self) -> ExtractiveAnswerer:
        return ExtractiveAnswerer(self.settings, self.searcher, self.embedder)

    @cached_property
    def backend(self) -> AnswerBackend:
        """The answer backend ``Settings.answer_backend`` names (extractive by default)."""
        backend, self._local_server = make_backend(self)
        return backend

    def use_backend(self, name: str) -> None:
        """Switch the answer backend (``extractive``, ``openai``, ``local``) before asking."""
        self.close()
        self.settings = self.settings.model_copy(update={"answer_backend": name})
        self.__dict__.pop("backend", None)
        self.__dict__.pop("_translator", None)

    def close(self) -> None:
        """Stop the local model server, if this assistant started one."""
        server = self.__dict__.pop("_local_server", None)
        if server is not None:
            server.stop()

    def retriever(self, k: int | None = None, filters: Filters | None = None) -> HybridRetriever:
        return HybridRetriever(searcher=self.searcher, k=k or self.settings.retrieval_k,
                               filters=filters or Filters())

    def ingest(self, paths: Iterable[Path] | None = None, progress: bool = False) -> IngestReport:
        return self.indexer.ingest(list(paths or [self.settings.corpus_dir]), progress=progress)

    def ask(self, question: str, filters: Filters | None = None, k: int | None = None,
            history: list[tuple[str, str]] | None = None) -> Answer:
        """Answer one question; ``history`` is earlier (question, answer) turns, oldest first."""
        return self.backend.answer(question, filters, k, history)

    def ask_stream(self, question: str, filters: Filters | None = None, k: int | None = None,
                   history: list[tuple[str, str]] | None = None) -> Iterator[str | Answer]:
        """Stream an answer: text deltas (``str``) as they come, then the final ``Answer``.

        The final ``Answer`` is authoritative (citations checked and renumbered); the web chat
        and ``assistant ask --stream`` show the deltas, then replace them with it.
        """
        yield from self.backend.stream(question, filters, k, history)

    def brief(self, request: BriefRequest, chat_model: BaseChatModel | None = None) -> Briefing:
        """A cited briefing on a topic, province and period from every relevant document."""
        from assistant.briefing.briefer import Briefer

        if chat_model is None and self.settings.answer_backend != "extractive":
            # A configured language model writes the summary; its figures are still checked.
            chat_model = getattr(self.backend, "chat", None)
        return Briefer(self.settings, self.store, self.embedder, chat_model).brief(request)

    def sources(self) -> list[DocRecord]:
        return self.store.documents()

    def remove(self, source: str) -> bool:
        return self.indexer.remove(source)

    def reset(self) -> None:
        self.store.reset()
