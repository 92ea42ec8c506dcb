"""Spans a question asks for, as sentences write them: roles, people's names, dates and
places, in any of the five languages (cue lists in ``assistant/data/answer_cues.yaml``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from assistant.resources import load_yaml
from assistant.text import numbers
from assistant.text.anchors import find_provinces, fold
from assistant.text.cues import cue_regex
from assistant.text.figures import cue_pattern

_LATIN_NAME = r"[A-ZÀ-ÝĐƠƯẠ-Ỹ][a-zà-ỹđơư]+"
_CYRILLIC_NAME = r"[А-ЯІЇЄҐ][а-яіїєґ’']+"
_NAME_WORD = rf"(?:{_LATIN_NAME}|{_CYRILLIC_NAME})"
_NAME_RUN = re.compile(rf"{_NAME_WORD}(?:\s{_NAME_WORD})+")
_PLACE = re.compile(r"(?:[A-Z][\w'’-]+\s){1,3}(?:City|Hospital|Ville|Hôpital)\b")
_TOKEN = re.compile(r"\S+")
_PUNCT = " ,.;:()\"'«»،؛"
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


@lru_cache(maxsize=1)
def answer_cues() -> dict[str, Any]:
    return load_yaml("answer_cues.yaml")


@lru_cache(maxsize=1)
def _role_patterns() -> list[tuple[str, re.Pattern[str]]]:
    # Longest forms first across roles: "deputy director" is consumed before "director".
    table = [(role, fold(form)) for role, by_language in answer_cues()["roles"].items()
             for forms in by_language.values() for form in forms]
    table.sort(key=lambda item: -len(item[1]))
    return [(role, cue_regex([form], False)) for role, form in table]


def find_roles(text: str) -> dict[str, int]:
    """Roles a text names, each with the position of its first mention (folded text)."""
    folded = fold(text)
    found: dict[str, int] = {}
    for role, pattern in _role_patterns():
        for match in pattern.finditer(folded):
            found.setdefault(role, match.start())
            # Blank the span: "deputy director" must not count as "director" too.
            folded = folded[: match.start()] + "#" * len(match.group()) + folded[match.end():]
    return found


@lru_cache(maxsize=1)
def aliases() -> dict[str, list[str]]:
    data = load_yaml("provinces.yaml")
    return {k: [str(a) for a in v or []] for k, v in data.items() if not k.startswith("_")}


@lru_cache(maxsize=1)
def _not_names() -> frozenset[str]:
    return frozenset(str(w) for w in answer_cues().get("not_names") or [])


def _masked(sentence: str) -> str:
    """The sentence with places blanked: "Ho Chi Minh City", "Ba Ria City" are not people."""
    out = _PLACE.sub(lambda m: "#" * len(m.group()), sentence)
    for province in find_provinces(sentence):
        for alias in sorted([province, *aliases().get(province, [])], key=len, reverse=True):
            out = re.sub(re.escape(alias), lambda m: "#" * len(m.group()), out,
                         flags=re.IGNORECASE)
    return out


def people(sentence: str) -> list[tuple[str, int]]:
    """Personal names (runs of two to four capitalised words that are not titles), with
    their positions."""
    found = []
    masked = _masked(sentence)
    for run in _NAME_RUN.finditer(masked):
        words: list[str] = []
        start = run.start()
        for word in re.finditer(r"\S+", run.group()):
            if word.group() in _not_names():
                if 2 <= len(words) <= 4:
                    found.append((" ".join(words), start))
                words, start = [], run.start() + word.end() + 1
            else:
                words.append(word.group())
        if 2 <= len(words) <= 4:
            found.append((" ".join(words), start))
    return found


def dates_in(sentence: str) -> list[str]:
    """Dates as written ("June 13", "4 novembre", "10 يوليو", "9 septembre 2025", "ngày 27
    tháng 5", "tháng 11 năm 1520"). Vietnamese "tháng" (month) names one only with its
    number after it: "27 tháng" alone is 27 months."""
    months = cue_pattern("months")
    tokens = list(_TOKEN.finditer(sentence))

    def number(j: int, pattern: str = r"\d{1,2}") -> bool:
        return 0 <= j < len(tokens) and bool(re.fullmatch(
            pattern, numbers.canonical(tokens[j].group().strip(_PUNCT))))

    out = []
    for i, token in enumerate(tokens):
        word = fold(token.group().strip(_PUNCT))
        if not months.fullmatch(word):
            continue
        first, last = i, i
        if word == "thang":
            if not number(i + 1):
                continue
            last = i + 1
            if number(i - 1):
                first = i - 1
        elif number(i - 1):
            first = i - 1
        elif number(i + 1) or number(i + 1, r"1\d{3}|20\d\d"):  # "June 13", "November 1520"
            last = i + 1
        if first == last:
            continue
        # The year after it, "năm 1520" in Vietnamese.
        year = last + 2 if (last + 2 < len(tokens) and fold(tokens[last + 1].group()) == "nam"
                            ) else last + 1
        if number(year, r"1\d{3}|20\d\d"):
            last = year
        out.append(sentence[tokens[first].start(): tokens[last].end()].strip(_PUNCT))
    return out


def years_in(text: str, language: str | None = None) -> set[str]:
    return set(_YEAR.findall(numbers.canonical(text, language)))


def places_in(sentence: str, asked: Iterable[str] = ()) -> list[str]:
    """Named places ("Ba Ria City", "Vung Tau Hospital"), then provinces, not those asked
    about."""
    asked = set(asked)
    found = [m.group().strip() for m in _PLACE.finditer(sentence)
             if not set(find_provinces(m.group())) & asked]
    return found + [p for p in find_provinces(sentence) if p not in asked]


@lru_cache(maxsize=1)
def number_words() -> re.Pattern[str]:
    """Numbers written as words ("six", "hai", "cinq"): they answer "how many" too."""
    forms = [w for words in answer_cues()["number_words"].values() for w in words]
    return cue_regex(forms, True)
