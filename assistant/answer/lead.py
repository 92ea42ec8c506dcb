"""The lead line of an extractive answer, in the question's language.

A figure, a name, a date or a place is taken from the best cited sentence (values copied
exactly as written there) and stated with a template from ``prompts/answers.yaml``; other
questions get a line naming the report the quotes come from. A lead holding a figure that
its sentence does not hold is dropped (the quote stays). When the reports lack the fact,
``not_held`` says what the nearest report does give instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from pydantic import BaseModel, ValidationInfo, model_validator

from assistant.answer.answerability import Need, Passage, held_concepts
from assistant.answer.citations import MARKER
from assistant.answer.spans import aliases, dates_in, find_roles, people, places_in
from assistant.answer.support import Asked, asked_of, figure_terms, per_capita, pick
from assistant.prompts import load_model, require_languages
from assistant.text import numbers
from assistant.text.anchors import find_terms, fold
from assistant.text.figures import Figure, extract_figures
from assistant.text.phrases import overlap

# Where one event's date ends and another's begins: clauses, "and" between two, brackets
# holding a clause ("(although Edison ... in 1915"), not a bracketed date ("Fog on the
# Tyne" (1971)), which dates what it follows.
_DATE_CLAUSE = re.compile(r"[;؛]|[,،]\s|\s(?:and|et|và|і|та|й)\s|\((?![^()]{0,24}\))|\)")

# An alias in the answer's script: Vietnamese is Latin with its letters (ơ, ư, đ, ạ ...),
# not any letter past ASCII (Cyrillic and Arabic lie between them).
_SCRIPTS = {"uk": re.compile("[\u0400-\u04ff]"), "ar": re.compile("[\u0600-\u06ff]"),
            "vi": re.compile("^[\u0000-\u024f\u1e00-\u1eff]*[\u00c0-\u024f\u1ea0-\u1ef9]"
                             "[\u0000-\u024f\u1e00-\u1eff]*$")}


class AnswerMessages(BaseModel):
    """``prompts/answers.yaml``: lead and abstention templates, concept names."""

    figure: dict[str, str]
    figure_plain: dict[str, str]
    period: dict[str, str]
    target: dict[str, str]
    person: dict[str, str]
    person_role: dict[str, str]
    role_of: dict[str, str]
    date: dict[str, str]
    place: dict[str, str]
    quote: dict[str, str]
    source_of: dict[str, str]
    source_any: dict[str, str]
    not_held: dict[str, str]
    not_held_unnamed: dict[str, str]
    for_year: dict[str, str]
    and_: dict[str, str]
    names: dict[str, dict[str, str]]

    model_config = {"populate_by_name": True}

    @model_validator(mode="before")
    @classmethod
    def _and(cls, data: dict[str, object]) -> dict[str, object]:
        return {("and_" if k == "and" else k): v for k, v in data.items()}

    @model_validator(mode="after")
    def _every_language(self, info: ValidationInfo) -> AnswerMessages:
        tables = {k: v for k, v in self.__dict__.items() if k != "names"}
        tables.update({f"names.{k}": v for k, v in self.names.items()})
        require_languages(info, tables)
        return self

    def say(self, key: str, language: str, **fields: str) -> str:
        table: dict[str, str] = getattr(self, key)
        return (table.get(language) or table["en"]).format(**fields)

    def name(self, concept: str, language: str) -> str:
        table = self.names.get(concept, {})
        return table.get(language) or table.get("en") or concept.replace("_", " ")


@lru_cache(maxsize=8)
def load_answer_messages(prompts_dir: Path, languages: tuple[str, ...]) -> AnswerMessages:
    return load_model(AnswerMessages, prompts_dir / "answers.yaml", languages)


@dataclass(frozen=True)
class Lead:
    text: str  # the line, without its [n]
    span: str  # the fact alone (value, name, date or place), as the sentence writes it


def place_name(province: str, language: str, asked: str = "") -> str:
    """A province as the question ``asked`` spells it ("Бен Тре", "Bến Tre"), else as the
    question's script writes it ("Лангшон", "لانج سون", "Lạng Sơn")."""
    script = _SCRIPTS.get(language)
    if asked:
        where = fold(asked)
        used = [f for f in [province, *aliases().get(province, [])] if fold(f) in where]
        # "Bến Tre" over "Ben Tre" (they fold alike), "Баріа-Вунгтау" over "Вунгтау".
        used.sort(key=lambda f: (not (script and script.search(f)), -len(f)))
        if used:
            return used[0]
    if script:
        for alias in aliases().get(province, []):
            if script.search(alias):
                return alias
    return province


def place_names(provinces: Iterable[str], language: str, asked: str = "") -> str:
    """Provinces listed as ``language`` writes them ("Хайфон, Лангшон"), each as ``asked``
    spells it where it does."""
    return ("، " if language == "ar" else ", ").join(place_name(p, language, asked)
                                                    for p in provinces)


def document_label(passages: Sequence[Passage], language: str) -> str:
    provinces: list[str] = []
    for passage in passages:
        provinces += [p for p in passage.metadata.get("provinces") or [] if p not in provinces]
    if provinces:
        return place_names(provinces[:3], language)
    return str(passages[0].metadata.get("title") or passages[0].source) if passages else ""


def lead_is_supported(lead: str, sentence: str, sentence_language: str,
                      language: str) -> bool:
    """Every figure of the lead occurs in the sentence it cites (the one number rule); a
    template's own figure ("10,000" in "per 10,000 people") is read in the lead's language,
    a copied one in the sentence's."""
    held = numbers.keys(sentence, sentence_language)
    text = MARKER.sub(" ", lead)
    readings = zip(numbers.figures(text, language), numbers.figures(text, sentence_language),
                   strict=False)
    spans = {f.start: {f.key} for f in numbers.figures(text, language)}
    for a, b in readings:
        spans.setdefault(a.start, set()).add(a.key)
        spans.setdefault(b.start, set()).add(b.key)
    return all(keys & held for keys in spans.values())


def _first_number(text: str | None, language: str) -> str:
    found = numbers.figures(text or "", language)
    return found[0].text.strip() if found else ""


def _figure_lead(msgs: AnswerMessages, figure: Figure, doc: str, sentence_lang: str,
                 language: str) -> Lead:
    """The figure labelled by its own phrase: the vocabulary's name for the indicator it
    names, else the source's own words, quoted; never a word from elsewhere in the
    sentence."""
    concepts = sorted(figure_terms(figure) - {"per_10000_people"})
    if concepts:
        indicator = msgs.name(concepts[0], language)
        if per_capita(figure):
            indicator += " " + msgs.name("per_10000_people", language)
    elif figure.counts:
        indicator = f"«{figure.counts}»"
    else:
        return Lead(msgs.say("figure_plain", language, source=doc, value=figure.stated),
                    figure.stated)
    period = msgs.say("period", language, period=figure.period) if figure.period else ""
    target_value = _first_number(figure.target, sentence_lang)
    target = msgs.say("target", language, target=target_value) if target_value else ""
    return Lead(msgs.say("figure", language, source=doc, indicator=indicator, period=period,
                         value=figure.stated, target=target), figure.stated)


def _name_lead(msgs: AnswerMessages, need: Need, question: str, sentence: str, doc: str,
               language: str) -> Lead | None:
    roles = find_roles(sentence)
    folded_question = fold(question)
    named = [(p, at) for p, at in people(sentence) if fold(p) not in folded_question]
    asked_person = [p for p, _ in people(sentence) if fold(p) in folded_question]
    if asked_person and roles and not need.roles:
        # "What position does Le Minh Quang hold?": the role is the answer.
        role = ", ".join(msgs.name(r, language) for r in roles)
        return Lead(msgs.say("role_of", language, source=doc, person=asked_person[0],
                             role=role), role)
    if not named:
        return None
    anchor = min((roles[r] for r in need.roles if r in roles), default=None)
    # The person next to the role asked for ("Mr. X - Director of ..."), else the first.
    person = named[0][0] if anchor is None else min(
        named, key=lambda item: abs(len(fold(sentence[: item[1]])) - anchor))[0]
    # In the sentence's order: a set's order changes from one process to the next.
    shown = sorted((r for r in (need.roles or set(roles)) if r in roles), key=roles.__getitem__)
    role = msgs.say("person_role", language, role=msgs.name(shown[0], language)) if shown else ""
    return Lead(msgs.say("person", language, source=doc, person=person, role=role), person)


def _date_lead(msgs: AnswerMessages, need: Need, asked_about: Asked, question: str,
               sentence: str, doc: str, language: str) -> Lead | None:
    """The date (else the year) of the clause that names what was asked about: "Edison did
    receive one of 38 bids in 1915 and Tesla ... in 1937" dates Tesla's bid 1937. None when
    two clauses name it alike and give different dates."""
    asked = numbers.keys(question, language)
    found = [(sentence.find(d), d) for d in dict.fromkeys(dates_in(sentence))
             if d not in question]
    if not found:  # "Which year ...": a year will do
        found = [(f.start, f.text) for f in numbers.figures(sentence)
                 if re.fullmatch(r"(?:19|20)\d\d", f.key) and f.key not in asked]
    if not found:
        return None
    bounds = [0, *(m.end() for m in _DATE_CLAUSE.finditer(sentence)), len(sentence) + 1]
    ranked: list[tuple[tuple[int, float, float], str]] = []
    for start, end in pairwise(bounds):
        dated = [d for at, d in found if start <= at < end]
        if dated:
            clause = sentence[start:end]
            # Who or what it is about first ("Tesla", "Fog on the Tyne"), then its words.
            ranked.append(((len(need.terms & find_terms(clause)),
                            overlap(asked_about.entities, clause),
                            overlap(asked_about.content, clause)), dated[0]))
    best = max(score for score, _ in ranked)
    dates = {d for score, d in ranked if score == best}
    if len(dates) > 1:
        return None
    date = dates.pop()
    return Lead(msgs.say("date", language, source=doc, date=date), date)


def _place_lead(msgs: AnswerMessages, need: Need, sentence: str, doc: str,
                language: str) -> Lead | None:
    places = [place_name(p, language) for p in places_in(sentence, need.provinces)]
    if not places:
        return None
    return Lead(msgs.say("place", language, source=doc, place=places[0]), places[0])


def lead_for(msgs: AnswerMessages, need: Need, question: str, sentence: str,
             passage: Passage, language: str, figure: Figure | None = None,
             quote_only: bool = False, asked: Asked | None = None) -> Lead:
    """The lead for an answer whose best cited sentence is ``sentence``; ``figure``: the
    sentence's figure bound to what a figure question asks (none: the quote alone);
    ``quote_only``: state nothing, the sentence speaks (two figures fit alike); ``asked``:
    the question's words, as the caller read them (else read here)."""
    # The report by its province(s): a title may be a whole sentence in another language.
    provinces = passage.metadata.get("provinces") or []
    doc = (msgs.say("source_of", language, document=document_label([passage], language))
           if provinces else msgs.say("source_any", language))
    lead: Lead | None = None
    if quote_only:
        return Lead(msgs.say("quote", language, source=doc), "")
    if need.kind == "figure" and figure is None:
        per = "per_10000_people" in need.terms | need.qualifiers
        figure = pick(extract_figures(sentence, keep_small=True), need.terms, Asked((), (), ()),
                      per)[0]
    if need.kind == "figure" and figure is not None:
        lead = _figure_lead(msgs, figure, doc, passage.language, language)
    elif need.kind == "name":
        lead = _name_lead(msgs, need, question, sentence, doc, language)
    elif need.kind == "date":
        lead = _date_lead(msgs, need, asked or asked_of(question, None, language), question,
                          sentence, doc, language)
    elif need.kind == "place":
        lead = _place_lead(msgs, need, sentence, doc, language)
    if lead and lead_is_supported(lead.text, sentence, passage.language, language):
        return lead
    return Lead(msgs.say("quote", language, source=doc), "")


def not_held(msgs: AnswerMessages, need: Need, nearest: Sequence[Passage],
             language: str) -> str:
    """"The Lang Son report gives hospital beds and doctors, not the health budget.\""""
    doc = document_label(nearest[:1], language)
    same = [p for p in nearest if p.source == nearest[0].source] if nearest else []
    held = [c for c in held_concepts(same) if c not in need.terms]
    joiner = msgs.and_.get(language) or msgs.and_["en"]
    held_text = _join([msgs.name(c, language) for c in held], joiner)
    if not held_text:
        return ""
    concepts: Iterable[str] = sorted(need.terms) or sorted(need.roles) or [
        need.kind if need.kind != "other" else ""]
    asked = _join([msgs.name(c, language) for c in concepts if c], joiner)
    if need.years and asked:
        asked = msgs.say("for_year", language, asked=asked, year=", ".join(sorted(need.years)))
    if not asked or need.kind == "other":
        return msgs.say("not_held_unnamed", language, document=doc, held=held_text)
    return msgs.say("not_held", language, document=doc, held=held_text, asked=asked)


def _join(items: Sequence[str], joiner: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + joiner + items[-1]
