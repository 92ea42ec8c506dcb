"""Offline-first multilingual assistant for health-department staff.

The public API is small: ``Assistant`` wires every pipeline stage from one ``Settings``.
"""

from assistant.answer.citations import Citation
from assistant.answer.types import Answer
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.search.filters import Filters
from assistant.service import Assistant

__all__ = ["Answer", "Assistant", "AssistantError", "Citation", "Filters", "Settings"]
__version__ = "0.1.0"
