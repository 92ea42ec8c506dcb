"""The language-model boundary: one chat model for every OpenAI-compatible endpoint
(OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp's server), its errors turned into ours, and
``ChatEndpoint``, the one object that owns it (and the local server, if any).

The API key never reaches a log line or an error message.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from assistant.answer.local_llm import LocalModelServer
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
from assistant.prompts import GenerativeMessages

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.search.followup import History

log = logging.getLogger(__name__)


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
    key = settings.llm.openai_api_key or SecretStr("unused")
    common: dict[str, Any] = {
        "temperature": settings.llm.temperature, "max_tokens": settings.llm.max_answer_tokens,
        "timeout": settings.llm.timeout, "max_retries": settings.llm.max_retries,
        "api_key": key,
    }
    if legacy_max_tokens:
        common["extra_body"] = {"max_tokens": settings.llm.max_answer_tokens}
    url = base_url or settings.llm.openai_base_url
    if settings.llm.azure_api_version:
        return AzureChatOpenAI(azure_endpoint=url, azure_deployment=settings.llm.openai_model,
                               api_version=settings.llm.azure_api_version, **common)
    return ChatOpenAI(model=settings.llm.openai_model, base_url=url, **common)


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
                                   f"({endpoint}); lower ASSISTANT_LLM__CONTEXT_TOKENS.")
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return ModelTimeoutError(f"The model at {endpoint} did not answer in time.")
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return ModelUnavailableError(f"The model endpoint {endpoint} cannot be reached.")
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return ModelAuthError(f"The model endpoint {endpoint} refused the API key "
                              f"(HTTP {exc.status_code}); check ASSISTANT_LLM__OPENAI_API_KEY.")
    if isinstance(exc, openai.RateLimitError):
        return ModelRateLimitError(f"The model endpoint {endpoint} is rate-limiting requests "
                                   f"(HTTP 429, still after {retries} retries).")
    if isinstance(exc, openai.NotFoundError):
        return ModelUnavailableError(f"The model endpoint {endpoint} does not know this model "
                                     "(HTTP 404); check ASSISTANT_LLM__OPENAI_MODEL.")
    if isinstance(exc, openai.APIStatusError):
        return ModelUnavailableError(f"The model endpoint {endpoint} failed "
                                     f"(HTTP {exc.status_code}).")
    if isinstance(exc, openai.OpenAIError | httpx.HTTPError):
        return GenerationError(f"The model at {endpoint} failed ({type(exc).__name__}).")
    return None


class ChatEndpoint:
    """The configured chat model, built on first use and shared by every thread.

    ``backend="local"`` starts llama.cpp's server on first use and ``close()`` stops it. A
    model passed in (``model=``, e.g. ``ScriptedChatModel`` in tests) is used as it is.
    """

    def __init__(self, settings: Settings, backend: str = "openai",
                 model: BaseChatModel | None = None) -> None:
        self.settings = settings
        self.backend = backend
        self._given = model
        self.server = LocalModelServer.from_settings(settings) if backend == "local" \
            and model is None else None
        self._models: dict[str, BaseChatModel] = {}
        self._url: str | None = None
        self._lock = threading.Lock()

    def _base_url(self) -> str | None:
        if self.server is not None:
            self._url = self.server.start()
            return self._url
        return self.settings.llm.openai_base_url

    def model(self, quick: bool = False) -> BaseChatModel:
        """The chat model; ``quick``: no retries and the translation timeout (a question
        must not wait long for an optional translation)."""
        if self._given is not None:
            return self._given
        key = "quick" if quick else "answer"
        with self._lock:
            if key not in self._models:
                settings = self.settings
                if quick:
                    settings = settings.variant(llm={
                        "max_retries": 0, "timeout": settings.llm.translation_timeout})
                self._models[key] = make_chat_model(settings, self._base_url(),
                                                    legacy_max_tokens=self.backend == "local")
            return self._models[key]

    @property
    def endpoint(self) -> str:
        """The endpoint as messages show it (no credentials)."""
        if self._given is not None:
            return type(self._given).__name__
        return redact_url(self._url or self.settings.llm.openai_base_url)

    def error(self, exc: BaseException) -> GenerationError | None:
        return translate_error(exc, self.endpoint, self.settings.llm.max_retries)

    def rewriter(self, messages: GenerativeMessages) -> Any:
        """A follow-up rewrite by the model, for ``QueryBuilder``: a failure or an unusable
        reply gives "", which leaves the deterministic rewrite."""
        from langchain_core.messages import HumanMessage, SystemMessage

        def rewrite(question: str, history: History) -> str:
            turns = "\n".join(f"User: {q}\nAssistant: {a[:300]}" for q, a in list(history)[-3:])
            user = messages.rewrite_user.format(history=turns, question=question)
            try:
                reply = self.model().invoke([SystemMessage(messages.rewrite_system),
                                             HumanMessage(user)])
            except Exception as exc:
                if self.error(exc) is None:
                    raise
                log.warning("follow-up rewrite failed (%s); using the rule-based one",
                            type(exc).__name__)
                return ""
            return reply.content if isinstance(reply.content, str) else ""

        return rewrite

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
