"""The one date codec: a date as a person types it, as Chroma stores it, as we show it.

Chroma's range filters compare numbers only, so a document's date is stored as the integer
yyyymmdd; everything else (metadata files, filters typed in the chat or on the command
line, citations, prompts) speaks ISO 8601, parsed by python-dateutil.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from dateutil.parser import isoparse

from assistant.errors import InputError


def parse(value: Any, label: str = "date") -> date | None:
    """A date from ISO text ("2025-07-10", "20250710"), a date, or the stored integer;
    blank means none. Raises ``InputError`` with a readable message otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return isoparse(text).date()
    except (ValueError, OverflowError):
        raise InputError(f"{label} '{value}' is not a date like 2025-07-10.") from None


def to_int(value: Any) -> int | None:
    """The stored form: yyyymmdd as an integer (None for no date)."""
    day = parse(value)
    return int(day.strftime("%Y%m%d")) if day else None


def iso(value: Any) -> str | None:
    """The shown form: yyyy-mm-dd (None for no date)."""
    day = parse(value)
    return day.isoformat() if day else None
