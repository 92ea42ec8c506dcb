"""A small error hierarchy; the CLI and the web UI turn these into messages and exit codes."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: ``str(error)`` is a message fit for the user."""

    exit_code = 1


class InputError(AssistantError):
    """The user's input (a question, an option) cannot be used as given."""

    exit_code = 2


class DocumentError(AssistantError):
    """One file could not be loaded; other files are unaffected."""

    exit_code = 1

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class UnsupportedFileError(DocumentError):
    """The file type is not one we can read."""


class IndexStoreError(AssistantError):
    """The index cannot be used (wrong embedder, store unreachable)."""

    exit_code = 3


class EmbedderMismatchError(IndexStoreError):
    """The index was built by another embedder; mixing vectors would give garbage."""


class EmptyIndexError(IndexStoreError):
    """Nothing is indexed yet: no question can be answered, and "no answer" would mislead."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("No documents are indexed yet. Run `assistant ingest` (or upload "
                         "documents)." + (f" {detail}" if detail else ""))


class StoreUnavailableError(IndexStoreError):
    """The Chroma store (local folder or server) cannot be reached."""


class GenerationError(AssistantError):
    """The language model could not produce an answer; messages never carry the API key."""

    exit_code = 4


class ModelUnavailableError(GenerationError):
    """The endpoint cannot be reached, or failed (5xx) on every retry."""


class ModelTimeoutError(GenerationError):
    """The model took longer than the configured timeout."""


class ModelAuthError(GenerationError):
    """The endpoint refused the API key (401/403)."""


class ModelRateLimitError(GenerationError):
    """Still rate-limited (429) after the retries."""


class ContextTooLongError(GenerationError):
    """The prompt does not fit the model's context window."""
