"""The ``Assistant``: the composition root. Settings in, every stage built once, used by the
command line, the web app and the evaluation.

A question takes one path: ``prepare`` (validate, rewrite a follow-up, detect, embed,
translate: one immutable ``Query``), ``Searcher.search(query, k, filters)``, then the answer
backend's ``compose(query, hits)`` or ``stream(query, hits)``. Every object built here is
shared by the web app's threads and holds no per-question state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.access import User
from assistant.answer.backends import AnswerBackend, make_backend
from assistant.answer.generative import GenerativeAnswerer
from assistant.answer.llm import ChatEndpoint
from assistant.answer.types import Answer
from assistant.config import Settings
from assistant.errors import AssistantError, EmptyIndexError
from assistant.index import uploads
from assistant.index.embedding import LocalEmbeddings, make_embedder
from assistant.index.indexing import Indexer, IngestReport
from assistant.index.store import ChromaStore, DocRecord
from assistant.prompts import load_generative, load_translation
from assistant.search import make_searcher
from assistant.search.filters import Filters
from assistant.search.followup import History
from assistant.search.query import Query, QueryBuilder
from assistant.search.retriever import SearchRetriever
from assistant.search.searcher import Hit
from assistant.search.translation import QuestionTranslator

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.briefing.types import Briefing, BriefRequest


def _chat_endpoint(settings: Settings, chat: BaseChatModel | None) -> ChatEndpoint | None:
    """The language model, if the settings (or the caller) give one."""
    if chat is not None:
        return ChatEndpoint(settings, "openai", model=chat)
    if settings.answer_backend != "extractive":
        return ChatEndpoint(settings, settings.answer_backend)
    if settings.llm.translate_questions == "on":  # extractive answers, translated search
        return ChatEndpoint(settings, "openai")
    return None


class Assistant:
    """``Assistant(settings, *, backend=, embedder=, store=, chat=)`` builds what it is not
    given: the embedder and Chroma store named by the settings, and the answer backend
    ``settings.answer_backend`` names (``chat``: a LangChain chat model to answer with)."""

    def __init__(self, settings: Settings | None = None, *,
                 backend: AnswerBackend | None = None, embedder: LocalEmbeddings | None = None,
                 store: ChromaStore | None = None, chat: BaseChatModel | None = None) -> None:
        self.settings = settings = settings or Settings()
        self.store = store or ChromaStore(settings)
        self._own_store = store is None  # closed with the assistant; a caller's is theirs
        self.embedder = embedder or make_embedder(settings)  # the model itself loads lazily
        self.chat = _chat_endpoint(settings, chat)
        self.indexer = Indexer(settings, self.store, self.embedder)
        self.searcher = make_searcher(settings, self.store, self.embedder)
        # The model writes answers when the settings name a model backend or one is passed;
        # with translate_questions=on alone, it only translates.
        writes = chat is not None or settings.answer_backend != "extractive"
        self.backend = backend or make_backend(settings, self.embedder,
                                               self.chat if writes else None)
        languages = tuple(settings.languages)
        messages = load_generative(settings.prompts_dir, languages)
        rewrite = None
        if self.chat is not None and writes and settings.llm.rewrite_followups:
            rewrite = self.chat.rewriter(messages)
        self.translator: QuestionTranslator | None = None
        mode = settings.llm.translate_questions
        if self.chat is not None and (mode == "on" or (mode == "auto" and (
                chat is not None or settings.answer_backend == "openai"))):
            endpoint = self.chat
            self.translator = QuestionTranslator(lambda: endpoint.model(quick=True),
                                                 load_translation(settings.prompts_dir, languages),
                                                 settings.languages)
        self.queries = QueryBuilder(self.embedder, settings.languages,
                                    settings.answer.max_question_chars, messages.followup_cues,
                                    rewrite=rewrite, translate=self.translator)

    # The question path.
    def prepare(self, question: str, history: History | None = None) -> Query:
        """The question, ready to search: see ``QueryBuilder.prepare``."""
        languages = self.searcher.languages() if self.translator is not None else ()
        return self.queries.prepare(question, history, languages)

    def search(self, question: str | Query, k: int | None = None,
               filters: Filters | None = None) -> list[Hit]:
        query = question if isinstance(question, Query) else self.prepare(question)
        return self.searcher.search(query, k, filters)

    def _retrieve(self, question: str | Query, filters: Filters | None, k: int | None,
                  history: History | None, backend: AnswerBackend | None = None
                  ) -> tuple[Query, list[Hit]]:
        query = question if isinstance(question, Query) else self.prepare(question, history)
        hits = self.searcher.search(query, k or (backend or self.backend).pool_k, filters)
        if not hits and self.store.is_empty():  # checked only then: no cost on the way
            raise EmptyIndexError
        return query, hits

    def ask(self, question: str | Query, filters: Filters | None = None, k: int | None = None,
            history: History | None = None) -> Answer:
        """Answer one question; ``history`` is earlier (question, answer) turns, oldest first."""
        query, hits = self._retrieve(question, filters, k, history)
        return self.backend.compose(query, hits)

    def ask_stream(self, question: str | Query, filters: Filters | None = None,
                   k: int | None = None, history: History | None = None,
                   backend: AnswerBackend | None = None) -> Iterator[str | Answer]:
        """Stream an answer: text deltas (``str``) as they come, then the final ``Answer``.

        The final ``Answer`` is authoritative (citations checked and renumbered); the web chat
        and ``assistant ask --stream`` show the deltas, then replace them with it.
        ``backend``: another than the configured one (the API's choice of model).
        """
        query, hits = self._retrieve(question, filters, k, history, backend)
        yield from (backend or self.backend).stream(query, hits)

    def retriever(self, k: int | None = None, filters: Filters | None = None) -> SearchRetriever:
        return SearchRetriever(searcher=self.searcher, prepare=self.prepare,
                               k=k or self.settings.search.retrieval_k,
                               filters=filters or Filters())

    def brief(self, request: BriefRequest, chat_model: BaseChatModel | None = None) -> Briefing:
        """A cited briefing on a topic, province and period from every relevant document."""
        from assistant.briefing.briefer import Briefer

        if chat_model is None and isinstance(self.backend, GenerativeAnswerer):
            # A configured language model writes the summary; its figures are still checked.
            chat_model = self.backend.chat.model()
        return Briefer(self.settings, self.searcher, chat_model).brief(request)

    # The documents.
    def ingest(self, paths: Iterable[Path] | None = None, progress: bool = False) -> IngestReport:
        return self.indexer.ingest(list(paths or [self.settings.corpus_dir]), progress=progress)

    def add_files(self, files: list[tuple[Path, str]],
                  progress: Callable[[int, int, str], None] | None = None,
                  groups: tuple[str, ...] = ()) -> uploads.UploadReport:
        """Check uploaded files as the web app does, copy them to the uploads folder, index;
        ``groups`` may read them (none: everyone)."""
        return uploads.add_files(self.indexer, files, progress, groups)

    def backends(self) -> dict[str, AnswerBackend]:
        """The answer backends this assistant can use, by name: the configured one, and
        the extractive one a model backend falls back on."""
        found = {self.backend.name: self.backend}
        fallback = getattr(self.backend, "fallback", None)
        if fallback is not None:
            found.setdefault(fallback.name, fallback)
        return found

    def sources(self, reader: User | None = None) -> list[DocRecord]:
        """The indexed documents (those ``reader`` may read, when given)."""
        records = self.store.documents()
        return records if reader is None else [r for r in records if reader.may_read(r.groups)]

    def remove(self, source: str) -> bool:
        """Drop a document from the index (and its file, if it was uploaded)."""
        return uploads.remove_document(self.indexer, source)

    def rebuild(self) -> IngestReport:
        """Start the index over from the corpus folder and the uploaded files."""
        return uploads.rebuild(self.indexer)

    def reset(self) -> None:
        self.store.reset()

    def warm_up(self) -> None:
        """Load now what a first question would wait for: the embedder's model, the
        store's client and the current revision's search snapshot. The web app calls it
        before serving (at 100,000 chunks a cold first question spends 1.3 s importing and
        opening Chroma alone). An empty index or an unreachable store is not an error
        here: the first question reports it as usual."""
        self.embedder.embed_query_vector("warm-up")
        with contextlib.suppress(AssistantError):
            self.searcher.warm_up()

    def close(self) -> None:
        """Stop the local model server, if this assistant started one, and let go of the
        index (its files stay open until then); the assistant is not used after."""
        if self.chat is not None:
            self.chat.close()
        if self._own_store:
            self.store.close()
