"""The one date codec: a date as a person types it, as Chroma stores it, as we show it.

Chroma's range filters compare numbers only, so a document's date is stored as the integer
yyyymmdd; everything else (metadata files, filters typed in the chat or on the command
line, citations, prompts) speaks ISO 8601, parsed by python-dateutil.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from dateutil.parser import isoparse

from assistant.errors import InputError
from assistant.text.anchors import fold


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


# Days as questions name them: "4/11/2025", "ngày 4 tháng 11", "sáng 10/7", "4 novembre",
# "June 13", "4 نوفمبر", "4 листопада". A bare "4/6" is a fraction ("4/6 tasks"), not a
# date: day/month needs a year after it or a day word before it.
_DAY_WORDS = r"(?:ngay|sang|chieu|toi|date|le|on|du|дата|يوم)"
_NUMERIC = re.compile(
    rf"(?:(?<!\w){_DAY_WORDS}\s+(\d{{1,2}})/(\d{{1,2}})(?:/(?:19|20)\d\d)?(?![\d/])"
    r"|(?<![\d/])(\d{1,2})/(\d{1,2})/(?:19|20)\d\d(?!\d))")
_VI_MONTH = re.compile(r"(?<!\w)ngay\s+(\d{1,2})\s+thang\s+(\d{1,2})(?!\d)")


@lru_cache(maxsize=1)
def _month_names() -> re.Pattern[str]:
    from assistant.text.figures import cues  # the month names of every language

    names: dict[str, int] = {}
    for forms in cues().months.values():
        if len(forms) == 12:
            names.update({fold(form): i + 1 for i, form in enumerate(forms)})
    alternation = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    _MONTH_NUMBER.update(names)
    return re.compile(rf"(?<!\w)(?:(\d{{1,2}})\s+({alternation})(?!\w)"
                      rf"|({alternation})\s+(\d{{1,2}})(?!\d))")


_MONTH_NUMBER: dict[str, int] = {}


def days_in(text: str) -> frozenset[tuple[int, int]]:
    """The (month, day) pairs a text names, in any of the five languages."""
    folded = fold(text)
    found: set[tuple[int, int]] = set()
    for match in _NUMERIC.finditer(folded):
        day, month = (match.group(1), match.group(2)) if match.group(1) else \
            (match.group(3), match.group(4))
        found.add((int(month), int(day)))
    for match in _VI_MONTH.finditer(folded):
        found.add((int(match.group(2)), int(match.group(1))))
    for match in _month_names().finditer(folded):
        if match.group(1):
            found.add((_MONTH_NUMBER[match.group(2)], int(match.group(1))))
        else:
            found.add((_MONTH_NUMBER[match.group(3)], int(match.group(4))))
    return frozenset((m, d) for m, d in found if 1 <= m <= 12 and 1 <= d <= 31)


def day_of(stored: int | None) -> tuple[int, int] | None:
    """(month, day) of a stored yyyymmdd date."""
    return None if not stored else (stored // 100 % 100, stored % 100)


# A document's own date, as news reports write it (ISO, d/m/y, "June 13, 2025",
# "13 juin 2025") or as Vietnamese news URLs end (yyyymmddhhmm...).
_DOC_MONTH_NAMES = (
    "january february march april may june july august september october november december",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
)
_DOC_MONTHS = {m: i for names in _DOC_MONTH_NAMES for i, m in enumerate(names.split(), 1)}
_DOC_MONTH_RE = "|".join(sorted(_DOC_MONTHS, key=len, reverse=True))
_DOC_DATE_PATTERNS = [
    (re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b"), ("y", "m", "d")),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(20\d\d)\b"), ("d", "m", "y")),
    (re.compile(rf"\b({_DOC_MONTH_RE})\s+(\d{{1,2}}),?\s+(20\d\d)\b", re.I), ("M", "d", "y")),
    (re.compile(rf"\b(\d{{1,2}})(?:er)?\s+({_DOC_MONTH_RE})\s+(20\d\d)\b", re.I), ("d", "M", "y")),
    # Vietnamese news URLs end in yyyymmddhhmm...: a reliable publication date.
    (re.compile(r"[-/](20\d\d)(\d\d)(\d\d)\d{4,}"), ("y", "m", "d")),
]


def publication_date(text: str, url: str | None = None) -> str | None:
    """A document's date (ISO) as its text or its URL gives it first, if any."""
    for haystack in (text, url or ""):
        for pattern, order in _DOC_DATE_PATTERNS:
            match = pattern.search(haystack)
            if not match:
                continue
            parts = dict(zip(order, match.groups(), strict=True))
            month = _DOC_MONTHS[parts["M"].lower()] if "M" in parts else int(parts["m"])
            try:
                return date(int(parts["y"]), month, int(parts["d"])).isoformat()
            except ValueError:
                continue
    return None
