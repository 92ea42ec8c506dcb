"""Language-independent anchors: province names and health-indicator terms.

Dense similarity across languages is weak on a small multilingual model; a question and a
passage that name the same province or the same indicator meet here whatever their
languages. Both lists are data files in ``assistant/data``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.resources import load_yaml
from assistant.text.languages import normalize, strip_accents

# Hyphens and the en dash are one hyphen: "COVID‑19" (non-breaking) is "COVID-19".
DASHES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
                         "’": "'"})


def fold(text: str) -> str:
    """The form anchors are matched in: case, Latin diacritics and Arabic variants folded."""
    return normalize(strip_accents(text)).translate(DASHES)


def _data(name: str) -> dict[str, object]:
    return load_yaml(name)


_CYRILLIC = re.compile("[\u0400-\u04ff]")
_ARABIC = re.compile("[\u0600-\u06ff]")


def _alternation(forms: set[str]) -> str:
    return "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))


@lru_cache(maxsize=1)
def _provinces() -> list[tuple[str, re.Pattern[str]]]:
    table = []
    for name, aliases in _data("provinces.yaml").items():
        if name.startswith("_"):
            continue
        forms = {fold(a) for a in [name, *(aliases or [])]}  # type: ignore[misc]
        cyrillic = {f for f in forms if _CYRILLIC.search(f)}
        arabic = {f for f in forms if _ARABIC.search(f)}
        # Ukrainian declines place names (Дананг -> Дананга, Хайфоні): allow an ending.
        pattern = rf"(?<!\w)(?:(?:{_alternation(forms - cyrillic - arabic)})"
        if cyrillic:
            pattern += rf"|(?:{_alternation(cyrillic)})[а-яіїєґ]{{0,3}}"
        if arabic:
            # Arabic writes "and", "in", "to" onto the name: "لانغ سون وهاي فونغ".
            pattern += rf"|[وف]?[بلك]?(?:{_alternation(arabic)})"
        table.append((name, re.compile(pattern + r")(?!\w)")))
    return table


def find_provinces(text: str) -> list[str]:
    """Canonical names of the provinces a text mentions, in any supported script."""
    folded = _not_places().sub(" ", fold(text))
    spans = sorted(((m.start(), -m.end(), name) for name, pattern in _provinces()
                    for m in pattern.finditer(folded)))
    # Leftmost-longest, without overlaps: "Lạng Sơn là" names Lang Son, not also "Sơn La".
    found, end = set(), -1
    for start, neg_end, name in spans:
        if start >= end:
            found.add(name)
            end = -neg_end
    return [name for name, _ in _provinces() if name in found]


@lru_cache(maxsize=1)
def _not_places() -> re.Pattern[str]:
    listed = _data("provinces.yaml").get("_not_places") or []
    phrases = {fold(str(p)) for p in listed}  # type: ignore[attr-defined]
    return re.compile(rf"(?<!\w)(?:{_alternation(phrases)})(?!\w)" if phrases else r"(?!x)x")


@lru_cache(maxsize=1)
def _terms() -> list[tuple[str, re.Pattern[str]]]:
    table = []
    for concept, by_language in _data("health_terms.yaml").items():
        assert isinstance(by_language, dict)
        arabic = {fold(f) for f in by_language.get("ar", [])}
        others = {fold(f) for lang, forms in by_language.items() if lang != "ar" for f in forms}
        parts = [rf"(?<!\w)(?:{_alternation(others)})"] if others else []
        if arabic:
            parts.append(f"(?:{_alternation(arabic)})")
        table.append((concept, re.compile("|".join(parts))))
    return table


def find_terms(text: str) -> set[str]:
    """Health indicators a text names (``hospital_beds``, ``doctors``, ...)."""
    folded = fold(text)
    return {concept for concept, pattern in _terms() if pattern.search(folded)}


# Where a noun's modifiers stand: English and Ukrainian put them before it ("paediatric
# beds", "дитячих ліжок"), Vietnamese, French and Arabic after ("giường bệnh nhi", "lits
# pédiatriques", "أطباء العيون"). A word on the other side ("lượt" khám, пацієнтів
# "оглянутих") counts or describes the act, not the thing.
_MODIFIERS_BEFORE = {"en", "uk"}


def unnamed_modifiers(words: list[str], language: str) -> list[str]:
    """The modifiers of the indicator named in ``words`` (a phrase, in order) that no
    indicator form covers: "paediatric" in "paediatric beds", "gia đình" in "bác sĩ gia
    đình". Empty when the phrase names no indicator."""
    if not words:
        return []
    folded = [fold(w) for w in words]
    text = " ".join(folded)
    starts = [0]
    for form in folded[:-1]:
        starts.append(starts[-1] + len(form) + 1)
    covered: list[tuple[int, int]] = []
    for _, pattern in _terms():  # overlapping forms too: "lượt khám" and "khám chữa bệnh"
        for at, form in zip(starts, folded, strict=True):
            m = pattern.search(text, at)
            if m and m.start() < at + len(form):
                covered.append(m.span())
    hits, start = [], 0
    for form in folded:
        end = start + len(form)
        hits.append(any(a < end and start < b for a, b in covered))
        start = end + 1
    if not any(hits):
        return []
    if language in _MODIFIERS_BEFORE:
        first = hits.index(True)
        return words[:first]
    last = len(hits) - 1 - hits[::-1].index(True)
    after = words[last + 1:]
    if language == "ar":  # a definite noun qualifies ("أطباء العيون"); "والعلاج" adds one
        return [w for w in after[:1] if fold(w).startswith("ال")]
    return after
