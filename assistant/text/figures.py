"""Figures in report sentences, in any of the five languages: the one figure extractor,
shared by briefings (key-figures tables) and answers (the lead line that states a figure).

Extraction is rule-based and verbatim: a figure's value is the exact span of the sentence
it came from ("1,647,334", "4,1", "14.8٪"), so a brief can be checked against its sources
character for character. The cue words per language live in ``data/briefing_cues.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, ValidationError

from assistant.errors import AssistantError
from assistant.resources import load_yaml
from assistant.text import numbers
from assistant.text.anchors import find_terms, fold
from assistant.text.cues import cue_regex
from assistant.text.languages import normalize
from assistant.text.phrases import function_words

# Clauses: figures in one clause share an indicator. Commas inside numbers have no space.
_CLAUSE = re.compile(r"[;؛:()]|[,،]\s|\s[-–]\s")
_WORD = re.compile(r"[^\s,;:()؛،.]+")
_PER_CAPITA = re.compile(r"\s*((?:\w+\s)?\w+/\s?\d[\d,. ]*\d(?:\s\w+)?)")
_YEAR = re.compile(r"^(19|20)\d\d$")
_YEAR_PHRASE = re.compile(r"^\s*(?:\S+\s+){0,2}(?:19|20)\d\d(?!\d)")
_YEAR_IN = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
URL = re.compile(r"(?:https?://|www\.)\S+")
_POWER_OF_TEN = re.compile(r"^10+$")
# A subscript written apart from its element: "O 2", "CO 2" (oxygen, not two of anything).
_FORMULA = re.compile(r"(?<!\w)(?:[A-Z][a-z]?){1,2} $")
# Concepts that qualify a figure rather than name what it counts.
_QUALIFIERS = {"per_10000_people", "examinations"}


class Cues(BaseModel):
    directive: dict[str, list[str]]
    problem: dict[str, list[str]]
    target: dict[str, list[str]]
    deadline: dict[str, list[str]]
    months: dict[str, list[str]]
    multipliers: dict[str, list[str]]
    per: dict[str, list[str]]
    reference: dict[str, list[str]]
    related_terms: dict[str, list[str]]
    range: dict[str, list[str]]
    compared: dict[str, list[str]]

    def lacking(self, languages: Sequence[str]) -> list[str]:
        """The cue tables that miss one of ``languages`` (the Briefer checks the configured)."""
        return [f"{name} lacks {', '.join(sorted(set(languages) - set(getattr(self, name))))}"
                for name in ("directive", "problem", "target", "deadline", "months",
                             "multipliers", "per", "reference", "range", "compared")
                if set(languages) - set(getattr(self, name))]


@lru_cache(maxsize=1)
def cues() -> Cues:
    try:
        return Cues.model_validate(load_yaml("briefing_cues.yaml"))
    except ValidationError as exc:
        raise AssistantError(f"assistant/data/briefing_cues.yaml is invalid: {exc}") from None


@lru_cache(maxsize=64)
def cue_pattern(kind: str, anchored_end: bool = False) -> re.Pattern[str]:
    """All languages' cues of one kind: a sentence in one language may quote another."""
    table: dict[str, list[str]] = getattr(cues(), kind)
    alternation = cue_regex([f for forms in table.values() for f in forms],
                            arabic_stems_inside=True).pattern
    return re.compile(rf"(?:{alternation})\W*$" if anchored_end else f"(?:{alternation})")


def has_cue(kind: str, text: str) -> bool:
    return bool(cue_pattern(kind).search(fold(URL.sub(" ", text))))


@dataclass
class Figure:
    value: str  # verbatim from the sentence
    unit: str = ""
    indicator: str = ""  # the clause around the value, verbatim
    concept: str = ""  # health_terms concept the clause names, if any
    target: str | None = None
    period: str | None = None
    own_period: bool = False  # the period is the year written beside this figure alone
    multiplier: str = ""  # "million" in "5 million cases", verbatim: part of the figure
    through: str = ""  # a range's first end: the range, verbatim ("3 to 5")
    counts: str = ""  # the noun phrase the figure counts or measures, verbatim
    # Where ``counts`` was read: "after" the figure (a noun phrase) or "before" it (the
    # clause up to a rate, "le taux de paiements ... a atteint 80 %").
    counts_side: str = "after"
    preceding: str = ""  # up to three words before the figure in its clause ("تم تطعيم")

    @property
    def stated(self) -> str:
        """The figure as a lead states it: its value with its multiplier."""
        return f"{self.value} {self.multiplier}" if self.multiplier else self.value


def _is_date(before: str, after: str) -> bool:
    months = cue_pattern("months")
    next_word = _WORD.search(after)
    prev_words = _WORD.findall(before)[-1:]
    return bool((next_word and months.fullmatch(fold(next_word.group())))
                or (prev_words and months.fullmatch(fold(prev_words[0]))))


def _unit(after: str, value: str) -> str:
    if value.endswith(("%", "٪")):
        return "%"
    stop = re.search(r"[;؛:()]|[,،]\s|\s[-–]\s|\.(\s|$)", after)
    tail = after[: stop.start()] if stop else after
    words = _WORD.findall(tail)[:4]
    if not words:
        return ""
    out = [words[0]]
    if cue_pattern("multipliers").match(fold(words[0])) and len(words) > 1:
        out.append(words[1])
    # "doctors/10,000 people": the denominator is part of the unit.
    per = _PER_CAPITA.match(after)
    if per:
        return per.group(1)
    return " ".join(out).strip(".,")


def extract_figures(sentence: str, period: str | None = None,
                    keep_small: bool = False) -> list[Figure]:
    """Figures of one sentence with unit, indicator, target and period, values verbatim.

    Years, dates, reference numbers, per-capita denominators, numbers in links and bare
    numbers below ten (unless ``keep_small``: "3 focal points" answers "how many") are not
    figures; a number right after a target cue ("(target 2790")
    is the target of the figure before it.
    """
    masked = URL.sub(lambda m: " " * len(m.group()), sentence)
    text = normalize(masked)
    # A year a figure is compared with ("ніж за аналогічний період 2024 року") is not its own.
    years = [normalize(m.group()) for m in _YEAR_IN.finditer(text)
             if not cue_pattern("compared").search(fold(" ".join(
                 _WORD.findall(text[: m.start()])[-4:])))]
    when = "–".join(dict.fromkeys(years)) if years else period
    kept: list[tuple[numbers.Figure, bool]] = []  # (match, is a target)
    for match in numbers.figures(masked):
        value = match.text.strip()
        digits = re.sub(r"\D", "", normalize(value).split("/")[0])
        before, after = masked[: match.start], masked[match.end :]
        tail = fold(before[-25:])
        is_percent = value.endswith(("%", "٪"))
        if _YEAR.match(normalize(value)) or _is_date(before, after):
            continue
        if _POWER_OF_TEN.match(digits) and (before.endswith("/") or cue_pattern(
                "per", anchored_end=True).search(tail)):
            continue  # a per-capita denominator belongs to the figure before it
        if cue_pattern("reference", anchored_end=True).search(tail):
            continue
        if len(digits) == 1 and _FORMULA.search(before):
            continue
        if (("/" not in value and not is_percent and len(digits) == 1 and not keep_small)
                or not digits.strip("0")):
            continue
        # The cue must sit between this number and the one before, close to this one.
        since_last = before[kept[-1][0].end :] if kept else ""
        last_words = " ".join(_WORD.findall(since_last)[-3:])
        is_target = bool(kept) and cue_pattern("target").search(fold(last_words)) is not None
        kept.append((match, is_target))
    figures: list[Figure] = []
    ends: list[tuple[int, int]] = []  # each figure's span in the sentence
    for i, (match, is_target) in enumerate(kept):
        value = match.text.strip()
        after = masked[match.end :]
        if is_target:
            if figures and figures[-1].target is None:
                unit = _unit(after, value)
                figures[-1].target = value if unit in ("%", "") else f"{value} {unit}"
            continue
        clause_start = max((m.end() for m in _CLAUSE.finditer(masked, 0, match.start)),
                           default=0)
        clause_end_match = _CLAUSE.search(masked, match.end)
        clause_end = clause_end_match.start() if clause_end_match else len(masked)
        prev_end = kept[i - 1][0].end if i else 0
        next_start = kept[i + 1][0].start if i + 1 < len(kept) else len(masked)
        start, end = max(clause_start, prev_end), min(clause_end, next_start)
        span = sentence[start:end].strip(" -–*•,;")
        concept = (_concept(sentence[match.end : end]) or _concept(sentence[start:end])
                   or _concept(sentence[clause_start:clause_end]))
        counted, side = _counted(sentence, clause_start, match.end,
                                 min(clause_end, next_start), value)
        first_after = _WORD.match(after.lstrip())
        multiplier = (first_after.group() if first_after and not value.endswith(("%", "٪"))
                      and cue_pattern("multipliers").match(fold(first_after.group()))
                      else "")
        figures.append(Figure(value=value, unit=_unit(after, value), indicator=_trim(span),
                              concept=concept, period=when, multiplier=multiplier,
                              counts=counted, counts_side=side,
                              preceding=" ".join(_WORD.findall(
                                  re.split(r"[,;:()،؛]", sentence[: match.start])[-1])[-3:])))
        ends.append((match.start, match.end))
    _own_years(figures, ends, masked)
    _bind_ranges(figures, ends, masked)
    return figures


def _own_years(figures: list[Figure], spans: list[tuple[int, int]], sentence: str) -> None:
    """"rose from 415,000 in 1991 to 587,000 square kilometres in 2000": a year written
    within three words of a figure, in its clause, is that figure's own period (the figure
    before it first)."""
    def near(a: int, b: int) -> bool:
        between = sentence[a:b]
        return len(_WORD.findall(between)) <= 3 and not _CLAUSE.search(between)

    own: dict[int, set[str]] = {}
    for year in _YEAR_IN.finditer(sentence):
        before = [i for i, (_, end) in enumerate(spans) if end <= year.start()]
        after = [i for i, (start, _) in enumerate(spans) if start >= year.end()]
        if before and near(spans[before[-1]][1], year.start()):
            own.setdefault(before[-1], set()).add(normalize(year.group()))
        elif after and near(year.end(), spans[after[0]][0]):
            own.setdefault(after[0], set()).add(normalize(year.group()))
    for i, years in own.items():
        if len(years) == 1:
            figures[i].period, figures[i].own_period = years.pop(), True


def _bind_ranges(figures: list[Figure], spans: list[tuple[int, int]], sentence: str) -> None:
    """"from 415,000 to 587,000 square kilometres": the first end of a range counts what
    the second counts (its own words are the clause before it)."""
    for i in range(len(figures) - 2, -1, -1):
        first, second = figures[i], figures[i + 1]
        # "415,000 in 1991 to 587,000": the first end's own year may stand between them.
        between = _YEAR_PHRASE.sub(" ", fold(sentence[spans[i][1] : spans[i + 1][0]]))
        percent = first.value.endswith(("%", "٪"))
        if (percent == second.value.endswith(("%", "٪"))
                and cue_pattern("range").fullmatch(between.strip(" "))):
            first.counts, first.counts_side = second.counts, second.counts_side
            first.unit = first.unit if percent else second.unit
            first.multiplier = first.multiplier or second.multiplier
            first.through = sentence[spans[i][0] : spans[i + 1][1]]


# A noun phrase after a figure ends at a verb, a relative word or a comparison.
_PHRASE_END = frozenset(fold(w) for w in (
    "but", "mais", "але", "nhưng", "لكن", "that", "which", "who", "whom", "were", "was", "is",
    "are", "have", "has", "had", "reaching", "compared", "than", "from", "to", "since",
    "increase", "increased", "up", "down", "qui", "que", "dont", "ont", "sont", "a", "été",
    "était", "soit", "par", "contre", "що", "які", "який", "яка", "яке", "було", "були", "був",
    "стало", "становить", "порівняно", "більше", "đã", "được", "là", "đạt", "so", "với",
    "tăng", "giảm", "الذين", "التي", "الذي", "حيث", "منهم", "بزيادة", "محققا", "محققًا",
    "مقارنة", "اي",
))
# After a percentage, these open the phrase it is a share of ("99.5% of facilities").
_OF = frozenset(fold(w) for w in ["of", "des", "de", "du", "d'", "của", "các", "من"])


def _counted(sentence: str, clause_start: int, value_end: int, end: int,
             value: str) -> tuple[str, str]:
    """What the figure ending at ``value_end`` counts: the words right after it ("118
    public medical ... facilities", "65 розумних терміналів", "2862 سريرًا"), else (a rate,
    "... a atteint 80 %"; a figure written after its noun) its clause up to the figure."""
    words = [m for m in _WORD.finditer(sentence, value_end, end)]
    multipliers = cue_pattern("multipliers")
    while words and (m := multipliers.match(fold(words[0].group()))) and m.end() > 1:
        words.pop(0)
    limit = 6
    if value.endswith(("%", "٪")):
        first = fold(words[0].group()) if words else ""
        if first in _OF or first.startswith(("d'", "d’")) or (
                words and _CYRILLIC_START.match(words[0].group())):
            # A share of something: what it is a share of runs to the clause's end ("100 %
            # des communes, quartiers et villes répondant aux critères nationaux de santé").
            stop = re.compile(r"[;؛:()]|\.(?:\s|$)").search(sentence, value_end)
            words = [m for m in _WORD.finditer(sentence, value_end,
                                               stop.start() if stop else len(sentence))]
            words = words[1:] if first in _OF or first.startswith(("d'", "d’")) else words
            limit = 14
        else:
            words = []  # "80 % et ...": the rate's name comes before it
    kept = []
    for word in words[:limit]:
        if fold(word.group()) in _PHRASE_END:
            break
        kept.append(word)
    # "12,5 médecins et de": short function words do not end a noun phrase.
    while kept and len(kept[-1].group()) <= 3 and fold(kept[-1].group()) in function_words():
        kept.pop()
    if kept:
        return sentence[kept[0].start(): kept[-1].end()].strip(" .,"), "after"
    digits = re.search(r"\d", sentence[value_end - len(value): value_end])
    start = value_end - len(value) if digits else value_end
    label = _trim(sentence[clause_start:start].strip(" -–*•,;:"), 160)
    head = sentence[:start].rstrip()
    if not label and head.endswith(":"):
        # A value after its label, as table rows read ("Bao Lac · Doctors · 2025: 22"):
        # it counts what the label before the colon names.
        prev = max((m.end() for m in _CLAUSE.finditer(head, 0, len(head) - 1)), default=0)
        label = _trim(head[prev:-1].strip(" -–*•,;:"), 160)
    return label, "before"


_CYRILLIC_START = re.compile("[\u0400-\u04ff]")


def _concept(text: str) -> str:
    found = find_terms(text)
    specific = sorted(found - _QUALIFIERS)
    if specific:
        return specific[0]
    return sorted(found)[0] if found else ""


def _trim(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
