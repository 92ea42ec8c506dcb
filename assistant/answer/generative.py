"""Generative answers from any OpenAI-compatible chat model (OpenAI, Azure OpenAI, vLLM,
Ollama, llama.cpp's server), through LangChain's ``ChatOpenAI``.

The model sees numbered, fenced passages (``prompts/generative.yaml``) cut to its context
window; its answer is streamed with markers renumbered on the fly, then checked
(``citation_check``). When the model fails, the extractive answer stands in, marked as a
fallback. The API key never reaches a log line or an error message.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from assistant.answer.citation_check import CitationChecker, StreamRenumberer
from assistant.answer.context_budget import ContextBudget
from assistant.answer.extractive import Answer, ExtractiveAnswerer, validate_question
from assistant.answer.injection import is_instruction
from assistant.config import Settings
from assistant.errors import (
    AssistantError,
    ContextTooLongError,
    GenerationError,
    ModelAuthError,
    ModelRateLimitError,
    ModelTimeoutError,
    ModelUnavailableError,
)
from assistant.index.embedding import LocalEmbeddings
from assistant.prompts import GenerativeMessages, load_generative
from assistant.search.followup import History, standalone_question
from assistant.search.retrieval import Filters, Hit, Searcher
from assistant.text import dates
from assistant.text.languages import detect

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

log = logging.getLogger(__name__)
_FENCE = re.compile(r"<\s*/?\s*source\b", re.IGNORECASE)
_FENCE_TAG = re.compile(r"<\s*/?\s*source\b[^>]*>", re.IGNORECASE)


def redact_url(url: str | None) -> str:
    """An endpoint fit for messages: scheme, host and path, never credentials or query."""
    if not url:
        return "api.openai.com"
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def make_chat_model(settings: Settings, base_url: str | None = None,
                    legacy_max_tokens: bool = False) -> BaseChatModel:
    """One chat model for every OpenAI-compatible endpoint (Azure via its API version).

    ``legacy_max_tokens``: also send ``max_tokens``; llama-cpp-python's server ignores the
    newer ``max_completion_tokens`` and would generate up to its context size.
    """
    from langchain_openai import AzureChatOpenAI, ChatOpenAI
    from pydantic import SecretStr

    # Local servers take any key; a placeholder keeps the client from reading OPENAI_API_KEY.
    key = settings.openai_api_key or SecretStr("unused")
    common: dict[str, Any] = {
        "temperature": settings.llm_temperature, "max_tokens": settings.max_answer_tokens,
        "timeout": settings.llm_timeout, "max_retries": settings.llm_max_retries,
        "api_key": key,
    }
    if legacy_max_tokens:
        common["extra_body"] = {"max_tokens": settings.max_answer_tokens}
    url = base_url or settings.openai_base_url
    if settings.azure_api_version:
        return AzureChatOpenAI(azure_endpoint=url, azure_deployment=settings.openai_model,
                               api_version=settings.azure_api_version, **common)
    return ChatOpenAI(model=settings.openai_model, base_url=url, **common)


def translate_error(exc: BaseException, endpoint: str, retries: int) -> GenerationError | None:
    """A user-facing error for a model failure (None: not a model failure, a bug to raise);
    the server's own text is left out, as it may echo the key."""
    import httpx
    import openai
    from langchain_core.exceptions import ContextOverflowError

    if isinstance(exc, GenerationError):
        return exc
    if isinstance(exc, AssistantError):  # ours (the local server would not start): readable
        return GenerationError(str(exc))
    overflow = getattr(exc, "code", None) == "context_length_exceeded"
    if isinstance(exc, ContextOverflowError) or overflow:
        return ContextTooLongError(f"The prompt is longer than the model's context window "
                                   f"({endpoint}); lower ASSISTANT_CONTEXT_TOKENS.")
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return ModelTimeoutError(f"The model at {endpoint} did not answer in time.")
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return ModelUnavailableError(f"The model endpoint {endpoint} cannot be reached.")
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return ModelAuthError(f"The model endpoint {endpoint} refused the API key "
                              f"(HTTP {exc.status_code}); check ASSISTANT_OPENAI_API_KEY.")
    if isinstance(exc, openai.RateLimitError):
        return ModelRateLimitError(f"The model endpoint {endpoint} is rate-limiting requests "
                                   f"(HTTP 429, still after {retries} retries).")
    if isinstance(exc, openai.NotFoundError):
        return ModelUnavailableError(f"The model endpoint {endpoint} does not know this model "
                                     "(HTTP 404); check ASSISTANT_OPENAI_MODEL.")
    if isinstance(exc, openai.APIStatusError):
        return ModelUnavailableError(f"The model endpoint {endpoint} failed "
                                     f"(HTTP {exc.status_code}).")
    if isinstance(exc, openai.OpenAIError | httpx.HTTPError):
        return GenerationError(f"The model at {endpoint} failed ({type(exc).__name__}).")
    return None


def _fence_safe(text: str) -> str:
    # A document must not be able to close its own fence and speak outside it.
    return _FENCE.sub("(source", text)


class GenerativeAnswerer:
    """Answer backend ``openai`` (and ``local``, with a llama.cpp server as the endpoint)."""

    def __init__(self, settings: Settings, searcher: Searcher, embedder: LocalEmbeddings,
                 fallback: ExtractiveAnswerer, backend: str = "openai",
                 endpoint: Callable[[], str] | None = None) -> None:
        self.settings = settings
        self.searcher = searcher
        self.embedder = embedder
        self.fallback = fallback
        self.backend = backend
        self._endpoint = endpoint  # started on first use (the local server)
        self.messages: GenerativeMessages = load_generative(settings.prompts_dir)

    @cached_property
    def base_url(self) -> str | None:
        return self._endpoint() if self._endpoint else self.settings.openai_base_url

    @cached_property
    def chat(self) -> BaseChatModel:
        return make_chat_model(self.settings, self.base_url,
                               legacy_max_tokens=self.backend == "local")

    @property
    def endpoint(self) -> str:
        """The endpoint as messages show it (no credentials)."""
        return redact_url(self.__dict__.get("base_url", self.settings.openai_base_url))

    def answer(self, question: str, filters: Filters | None = None, k: int | None = None,
               history: History | None = None) -> Answer:
        final = None
        for item in self.stream(question, filters, k, history):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, question: str, filters: Filters | None = None, k: int | None = None,
               history: History | None = None) -> Iterator[str | Answer]:
        started = time.perf_counter()
        question = validate_question(question, self.settings.max_question_chars)
        language = detect(question, self.settings.languages)
        try:
            rewrite = self._rewrite if self.settings.rewrite_followups else None
            standalone = standalone_question(question, history, self.messages.followup_cues,
                                             rewrite)
            qvec = self.embedder.embed_query_vector(standalone)
            hits = self.searcher.search(standalone, k or self.settings.generation_k, filters,
                                        query_vector=qvec)
            if not hits:
                yield self._no_answer(question, language, started)
                return
            messages, shown, context = self.prompt(standalone, language, hits)
            renumber = StreamRenumberer(shown)
            raw: list[str] = []
            for chunk in self.chat.stream(messages):
                text = chunk.content if isinstance(chunk.content, str) else ""
                raw.append(text)
                if out := renumber.feed(text):
                    yield out
            if tail := renumber.flush():
                yield tail
        except Exception as exc:
            error = translate_error(exc, self.endpoint, self.settings.llm_max_retries)
            if error is None:
                raise
            if not self.settings.llm_fallback:
                raise error from None
            log.warning("answer backend %s failed: %s", self.backend, error)
            yield self._fallback(question, filters, k, history, error, started)
            return
        no_answer = self.fallback.messages.pick(self.fallback.messages.no_answer, language)
        # A weak model may echo the prompt's fences: markup, never part of an answer.
        text = _FENCE_TAG.sub(" ", "".join(raw))
        checked = CitationChecker(shown, self.embedder, no_answer).check(text, language)
        extra: dict[str, Any] = {"model": self.settings.openai_model, **checked.report(),
                                 "context": context, "raw_answer": "".join(raw)}
        if standalone != question:
            extra["standalone_question"] = standalone
        yield Answer(question, checked.text or no_answer, not checked.citations,
                     checked.citations, hits, language,
                     reason="" if checked.citations else "no cited claim",
                     backend=self.backend, latency_ms=(time.perf_counter() - started) * 1000,
                     evidence=hits[0].dense, extra=extra)

    def prompt(self, question: str, language: str,
               hits: list[Hit]) -> tuple[list[BaseMessage], list[Hit], dict[str, Any]]:
        """The chat messages: rules, then fenced numbered passages cut to the context window.
        Returns the messages, the passages shown (in their numbering) and what was cut."""
        from langchain_core.messages import HumanMessage, SystemMessage

        m = self.messages
        no_answer = self.fallback.messages.pick(self.fallback.messages.no_answer, language)
        system = m.system.format(
            language_name=m.language_names.get(language, "the language of the question"),
            no_answer=no_answer)
        budget = ContextBudget(self.settings.openai_model, self.settings.context_tokens,
                               self.settings.max_answer_tokens)
        fences = [self._source(i + 1, h, "") for i, h in enumerate(hits)]
        fit = budget.fit(system + m.user.format(sources="", question=question),
                         [_fence_safe(h.text) for h in hits],
                         per_passage=max(budget.count(f) for f in fences))
        kept = [i for i in range(len(hits)) if i not in fit.dropped]
        shown = [hits[i] for i in kept]
        blocks = [self._source(n + 1, shown[n], text) for n, text in enumerate(fit.texts)]
        user = m.user.format(sources="\n".join(blocks), question=question)
        context = {"passages": len(shown), "trimmed": len(fit.trimmed),
                   "dropped": len(fit.dropped), "prompt_tokens": fit.prompt_tokens,
                   "instructions_in_sources": [n + 1 for n, h in enumerate(shown)
                                               if is_instruction(h.text,
                                                                 self.settings.prompts_dir)]}
        return [SystemMessage(system), HumanMessage(user)], shown, context

    def _source(self, n: int, hit: Hit, text: str) -> str:
        title = _fence_safe(str(hit.metadata.get("title") or hit.source)).replace('"', "'")
        date = hit.metadata.get("date")
        return self.messages.source.format(n=n, title=title, date=dates.iso(date) or "unknown",
                                           text=text).rstrip()

    def _rewrite(self, question: str, history: History) -> str:
        from langchain_core.messages import HumanMessage, SystemMessage

        turns = "\n".join(f"User: {q}\nAssistant: {a[:300]}" for q, a in list(history)[-3:])
        user = self.messages.rewrite_user.format(history=turns, question=question)
        reply = self.chat.invoke([SystemMessage(self.messages.rewrite_system),
                                  HumanMessage(user)])
        return reply.content if isinstance(reply.content, str) else ""

    def _no_answer(self, question: str, language: str, started: float) -> Answer:
        text = self.fallback.messages.pick(self.fallback.messages.no_answer, language)
        return Answer(question, text, True, [], [], language, "nothing retrieved",
                      backend=self.backend, latency_ms=(time.perf_counter() - started) * 1000)

    def _fallback(self, question: str, filters: Filters | None, k: int | None,
                  history: History | None, error: GenerationError, started: float) -> Answer:
        answer = self.fallback.answer(question, filters, None, history)
        notice = self.messages.fallback_notice.format(reason=str(error).rstrip("."))
        answer.extra.update(fallback=True, fallback_from=self.backend, notice=notice,
                            error=str(error), error_type=type(error).__name__)
        answer.latency_ms = (time.perf_counter() - started) * 1000
        return answer
