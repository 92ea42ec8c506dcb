"""A scripted chat model shipped with the package, for tests of the language-model boundary
(as pydantic-ai ships ``TestModel``): no network, no weights, deterministic replies.

    Assistant(settings, chat=ScriptedChatModel())                 # cites source [1]
    Assistant(settings, chat=ScriptedChatModel(replies=["… [2]"]))  # replies in turn
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr

_SOURCE = re.compile(r"<source id=\"(\d+)\"[^>]*>\s*(.*?)\s*</source>", re.DOTALL)


def cite_first_source(messages: list[BaseMessage]) -> str:
    """The default script: the first sentence of source 1, cited; no sources: a plain no."""
    text = "\n".join(str(m.content) for m in messages)
    match = _SOURCE.search(text)
    if not match:
        return "The documents don't answer this question."
    first = re.split(r"(?<=[.!?؟])\s+", match.group(2).strip())[0]
    return f"{first} [{match.group(1)}]"


class ScriptedChatModel(BaseChatModel):
    """Replies from ``replies`` in turn (the last one repeats), else from ``respond``;
    every request's messages are kept in ``calls``."""

    replies: list[str] = Field(default_factory=list)
    respond: Callable[[list[BaseMessage]], str] = cite_first_source
    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def calls(self) -> list[list[BaseMessage]]:
        return list(self._calls)

    def _reply(self, messages: list[BaseMessage]) -> str:
        with self._lock:
            n = len(self._calls)
            self._calls.append(list(messages))
        if self.replies:
            return self.replies[min(n, len(self.replies) - 1)]
        return self.respond(messages)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(
            self._reply(messages)))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: Any = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for piece in re.findall(r"\S+\s*|\s+", self._reply(messages)):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
