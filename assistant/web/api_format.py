"""The API's shapes: OpenAI-style requests in, answers out (whole or as server-sent events).

An answer's text is the answer as the web chat shows it, then its numbered sources in
Markdown (``**Sources**`` and one ``[n]`` line each); the same sources come structured in
the ``citations`` extension field, with ``abstained``. A follow-up's earlier turns are read
back from the messages as the web chat reads its own: (question, answer) pairs, the
answer without its sources.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.access import User
from assistant.answer.citations import Citation
from assistant.answer.types import Answer
from assistant.errors import InputError
from assistant.search.filters import Filters
from assistant.text.dates import parse as parse_date

SOURCES = "\n\n**Sources**\n\n"
_MARKDOWN = re.compile(r"([\\`*_\[\]()<>#!|~])")
_URL = re.compile(r"^https?://[^\s<>()]+$")
_WORDS = re.compile(r"\s*\S+(?:\s+\S+){0,7}\s*")  # streamed pieces: up to eight words


class FilterFields(BaseModel):
    """Which documents to search (any combination; none: all the caller may read)."""

    provinces: list[str] = Field(default_factory=list, examples=[["Lang Son"]])
    languages: list[str] = Field(default_factory=list, examples=[["en", "vi"]])
    since: str | None = Field(None, description="From this date (YYYY-MM-DD).")
    until: str | None = Field(None, description="Up to this date (YYYY-MM-DD).")
    source: list[str] | str | None = Field(None, description="Only these documents.")

    def filters(self, reader: User) -> Filters:
        """The search filters, always bounded by what ``reader`` may read."""
        source = [self.source] if isinstance(self.source, str) else list(self.source or [])
        return Filters(languages=tuple(self.languages), provinces=tuple(self.provinces),
                       sources=tuple(source), since=parse_date(self.since, "since"),
                       until=parse_date(self.until, "until"), reader=reader)


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[Any] | None = None


class ChatRequest(FilterFields):
    """OpenAI's chat completion request; fields this assistant has no use for (temperature,
    max_tokens...) are accepted and ignored. The filter fields are an extension."""

    model_config = ConfigDict(extra="allow")

    model: str | None = Field(None, description="An id from /v1/models (default: the "
                                                "configured answer backend).")
    messages: list[Message] = Field(min_length=1)
    stream: bool = False


class SearchRequest(FilterFields):
    query: str = Field(min_length=1)
    k: int | None = Field(None, ge=1, le=100, description="How many passages.")


def text_of(content: Any) -> str:
    """A message's text, whether a string or a list of content parts."""
    if isinstance(content, list):
        return " ".join(text_of(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text", "") if content.get("type", "text") == "text" else "")
    return "" if content is None else str(content)


def conversation(messages: list[Message]) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last message, the user's) and the earlier (question, answer)
    turns, oldest first, as the web chat passes them to ``Assistant.ask_stream``."""
    *earlier, last = messages
    question = text_of(last.content).strip()
    if last.role != "user" or not question:
        raise InputError("The last message must be the user's question.")
    pairs: list[tuple[str, str]] = []
    asked: str | None = None
    for message in earlier:
        if message.role == "user":
            asked = text_of(message.content)
        elif message.role == "assistant" and asked is not None:
            answer = text_of(message.content).split(SOURCES, 1)[0]
            pairs.append((asked, answer.strip()))
            asked = None
    return question, pairs


def shown(answer: Answer) -> list[Citation]:
    """The sources shown with an answer, as the web chat's cards: its citations, or for an
    abstention that names the nearest report ("it gives X, not Y [1]"), that report."""
    if answer.abstained:
        return list(answer.nearest)
    return list(answer.citations)


def _escape(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def source_line(c: Citation) -> str:
    """``[n] Title`` (a link to the original where it has a URL), date, provinces, file."""
    title = _escape(c.title or c.source)
    if c.url and _URL.match(c.url):
        title = f"[{title}]({c.url})"
    meta = " · ".join(x for x in [c.date or "", ", ".join(c.provinces), c.language] if x)
    return f"\\[{c.n}\\] {title}" + (f" · {_escape(meta)}" if meta else "") + \
        f" · `{c.source.replace('`', '')}`"


def content(answer: Answer) -> str:
    cards = shown(answer)
    text = answer.answer.strip()
    if not cards:
        return text
    return text + SOURCES + "\n".join(f"- {source_line(c)}" for c in cards)


def citation(c: Citation) -> dict[str, Any]:
    return {"n": c.n, "source": c.source, "title": c.title, "url": c.url,
            "passage": c.text, "sentence": c.sentences[0] if c.sentences else "",
            "sentences": list(c.sentences), "language": c.language, "date": c.date,
            "provinces": list(c.provinces)}


def extension(answer: Answer) -> dict[str, Any]:
    """The fields beside OpenAI's: the structured sources, abstention and its reason."""
    out: dict[str, Any] = {"citations": [citation(c) for c in shown(answer)],
                           "abstained": answer.abstained, "language": answer.language,
                           "backend": answer.backend}
    if answer.abstained:
        out["reason"] = answer.reason
    out["status"] = answer.status
    if answer.suggestions:
        out["suggestions"] = [citation(c) for c in answer.suggestions]
    return out


def completion(answer: Answer, model: str, ident: str, created: int) -> dict[str, Any]:
    return {"id": ident, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content(answer)}}],
            **extension(answer)}


def chunk(ident: str, created: int, model: str, delta: dict[str, Any],
          finish: str | None = None, **extra: Any) -> str:
    body = {"id": ident, "object": "chat.completion.chunk", "created": created,
            "model": model, "choices": [{"index": 0, "delta": delta,
                                         "finish_reason": finish}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def pieces(text: str) -> Iterator[str]:
    """The text in small pieces that join back to exactly the text."""
    done = 0
    for match in _WORDS.finditer(text):
        yield text[done:match.end()]
        done = match.end()
    if done < len(text):
        yield text[done:]


def error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": code, "param": None}}
