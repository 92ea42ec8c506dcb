"""Question translation: with a language model configured, a question is also searched in
the corpus's other languages.

Language centering (``centering.py``) lets a question find passages in other languages, but
the embedder still compares a Vietnamese question with an Arabic passage less well than an
Arabic question with it. So when a model is at hand, the question is translated into each
language the corpus holds (one model call, a JSON reply) and every passage is scored with
both the question and the translation into its own language (``CenteredIndex.scores``).

Translation only ever adds evidence: a model that fails, times out or replies with
something unusable leaves the search exactly as it is without one, and after a failure the
model is left alone for a while so that a down endpoint does not slow every question.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from assistant.prompts import TranslationMessages
from assistant.text.languages import UNKNOWN, detect

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

log = logging.getLogger(__name__)
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class QuestionTranslator:
    """Translates questions with a chat model; never raises, returns what it could use."""

    def __init__(self, chat: Callable[[], BaseChatModel], messages: TranslationMessages,
                 languages: Sequence[str], cache_size: int = 512,
                 pause_after_failure_s: float = 60.0) -> None:
        self._chat = chat  # built on first use: the local backend starts a server for it
        self.messages = messages
        self.languages = list(languages)
        self.cache_size = cache_size
        self.pause_after_failure_s = pause_after_failure_s
        self._cache: OrderedDict[tuple[str, str, tuple[str, ...]], dict[str, str]] = \
            OrderedDict()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.last_error: str | None = None

    def __call__(self, question: str, source: str, targets: Sequence[str]) -> dict[str, str]:
        wanted = tuple(sorted(set(targets) - {source, UNKNOWN}))
        if not wanted or not question.strip():
            return {}
        key = (question, source, wanted)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return dict(self._cache[key])
            if time.monotonic() < self._paused_until:
                return {}
        try:
            reply = self._chat().invoke(self._messages(question, source, wanted))
        except Exception as exc:  # any model failure: search without translations
            with self._lock:
                self._paused_until = time.monotonic() + self.pause_after_failure_s
                self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("question translation failed, searching without it (%s); "
                        "next try in %.0f s", type(exc).__name__, self.pause_after_failure_s)
            return {}
        content = reply.content if isinstance(reply.content, str) else ""
        translations = self.parse(content, question, source, wanted)
        with self._lock:
            self._cache[key] = translations
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return dict(translations)

    def _messages(self, question: str, source: str,
                  targets: tuple[str, ...]) -> list[BaseMessage]:
        from langchain_core.messages import HumanMessage, SystemMessage

        names = ", ".join(f"{lang} ({self.messages.name(lang)})" for lang in targets)
        user = self.messages.user.format(question=question, targets=names,
                                         source_name=self.messages.name(source))
        return [SystemMessage(self.messages.system), HumanMessage(user)]

    def parse(self, content: str, question: str, source: str,
              targets: Sequence[str]) -> dict[str, str]:
        """The usable translations in a model's reply: the JSON object (fences and chatter
        around it are ignored), one non-empty string per requested language, of a sane length,
        and not the question copied back in its own language."""
        match = _OBJECT.search(content)
        if not match:
            return {}
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            return {}
        if not isinstance(data, dict):
            return {}
        out: dict[str, str] = {}
        for lang in targets:
            text = data.get(lang)
            if not isinstance(text, str):
                continue
            text = " ".join(text.split())
            if not text or len(text) > 4 * len(question) + 100:
                continue
            if text == question or detect(text, self.languages) == source != UNKNOWN:
                continue  # left untranslated: adds nothing
            out[lang] = text
        return out
