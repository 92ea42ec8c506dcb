"""Generative answers from any OpenAI-compatible chat model (OpenAI, Azure OpenAI, vLLM,
Ollama, llama.cpp's server), through LangChain's ``ChatOpenAI``.

The model sees numbered, fenced passages (``prompts/generative.yaml``) cut to its context
window; its answer is streamed with markers renumbered on the fly, then checked
(``citation_check``). When the model fails, the extractive answer stands in, marked as a
fallback. A question the passages cannot answer (the extractive answerability check) is
not sent to the model at all. The API key never reaches a log line or an error message.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from assistant.answer.citation_check import CitationChecker, StreamRenumberer
from assistant.answer.context_budget import ContextBudget
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.injection import is_instruction
from assistant.answer.llm import ChatEndpoint
from assistant.answer.types import Answer, Fallback, Generation
from assistant.config import Settings
from assistant.errors import GenerationError
from assistant.index.embedding import LocalEmbeddings
from assistant.prompts import GenerativeMessages, load_generative
from assistant.search.query import Query
from assistant.search.searcher import Hit
from assistant.text import dates

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

log = logging.getLogger(__name__)
_FENCE = re.compile(r"<\s*/?\s*source\b", re.IGNORECASE)
_FENCE_TAG = re.compile(r"<\s*/?\s*source\b[^>]*>", re.IGNORECASE)


def _fence_safe(text: str) -> str:
    # A document must not be able to close its own fence and speak outside it.
    return _FENCE.sub("(source", text)


class GenerativeAnswerer:
    """Answer backend ``openai`` (and ``local``, with a llama.cpp server as the endpoint).

    Composes from the hits the service retrieved; shared by threads, holds no per-question
    state. On a model failure the extractive answer from the same hits stands in.
    """

    def __init__(self, settings: Settings, chat: ChatEndpoint, embedder: LocalEmbeddings,
                 fallback: ExtractiveAnswerer) -> None:
        self.settings = settings
        self.chat = chat
        self.embedder = embedder
        self.fallback = fallback
        self.name = chat.backend
        self.pool_k = settings.llm.generation_k
        self.messages: GenerativeMessages = load_generative(settings.prompts_dir,
                                                            tuple(settings.languages))

    def compose(self, query: Query, hits: list[Hit]) -> Answer:
        final = None
        for item in self.stream(query, hits):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, query: Query, hits: list[Hit]) -> Iterator[str | Answer]:
        started = time.perf_counter()
        language = query.language
        if not hits:
            yield self._no_answer(query, started)
            return
        # The extractive backend's answerability check: when no passage holds what the
        # question asks for (the indicator, role, year or province), the model is not asked.
        veto = self.fallback.veto(query, hits)
        if veto is not None:
            veto.backend = self.name
            veto.vetoed = True
            veto.latency_ms = (time.perf_counter() - started) * 1000
            yield veto.answer
            yield veto
            return
        try:
            messages, shown, context = self.prompt(query.text, language, hits)
            renumber = StreamRenumberer(shown)
            raw: list[str] = []
            for chunk in self.chat.model().stream(messages):
                text = chunk.content if isinstance(chunk.content, str) else ""
                raw.append(text)
                if out := renumber.feed(text):
                    yield out
            if tail := renumber.flush():
                yield tail
        except Exception as exc:
            error = self.chat.error(exc)
            if error is None:
                raise
            if not self.settings.llm.fallback:
                raise error from None
            log.warning("answer backend %s failed: %s", self.name, error)
            yield self._fallback(query, hits, error, started)
            return
        no_answer = self.fallback.messages.pick(self.fallback.messages.no_answer, language)
        # A weak model may echo the prompt's fences: markup, never part of an answer.
        text = _FENCE_TAG.sub(" ", "".join(raw))
        checked = CitationChecker(
            shown, self.embedder, no_answer, support_min=self.settings.answer.citation_min,
            support_margin=self.settings.answer.citation_margin).check(text, language)
        generation = Generation(
            self.settings.llm.openai_model, "".join(raw), context, checked.dropped,
            checked.attached, checked.unsupported, checked.unverified_figures)
        yield Answer(query.asked, checked.text or no_answer, not checked.citations,
                     checked.citations, hits, language,
                     reason="" if checked.citations else "no cited claim",
                     backend=self.name, latency_ms=(time.perf_counter() - started) * 1000,
                     evidence=hits[0].dense, generation=generation,
                     standalone_question=query.text if query.rewritten else "")

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
        budget = ContextBudget(self.settings.llm.openai_model, self.settings.llm.context_tokens,
                               self.settings.llm.max_answer_tokens)
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

    def _no_answer(self, query: Query, started: float) -> Answer:
        text = self.fallback.messages.pick(self.fallback.messages.no_answer, query.language)
        return Answer(query.asked, text, True, [], [], query.language, "nothing retrieved",
                      backend=self.name, latency_ms=(time.perf_counter() - started) * 1000)

    def _fallback(self, query: Query, hits: list[Hit], error: GenerationError,
                  started: float) -> Answer:
        answer = self.fallback.compose(query, hits)
        notice = self.messages.fallback_notice.format(reason=str(error).rstrip("."))
        answer.fallback = Fallback(self.name, notice, str(error), type(error).__name__)
        answer.latency_ms = (time.perf_counter() - started) * 1000
        return answer
