"""Is what the question asks about in the passage an answer quotes? (issue 21)

Two checks, one per kind of question:

- A figure is bound to the noun phrase it counts (``Figure.counts``). It answers a "how
  many" question only when that phrase is what the question asks for: an indicator of the
  vocabulary named on both sides, or, for a thing the vocabulary does not know ("dentists",
  "smart terminals"), the asked words themselves (same stem, or a Cyrillic-Latin cognate).
  A figure whose phrase names a known indicator never answers a question about an unknown
  one: "dentists" are not "doctors". Similarity between phrases was measured and rejected
  here: multilingual-e5 puts "dentists" closer to "doctors/10,000" (0.87) than "smart
  terminals" to "розумних терміналів" (0.885 vs 0.869 for "private medical facilities").
- Any other answer: the question's content words (its entities, diseases, places, rare
  terms) must be found in the quoted passage when both are in one language. The share found
  decides answered / partial / not found; the thresholds were fitted on the tune halves
  (eval/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from assistant.answer.answerability import SCENE_TERMS
from assistant.answer.spans import aliases, answer_cues, number_words, years_in
from assistant.search.searcher import Hit
from assistant.text.anchors import find_provinces, find_terms, fold, unnamed_modifiers
from assistant.text.cues import cue_regex
from assistant.text.figures import Figure, cue_pattern
from assistant.text.languages import normalize
from assistant.text.phrases import (
    content_words,
    function_words_of,
    medical_adjectives,
    overlap,
    stem,
    words_of,
)

ANSWERED, PARTIAL, NOT_FOUND = "answered", "partial", "not found"
# An untyped answer in the passage's language is judged on two signals added together: the
# share of the question's content words its report holds (0 when one of its entities is
# missing) and how far its best sentence scores above min_evidence, SIMILARITY_WEIGHT
# shares per point. Below LOW "not found", below HIGH "partial". Fitted by `python -m
# bench.support_fit` on the tune halves of the health sets, each answerable question asked
# again with its gold document removed (eval/README.md, fourth round): a logistic fit of
# the two puts 0.14 of score on a par with the whole share (AUC 0.85-0.88 -> 0.88-0.94).
# An FAQ answers in other words than the question ("boss" / "l'employeur"); words alone
# abstained on 0.16 of qcfaq's answerable questions whose gold passage ranks first.
LOW, HIGH = 0.6, 0.8
SIMILARITY_WEIGHT = 6.0
# A sentence holding this share of a question's other words is about what it asks.
ABOUT = 0.5
# Concepts that qualify a figure ("patients" in "98 % des patients bénéficient d'un
# dossier"), not what it counts, when anything else is named.
_QUALIFIERS = {"examinations", "per_10000_people", "bridge_points", "medical_facilities"}
# Quantity cues that ask for a share (prompts' quantity_cues, folded).
_RATE = re.compile(r"(?<!\w)(?:rate|percent|percentage|share|proportion|ty le|відсоток|частка|"
                   r"рівень|taux|pourcentage|part|نسبه|معدل)(?!\w)")
_ARABIC_LETTER = re.compile("[\u0600-\u06ff]")
_LINKS = {"de", "d", "du", "des"}
# "Of" opening a counted phrase ("4/6 من المهام الرئيسية", "5 of the key tasks").
_PARTITIVE = {"of", "de", "des", "du", "з", "із", "cua", "trong", "من"}
_ENTITY = re.compile(r"^(?:[A-ZÀ-ÝĐА-ЯІЇЄҐ].*|.*[A-Z].*[A-Z].*|.*\d.*)$")


@dataclass(frozen=True)
class Asked:
    """What a question asks about, as words."""

    words: tuple[str, ...]  # the noun phrase after "how many" (figure questions)
    content: tuple[str, ...]  # every content word but provinces
    entities: tuple[str, ...]  # capitalised words and acronyms past the first word
    # Words of the asked phrase no indicator covers: "paediatric beds" are not hospital
    # beds, "أطباء الأسنان" (dentists) not "أطباء" (doctors). When the phrase also names an
    # indicator, a figure of that indicator answers only if its own phrase holds one of them.
    qualifiers: tuple[str, ...] = ()
    rate: bool = False  # asks for a share ("what percentage", "taux", "tỷ lệ"): a % answers
    change: bool = False  # asks by how much something changed: a figure written as a change
    head: str = ""  # the counted noun, where the language puts it first (answer_cues.yaml)
    years: frozenset[str] = frozenset()  # years the question names


@lru_cache(maxsize=1)
def _place_words() -> frozenset[str]:
    out: set[str] = set()
    for province, spellings in aliases().items():
        for name in (province, *spellings):
            out.update(fold(w) for w in re.findall(r"[\w'’-]+", name))
    return frozenset(out)


@lru_cache(maxsize=1)
def _place_stems() -> frozenset[str]:
    return frozenset(stem(w) for w in _place_words() if len(w) > 3)


def asked_of(question: str, quantity: re.Pattern[str] | None, language: str) -> Asked:
    """The words ``question`` (in ``language``) asks about; ``quantity``: the quantity
    cues' pattern."""
    places = _place_words()
    place_stems = _place_stems()
    content = [w for w in content_words(question)
               if fold(w) not in places and stem(w) not in place_stems]
    words: list[str] = []
    match = quantity.search(normalize(question)) if quantity else None
    if match:
        stop = function_words_of(language)
        rest = question[match.end():]
        linked = False
        for found in re.finditer(r"[^\W\d_](?:[\w'’-]*\w)?", rest):
            word, folded = found.group(), fold(found.group())
            if folded in places and find_provinces(rest[found.start():][:40]):
                break
            if words and folded in medical_adjectives():
                continue
            if folded in stop or len(word) < 2:
                # French qualifies a noun through "de" ("lits de maternité"): one link
                # carries on; otherwise the phrase ends at its first function word.
                if len(words) == 1 and language == "fr" and folded in _LINKS and not linked:
                    linked = True
                    continue
                if words:
                    break
                continue
            words.append(word)
            if len(words) == (5 if language == "vi" else 3):  # vi: words are syllables
                break
    first = re.match(r"\W*([\w'’-]+)", question)
    # The first word is capitalised as any sentence's, and so are its parts ("Qu'est-ce").
    opening = set(words_of(first.group(1))) if first else set()
    entities = [w for w in content if _ENTITY.match(w) and w not in opening]
    # "Six key tasks", "шести основних завдань": a number says how many, not which kind;
    # "людей оглянули" (people examined): people are who was counted, not a kind of them.
    qualifiers = [w for w in unnamed_modifiers(words, language)
                  if not number_words().fullmatch(fold(w)) and not _persons().match(fold(w))]
    named = find_terms(question) - _QUALIFIERS - SCENE_TERMS
    if not qualifiers and words and not named and _modifier_kinds(" ".join(words)):
        # "établissements médicaux privés", "cơ sở y tế tư nhân" (the noun is framing
        # words there): the modifier still says which part is asked for.
        qualifiers = [w for w in words if _modifier_kinds(w, whole=True)] or words
    rate = bool(match and _RATE.search(fold(match.group())))
    change = bool(match) and bool(_change("question").search(fold(question)))
    head = words[0] if words and language in answer_cues()["head_first"] else ""
    return Asked(tuple(words), tuple(content), tuple(entities), tuple(qualifiers), rate,
                 change, head, frozenset(years_in(question, language)))


@lru_cache(maxsize=2)
def _change(side: str) -> re.Pattern[str]:
    """answer_cues.yaml's change cues of one side (question, figure); Arabic forms match
    inside a word (attached prefixes), the others whole words."""
    forms = [f for fs in answer_cues()["change"][side].values() for f in fs]
    arabic = [f for f in forms if _ARABIC_LETTER.search(f)]
    latin = cue_regex([f for f in forms if f not in arabic], True).pattern
    return re.compile(f"{latin}|{cue_regex(arabic, False).pattern}")


def figure_terms(figure: Figure) -> set[str]:
    """Indicators the figure's own phrase names (a qualifier only when alone). A noun
    phrase is read at its ends, where its head is (English puts it last, the other four
    languages first): "118 public medical examination and treatment facilities" counts
    facilities, not examinations."""
    text = figure.counts
    if figure.counts_side == "after" and not figure.value.endswith(("%", "٪")):
        words = text.split()
        if len(words) > 4 and fold(words[0]) in _PARTITIVE:  # "4/6 من المهام الرئيسية ..."
            words = words[1:]
        text = " ".join(words[:2]) + " | " + " ".join(words[-2:]) if len(words) > 4 else text
    if figure.value.endswith(("%", "٪")):  # "тим, що на 8%", "تم تطعيم 96.3%"
        text += " | " + figure.preceding
    elif _persons().match(fold(figure.counts)):  # "بفحص وعلاج أكثر من 631,000 شخص"
        text += " | " + figure.indicator
    found = find_terms(text)
    if per_capita(figure):
        found.add("per_10000_people")
    specific = found - _QUALIFIERS
    return specific or found


@lru_cache(maxsize=1)
def _persons() -> re.Pattern[str]:
    forms = [f for fs in answer_cues()["persons"].values() for f in fs]
    return re.compile(rf"(?:{cue_regex(forms, True).pattern})\W*$")


def per_capita(figure: Figure) -> bool:
    """A rate per so many people: "9.6 doctors/10,000 people", "34 سريرًا ... لكل 10000"."""
    return "/" in figure.unit or bool(_per_number().search(fold(figure.counts)))


@lru_cache(maxsize=1)
def _per_number() -> re.Pattern[str]:
    # Built on first use: importing the module reads no cue file.
    return re.compile(rf"(?:{cue_pattern('per').pattern})\s*\d")


def wanted_terms(asked: Asked, need_terms: frozenset[str]) -> frozenset[str]:
    """The indicators a figure must count: those of the noun phrase after "how many" when
    it names some ("smart terminals for medical examination registration" asks for
    terminals, not examinations), else those the question names but qualifiers."""
    if asked.words:
        found = find_terms(" ".join(asked.words))
        if found - _QUALIFIERS:
            return frozenset(found)
        if need_terms - _QUALIFIERS:  # "percentage of patients ... with an electronic record"
            return frozenset(need_terms - _QUALIFIERS)
        if found:
            return frozenset(found)
        # "Tỷ lệ xã ... đạt chuẩn quốc gia về y tế": the phrase runs on past a function
        # word; an indicator the question names still counts, a qualifier alone does not,
        # unless the phrase only says which part of it ("tư nhân": private facilities).
        if asked.qualifiers and not need_terms - _QUALIFIERS:
            return frozenset(need_terms)
        return frozenset(need_terms - _QUALIFIERS)
    return need_terms


def binds(figure: Figure, wanted: frozenset[str], asked: Asked) -> float:
    """How well ``figure`` counts what was asked (``wanted``: the vocabulary's indicators):
    1 for the indicator the asked phrase names; the share of the asked words its phrase
    holds for anything else; 0.4 for an indicator named elsewhere in the question (an
    asked phrase that the figure's own words match wins over it); 0 when it counts
    something else. A question asking for a share is answered by percentages only."""
    if asked.rate and not figure.value.endswith(("%", "٪")):
        return 0.0
    if asked.years and figure.own_period and figure.period not in asked.years:
        return 0.0  # "415,000 in 1991" does not answer for 2000
    if asked.change and not _change("figure").search(fold(figure.preceding)):
        return 0.0  # "by how much did it rise": the level reached is not the rise
    own = figure_terms(figure)
    specific = wanted - _QUALIFIERS
    share = overlap(asked.words, figure.counts) if asked.words else 0.0
    from_phrase = bool(find_terms(" ".join(asked.words))) if asked.words else True
    if specific and own & specific and (not asked.qualifiers or qualified(
            asked.qualifiers, figure.counts)):
        return 1.0 if from_phrase else 0.4
    if own - _QUALIFIERS - {"per_10000_people"}:
        return 0.0  # a known indicator is not the unknown thing asked
    if specific and from_phrase:
        return 0.0
    if wanted and own & wanted:  # only a qualifier asked ("how many patients ...")
        if asked.qualifiers and not qualified(asked.qualifiers, figure.counts):
            return 0.0  # "cancer patients" are not all patients examined
        return max(share, 0.5)
    if asked.head and not overlap([asked.head], figure.counts):
        return 0.0  # "đề nghị" (bids) are not "Nghị viện" (parliament) members
    return share if share >= 0.5 else 0.0


def qualified(qualifiers: Sequence[str], phrase: str) -> bool:
    """Does ``phrase`` hold one of the asked modifiers: the word itself (same stem) or,
    in another language, a modifier of the vocabulary ("державних" and "public")?"""
    if overlap(qualifiers, phrase) > 0:
        return True
    return bool(_modifier_kinds(" ".join(qualifiers), whole=True) & _modifier_kinds(phrase))


def _modifier_kinds(text: str, whole: bool = False) -> set[str]:
    """The modifier table's kinds ``text`` names (``whole``: only words that are one)."""
    folded = fold(text)
    if whole:
        return {kind for kind, pattern in _modifiers()
                if any(pattern.match(w) for w in [folded, *folded.split()])}
    return {kind for kind, pattern in _modifiers() if pattern.search(folded)}


@lru_cache(maxsize=1)
def _modifiers() -> list[tuple[str, re.Pattern[str]]]:
    return [(kind, cue_regex([f for fs in forms.values() for f in fs], True))
            for kind, forms in answer_cues()["modifiers"].items()]


def pick(figures: Sequence[Figure], wanted: frozenset[str], asked: Asked,
         per_people: bool) -> tuple[Figure | None, float]:
    """The figure bound best to what was asked (per-capita ones when that was asked, then
    the first in the sentence), with how well it is bound; no figure, with a positive
    score, when two are bound equally well."""
    wanted = wanted_terms(asked, wanted)
    scored = [(binds(_subject(figures, i, asked.change), wanted, asked), i, f)
              for i, f in enumerate(figures)]
    bound = [(s, i, f) for s, i, f in scored if s > 0]
    if not bound:
        return None, 0.0
    def rank(t: tuple[float, int, Figure]) -> tuple[float, bool]:
        return -t[0], per_capita(t[2]) != per_people

    best = min(bound, key=lambda t: (*rank(t), t[1]))
    tied = [t for t in bound if rank(t) == rank(best) and t[2].value != best[2].value]
    if best[2].through and [t[1] for t in tied] == [best[1] + 1]:
        # "3 to 5 million cases": the two ends of one range are stated as the range.
        return replace(best[2], value=best[2].through), best[0]
    if tied:
        # Two figures of the sentence count what was asked equally well (malnutrition by
        # weight and by height): quote the sentence rather than guess which one is meant.
        return None, best[0]
    return best[2], best[0]


def _subject(figures: Sequence[Figure], i: int, change: bool) -> Figure:
    """A figure whose clause names nothing counts what the figure before it counts, when
    it changes it ("4,26 мільйона візитів медичного страхування, що на 3,2% більше") and
    a change was asked, or when it is a share after a share, not written as a change
    ("... سوء التغذية ... إلى 14.8٪، وانخفض من حيث الطول إلى 21.4٪")."""
    figure = figures[i]
    if i == 0 or figure_terms(figure):
        return figure
    before = figures[i - 1]
    written_as_change = bool(_change("figure").search(fold(figure.preceding)))
    shares = all(f.value.endswith(("%", "٪")) for f in (figure, before))
    if change or (shares and not written_as_change):
        return replace(figure, counts=f"{before.counts} {before.preceding} {figure.counts}")
    return figure


def report_text(hits: Sequence[Hit], source: str) -> str:
    """A report's retrieved passages read together: a chunk boundary may cut context off."""
    return "\n".join(h.text for h in hits if h.source == source)


def coverage(asked: Asked, text: str) -> float:
    """Share of the question's content words ``text`` holds; 0 when one of its entities
    (a capitalised name, an acronym) is missing: "What are the symptoms of Ebola?" is not
    answered by a passage on pulmonary embolism."""
    if asked.entities and overlap(asked.entities, text) < 1.0:
        return 0.0
    return overlap(asked.content, text) if asked.content else 1.0


def sureness(share: float, lift: float, weight: float = SIMILARITY_WEIGHT) -> float:
    """The share of the question's words the passage holds plus ``lift``, how far its best
    sentence scores above min_evidence, ``weight`` shares per point."""
    return share + weight * lift


def status_of(share: float, lift: float = 0.0, *, weight: float = SIMILARITY_WEIGHT,
              low: float = LOW) -> str:
    """Answered / partial / not found (``weight`` and ``low`` vary only in bench.support_fit)."""
    sure = sureness(share, lift, weight)
    return ANSWERED if sure >= max(HIGH, low) else PARTIAL if sure >= low else NOT_FOUND
