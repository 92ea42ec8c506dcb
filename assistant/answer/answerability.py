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
from typing import Any, Protocol

from assistant.answer.spans import (
    answer_cues,
    find_roles,
    number_words,
    people,
    years_in,
)
from assistant.text.anchors import find_provinces, find_terms, fold
from assistant.text.cues import cue_regex
from assistant.text.figures import Figure, extract_figures
from assistant.text.languages import normalize

# Concepts that qualify another ("patients" in "percentage of patients with a record",
# "doctors per 10,000 people") or set the scene ("at the Tra Vinh bridge point", "the
# facilities examined 1,647,334 patients"): required
# only when the question names nothing else.
OPTIONAL_TERMS = {"examinations", "per_10000_people", "bridge_points", "medical_facilities"}
# Concepts that only say which event a question is about ("the working session"): never
# required, since the question may ask about something said there ("the resolution
# mentioned at the working session"); sentences naming another event rank lower.
SCENE_TERMS = {"working_session", "conference"}


class Passage(Protocol):
    """What answerability needs of a retrieved chunk (``search`` hits have it)."""

    @property
    def source(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def metadata(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Need:
    """What a question asks for."""

    kind: str  # "figure", "name", "date", "place" or "other"
    terms: frozenset[str] = frozenset()  # indicator concepts the answer must name
    roles: frozenset[str] = frozenset()  # "director", "vice_chair", ...
    provinces: tuple[str, ...] = ()
    years: frozenset[str] = frozenset()
    qualifiers: frozenset[str] = frozenset()  # optional terms asked ("per 10,000 people")

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
def _kind_patterns() -> dict[str, tuple[re.Pattern[str], re.Pattern[str]]]:
    """Per kind: (multi-word cues, matched anywhere; one-word cues, first or last word)."""
    out = {}
    for kind, by_language in answer_cues()["kinds"].items():
        forms = [f for fs in by_language.values() for f in fs]
        out[kind] = (cue_regex([f for f in forms if " " in f], True),
                     cue_regex([f for f in forms if " " not in f], True))
    return out


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
    quantity = quantity_pattern(tuple(quantity_cues)).search(kept)
    if quantity and (best is None or quantity.start() < len(kept) * best[0] / max(1, len(folded))):
        return "figure"
    return best[1] if best else "other"


def asks_for_year(question: str) -> bool:
    """"Which year ...": a date question answered by a year, not a day and month."""
    multi, single = _kind_patterns()["year"]
    folded = fold(question)
    return bool(multi.search(folded) or single.search(folded))


def dated_event(question: str, terms: Iterable[str]) -> frozenset[str]:
    """The event (``SCENE_TERMS``) a date question asks the date of: named in its first
    words ("Phiên làm việc ... diễn ra vào ngày nào?") or right after the cue ("When was
    the working session held?"), not at its end ("De quelle date est la résolution ...
    évoquée lors de la séance de travail ?": the resolution's date)."""
    scene = set(terms) & SCENE_TERMS
    if not scene:
        return frozenset()
    folded = fold(question)
    multi, single = _kind_patterns()["date"]
    cues = [m.end() for m in (*multi.finditer(folded), *single.finditer(folded))]
    windows = [" ".join(folded.split()[:5])] + [folded[end:end + 32] for end in cues[:1]]
    return frozenset(t for t in scene if any(t in find_terms(w) for w in windows))


@lru_cache(maxsize=8)
def quantity_pattern(cues: tuple[str, ...]) -> re.Pattern[str]:
    return cue_regex(cues, prepare=normalize)


@lru_cache(maxsize=1)
def _measure_pattern() -> re.Pattern[str]:
    return cue_regex([f for fs in answer_cues()["measure"].values() for f in fs], True)


def need_of(question: str, quantity_cues: Iterable[str], terms: Iterable[str] | None = None,
            provinces: Sequence[str] | None = None) -> Need:
    """What ``question`` asks for; ``terms``/``provinces`` when the pipeline has them."""
    asked = set(find_terms(question) if terms is None else terms) - SCENE_TERMS
    qualifiers = frozenset(asked & OPTIONAL_TERMS)
    if asked - OPTIONAL_TERMS:
        asked -= OPTIONAL_TERMS
    kind = question_kind(question, quantity_cues)
    if (kind == "other" and asked & set(answer_cues()["measured"])
            and _measure_pattern().search(fold(question))):
        kind = "figure"
    years = years_in(question)
    if kind == "date":
        years = set()  # "which year" questions name no year to check
    # Roles are what a "who" question asks for; elsewhere they only set the scene
    # ("where did the leaders chair the conference?").
    roles = frozenset(find_roles(question)) if kind == "name" else frozenset()
    if roles:  # the role is what is asked; a qualifier alone is then only the scene
        asked -= OPTIONAL_TERMS
    return Need(kind, frozenset(asked), roles,
                tuple(find_provinces(question) if provinces is None else provinces),
                frozenset(years), qualifiers)


def document_years(passage: Passage) -> set[str]:
    """Years a report is about: its date, and years its title names."""
    meta = passage.metadata
    found = years_in(str(meta.get("title", "")))
    date = str(meta.get("date") or "")
    if re.match(r"(?:19|20)\d\d", date):  # stored as yyyymmdd, or ISO text
        found.add(date[:4])
    return found


def check(need: Need, sentence: str, passage: Passage,
          figures: Sequence[Figure] | None = None) -> Verdict:
    """Does ``sentence`` (from ``passage``) hold what ``need`` asks for? ``figures``: the
    sentence's, when the caller has analysed it already."""
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
        here = years_in(sentence, passage.language)
        about = document_years(passage)
        # A document that gives no date nor year in its title: its period is unknown.
        if about and not need.years & (here | about):
            return Verdict(False, "year", sorted(need.years))
    # An indicator named without a figure ("a budget plan for 2026") is not its figure.
    if figures is None:
        figures = extract_figures(sentence, keep_small=True)
    if (need.kind == "figure" and not figures
            and not number_words().search(fold(sentence))):
        return Verdict(False, "kind", ["figure"])
    # Dates and places are written too many ways ("in the 1990s", "in Paris") to require
    # one; the lead states them when it finds them.
    # Names are found by capitals; Arabic script has none, so Arabic sentences pass.
    if (need.kind == "name" and not need.roles and passage.language != "ar"
            and not people(sentence)):
        return Verdict(False, "kind", ["person"])
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
