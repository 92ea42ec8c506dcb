"""Offline-first multilingual assistant for health-department staff.

The public API is small: ``Assistant`` wires every pipeline stage from one ``Settings``.
"""

from .answering import Answer
from .citations import Citation
from .config import Settings
from .errors import AssistantError
from .retrieval import Filters
from .service import Assistant

__all__ = ["Answer", "Assistant", "AssistantError", "Citation", "Filters", "Settings"]
__version__ = "0.1.0"
