"""The one number rule: which figures a text holds, and when two figures are the same.

Retrieval, answering, citation checks, briefings and metrics all compare figures through
``figures``/``keys`` here. Two spellings are the same figure when they have the same value:
"1,647,334" = "1 647 334" = "1.647.334" (vi), "9,6" (fr) = "9.6", "٢٨٦٢" = "2862"; but
"9.6" is never "96". A separator is a decimal mark or a group mark by its shape (groups are
exactly three digits; one kind of mark repeated is grouping; of two kinds the last is the
decimal mark) and, when the shape allows both ("2,862"), by the text's language, whose
symbols come from Babel's locale data (CLDR).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

# Arabic-Indic and Eastern Arabic-Indic digits, the Arabic decimal and group marks, the
# Arabic percent sign and the minus sign read as their ASCII forms (same length: spans stay).
_ASCII = str.maketrans({
    **{chr(base + i): str(i) for base in (0x0660, 0x06F0) for i in range(10)},
    "\u066b": ".", "\u066c": ",", "\u066a": "%", "\u2212": "-",
})
_GROUP_SPACES = " \u00a0\u202f"
# Not inside a word ("A320"), but Arabic attaches "and"/"with" to a number: "و66,454".
_SPAN = re.compile(
    r"(?<![.,])(?<![^\W\u0600-\u06ff])(?P<sign>[-+])?"
    r"(?P<num>\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)*)"
    r"(?!\d)(?:(?P<frac>/\d+)(?![\d/]))?(?P<pct>\s?%)?"
)


@dataclass(frozen=True)
class Figure:
    """One figure as written (``text``) and its value as a canonical string (``key``)."""

    text: str
    key: str  # "2862", "9.6", "-3.5", "12/13"
    percent: bool
    start: int
    end: int


@lru_cache(maxsize=32)
def decimal_mark(language: str | None) -> str | None:
    """The language's decimal mark (CLDR via Babel); None when the language is unknown."""
    if not language:
        return None
    from babel.core import UnknownLocaleError
    from babel.numbers import get_decimal_symbol

    try:
        return str(get_decimal_symbol(language))
    except (UnknownLocaleError, ValueError):
        return None


def _value(num: str, language: str | None) -> str | None:
    """The canonical value of a digit run with separators, or None if it is not a number."""
    for space in _GROUP_SPACES:
        num = num.replace(space, "")
    marks = [ch for ch in num if ch in ".,"]
    decimal: str | None = None
    if len(set(marks)) == 2:
        decimal = marks[-1]
        if marks.count(decimal) > 1:
            return None
    elif len(marks) == 1:
        tail = num.rsplit(marks[0], 1)[1]
        # "2,862" is a thousand-grouped integer in English, a decimal in French.
        head = num.split(marks[0], 1)[0]
        if len(tail) != 3 or head == "0" or decimal_mark(language) == marks[0]:
            decimal = marks[0]
    groups = num.split(decimal)[0] if decimal else num
    parts = re.split(r"[.,]", groups)
    if len(parts) > 1 and (not 1 <= len(parts[0]) <= 3 or any(len(p) != 3 for p in parts[1:])):
        return None
    digits = "".join(parts) + ("." + num.rsplit(decimal, 1)[1] if decimal else "")
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    text = format(value.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def figures(text: str, language: str | None = None) -> list[Figure]:
    """Every figure in ``text``, in order, with its exact span."""
    folded = text.translate(_ASCII)
    out: list[Figure] = []
    for match in _SPAN.finditer(folded):
        if match.group("frac"):
            key = f"{int(match.group('num'))}{match.group('frac')}" if match.group(
                "num").isdigit() else None
        else:
            key = _value(match.group("num"), language)
        if key is None:
            continue
        if match.group("sign") == "-" and key.strip("0.") != "":
            key = "-" + key
        out.append(Figure(text[match.start():match.end()], key, bool(match.group("pct")),
                          match.start(), match.end()))
    return out


def keys(text: str, language: str | None = None) -> set[str]:
    """The values of the figures in ``text`` (what checks compare)."""
    return {f.key for f in figures(text, language)}


def canonical(text: str, language: str | None = None) -> str:
    """``text`` with every figure replaced by its canonical value, percent signs kept."""
    parts: list[str] = []
    last = 0
    for f in figures(text, language):
        parts += [text[last:f.start], f.key + ("%" if f.percent else "")]
        last = f.end
    return "".join([*parts, text[last:]])
