"""Directives and problems in report sentences, and the per-sentence analysis a briefing
needs; figures come from the one extractor in ``assistant.text.figures``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.answer.support import figure_terms
from assistant.text.anchors import find_terms, fold
from assistant.text.figures import URL, Cues, Figure, cue_pattern, cues, extract_figures, has_cue
from assistant.text.languages import tokenize

__all__ = ["Analysis", "Cues", "Figure", "analyse", "bound_concept", "counted_unit", "cues",
           "deadline", "extract_figures", "is_directive", "is_problem", "related_concepts"]


def is_directive(sentence: str) -> bool:
    return has_cue("directive", sentence)


def is_problem(sentence: str) -> bool:
    return has_cue("problem", sentence)


def bound_concept(figure: Figure) -> str:
    """The indicator a key-figures row is labelled with: the one the figure's own phrase
    names, as an answer's lead does ("100% of medical stations have doctors" is not a
    doctors figure), not whatever its clause mentions; "" when it names none."""
    concepts = figure_terms(figure) - {"per_10000_people"}
    if figure.value.endswith(("%", "٪")) and figure.counts_side == "after":
        # "99.5% of medical examination and treatment facilities": a share of facilities.
        concepts -= {"examinations"}
    return sorted(concepts)[0] if concepts else ""


def counted_unit(figure: Figure) -> str:
    """A row's unit: %, a per-capita unit, else the noun phrase the figure counts ("public
    medical examination and treatment facilities", not "public")."""
    if figure.unit == "%" or "/" in figure.unit or figure.counts_side != "after" \
            or not figure.counts:
        return figure.unit
    return f"{figure.multiplier} {figure.counts}".strip()  # "мільйона візитів"


def deadline(sentence: str) -> str | None:
    """"by 2025", "d'ici 2025": the date a directive is due, verbatim, if it names one."""
    folded = fold(sentence)
    for match in cue_pattern("deadline").finditer(folded):
        rest = folded[match.end() : match.end() + 25]
        year = re.match(r"\s*(?:\w+\s){0,2}?((?:19|20)\d\d)", rest)
        if year:
            return f"{match.group()} {year.group(1)}"
    return None


@dataclass(frozen=True)
class Analysis:
    """What a briefing needs to know about one sentence, computed once per sentence."""

    terms: frozenset[str]
    tokens: frozenset[str]  # for lexical overlap with a topic
    figures: tuple[Figure, ...]  # periods only from the sentence itself; do not mutate
    directive: bool
    problem: bool
    due: str | None


@lru_cache(maxsize=100_000)
def analyse(sentence: str) -> Analysis:
    # Folding is the costly part: fold once, match every cue list on the folded text.
    folded = fold(URL.sub(" ", sentence))
    directive = bool(cue_pattern("directive").search(folded))
    return Analysis(frozenset(find_terms(sentence)), frozenset(tokenize(sentence)),
                    tuple(extract_figures(sentence)),
                    directive, bool(cue_pattern("problem").search(folded)),
                    deadline(sentence) if directive else None)


def related_concepts(concepts: set[str]) -> set[str]:
    out = set(concepts)
    for concept in concepts:
        out.update(cues().related_terms.get(concept, []))
    return out
