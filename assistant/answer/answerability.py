"""Can the retrieved sentences answer what the question asks for?

Similarity alone cannot tell "the hospital beds of Lang Son" from "the hospital beds of Hai
Phong" or "the health budget of Lang Son": all three sit close to each other. So the question
is read for what it asks (a figure, a name, a date, a place; the indicators and roles it
names, across languages, with the vocabulary in ``assistant/data``; the provinces and years
it names) and a sentence counts as evidence only if it holds that. No supporting sentence
above the evidence floor: the answer abstains and says what the nearest report does hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

import yaml

from assistant.text import numbers
from assistant.text.anchors import find_provinces, find_terms, fold
from assistant.text.figures import extract_figures
from assistant.text.languages import normalize

# Concepts that qualify another ("patients" in "percentage of patients with a record"):
# required only when the question names nothing more specific.
OPTIONAL_TERMS = {"examinations"}
KINDS = ("date", "place", "name", "figure")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_ARABIC = re.compile("[\u0600-\u06ff]")


class Passage(Protocol):
    """What answerability needs of a retrieved chunk (``search`` hits have it)."""

    source: str
    text: str
    language: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Need:
    """What a question asks for."""

    kind: str  # "figure", "name", "date", "place" or "other"
    terms: frozenset[str] = frozenset()  # indicator concepts the answer must name
    roles: frozenset[str] = frozenset()  # "director", "vice_chair", ...
    provinces: tuple[str, ...] = ()
    years: frozenset[str] = frozenset()

    @property
    def specific(self) -> bool:
        """Does the question name anything a sentence can be checked against?"""
        return bool(self.terms or self.roles or self.years) or self.kind != "other"


@dataclass
class Verdict:
    answerable: bool
    reason: str = ""  # why not: "indicator", "province", "year", "kind"
    missing: list[str] = field(default_factory=list)  # concepts asked for and not found


@lru_cache(maxsize=1)
def answer_cues() -> dict[str, Any]:
    text = resources.files("assistant").joinpath("data/answer_cues.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict), "answer_cues.yaml must be a mapping"
    return data


def _pattern(forms: Iterable[str], whole_words: bool) -> re.Pattern[str]:
    parts = []
    for form in sorted({fold(f) for f in forms}, key=len, reverse=True):
        stem = form.endswith("*")
        body = re.escape(form.rstrip("*"))
        if _ARABIC.search(form) and not whole_words:
            parts.append(body)
        elif stem or not whole_words:
            parts.append(rf"(?<!\w){body}")
        else:
            parts.append(rf"(?<!\w){body}(?!\w)")
    return re.compile("|".join(parts) or r"(?!x)x")


@lru_cache(maxsize=1)
def _kind_patterns() -> dict[str, tuple[re.Pattern[str], re.Pattern[str]]]:
    """Per kind: (multi-word cues, matched anywhere; one-word cues, first or last word)."""
    out = {}
    for kind, by_language in answer_cues()["kinds"].items():
        forms = [f for fs in by_language.values() for f in fs]
        out[kind] = (_pattern([f for f in forms if " " in f], True),
                     _pattern([f for f in forms if " " not in f], True))
    return out


@lru_cache(maxsize=1)
def _role_patterns() -> list[tuple[str, re.Pattern[str]]]:
    # Longest forms first across roles: "deputy director" is consumed before "director".
    table = [(role, fold(form)) for role, by_language in answer_cues()["roles"].items()
             for forms in by_language.values() for form in forms]
    table.sort(key=lambda item: -len(item[1]))
    return [(role, _pattern([form], False)) for role, form in table]


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


def question_kind(question: str, quantity_cues: Iterable[str]) -> str:
    """The kind of answer a question asks for, by its earliest interrogative cue."""
    folded = fold(question).strip(" ?؟.!")
    words = re.findall(r"\w[\w'’]*", folded)
    edges = {words[0], words[-1]} if words else set()
    best: tuple[int, str] | None = None
    for kind in ("date", "place", "name"):
        multi, single = _kind_patterns()[kind]
        spots = [m.start() for m in multi.finditer(folded)]
        spots += [m.start() for m in single.finditer(folded) if m.group() in edges]
        if spots and (best is None or min(spots) < best[0]):
            best = (min(spots), kind)
    # Quantity cues compare with accents kept, as the extractive scorer reads them: folded,
    # Vietnamese "số" (number) would be "Sở" (department).
    kept = normalize(question)
    quantity = _quantity_pattern(tuple(quantity_cues)).search(kept)
    if quantity and (best is None or quantity.start() < len(kept) * best[0] / max(1, len(folded))):
        return "figure"
    return best[1] if best else "other"


@lru_cache(maxsize=8)
def _quantity_pattern(cues: tuple[str, ...]) -> re.Pattern[str]:
    forms = sorted({normalize(c) for c in cues}, key=len, reverse=True)
    return re.compile("|".join(rf"(?<!\w){re.escape(f)}(?!\w)" for f in forms) or r"(?!x)x")


@lru_cache(maxsize=1)
def _measure_pattern() -> re.Pattern[str]:
    return _pattern([f for fs in answer_cues()["measure"].values() for f in fs], True)


def need_of(question: str, quantity_cues: Iterable[str], terms: Iterable[str] | None = None,
            provinces: Sequence[str] | None = None) -> Need:
    """What ``question`` asks for; ``terms``/``provinces`` when the pipeline has them."""
    asked = set(find_terms(question) if terms is None else terms)
    if asked - OPTIONAL_TERMS:
        asked -= OPTIONAL_TERMS
    kind = question_kind(question, quantity_cues)
    if (kind == "other" and asked & set(answer_cues()["measured"])
            and _measure_pattern().search(fold(question))):
        kind = "figure"
    years = set(_YEAR.findall(numbers.canonical(question)))
    if kind == "date":
        years = set()  # "which year" questions name no year to check
    return Need(kind, frozenset(asked), frozenset(find_roles(question)),
                tuple(find_provinces(question) if provinces is None else provinces),
                frozenset(years))


def document_years(passage: Passage) -> set[str]:
    """Years a report is about: its date, and years its title names."""
    meta = passage.metadata
    found = set(_YEAR.findall(str(meta.get("title", ""))))
    if meta.get("date"):
        found.update(_YEAR.findall(str(meta["date"]))[:1])
    return found


def check(need: Need, sentence: str, passage: Passage) -> Verdict:
    """Does ``sentence`` (from ``passage``) hold what ``need`` asks for?"""
    if need.provinces:
        covered = set(passage.metadata.get("provinces") or [])
        if not covered & set(need.provinces):
            return Verdict(False, "province")
        # A report on three provinces: the sentence must not be about another one.
        named = set(find_provinces(sentence))
        if named and not named & set(need.provinces):
            return Verdict(False, "province")
    missing = sorted(need.terms - find_terms(sentence))
    if missing:
        return Verdict(False, "indicator", missing)
    if need.roles:
        lacking = sorted(need.roles - set(find_roles(sentence)))
        if lacking:
            return Verdict(False, "indicator", lacking)
    if need.years:
        here = set(_YEAR.findall(numbers.canonical(sentence, passage.language)))
        if not need.years & (here | document_years(passage)):
            return Verdict(False, "year", sorted(need.years))
    if need.kind == "figure" and not extract_figures(sentence):
        return Verdict(False, "kind", ["figure"])
    return Verdict(True)


def held_concepts(passages: Iterable[Passage], limit: int = 3) -> list[str]:
    """Indicators a report's retrieved passages give figures for, most mentioned first."""
    counts: dict[str, int] = {}
    for passage in passages:
        for figure in (f for s in re.split(r"(?<=[.!?؟])\s+", passage.text)
                       for f in extract_figures(s)):
            if figure.concept and figure.concept not in OPTIONAL_TERMS | {"per_10000_people"}:
                counts[figure.concept] = counts.get(figure.concept, 0) + 1
    return sorted(counts, key=lambda c: -counts[c])[:limit]
