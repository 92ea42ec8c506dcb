"""Answering without a language model: the retrieved sentences that best answer the
question, quoted exactly (figures untouched) with ``[n]`` markers, or a plain statement
that the documents don't answer it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

from assistant.answer.answerability import (
    Need,
    asks_for_year,
    check,
    dated_event,
    need_of,
    quantity_pattern,
)
from assistant.answer.candidates import Candidate, score_sentences
from assistant.answer.citations import CitationBuilder
from assistant.answer.lead import (
    AnswerMessages,
    lead_for,
    load_answer_messages,
    not_held,
    place_names,
)
from assistant.answer.spans import dates_in
from assistant.answer.support import (
    ABOUT,
    ANSWERED,
    NOT_FOUND,
    PARTIAL,
    Asked,
    asked_of,
    coverage,
    per_capita,
    pick,
    report_text,
    status_of,
    wanted_terms,
)
from assistant.answer.types import Answer
from assistant.answer.vectors import VectorCache
from assistant.config import Settings
from assistant.index.embedding import LocalEmbeddings
from assistant.prompts import ExtractiveMessages, load_extractive
from assistant.search.query import Query
from assistant.search.searcher import Hit
from assistant.text import numbers
from assistant.text.anchors import find_terms
from assistant.text.phrases import overlap

_CACHE_SIZE = 20_000
_SUGGESTIONS = 3


class ExtractiveAnswerer:
    """Answer backend ``extractive``: composes an answer from the retrieved passages alone.

    Shared by the web app's threads: it holds settings, messages, the embedder and a
    lock-guarded cache of sentence vectors, nothing about any one question.
    """

    name = "extractive"

    def __init__(self, settings: Settings, embedder: LocalEmbeddings,
                 cache_size: int = _CACHE_SIZE) -> None:
        self.settings = settings
        self.embedder = embedder
        self.pool_k = settings.answer.pool_k
        self.messages: ExtractiveMessages = load_extractive(settings.prompts_dir,
                                                            tuple(settings.languages))
        self.answers: AnswerMessages = load_answer_messages(settings.prompts_dir,
                                                            tuple(settings.languages))
        self._quantity = tuple(c for cues in self.messages.quantity_cues.values() for c in cues)
        self._vectors = VectorCache(embedder, cache_size)

    def compose(self, query: Query, hits: list[Hit]) -> Answer:
        started = time.perf_counter()
        result = self._compose(query, hits)
        result.question = query.asked
        if query.rewritten:
            result.standalone_question = query.text
        result.latency_ms = (time.perf_counter() - started) * 1000
        return result

    def stream(self, query: Query, hits: list[Hit]) -> Iterator[str | Answer]:
        """The answer is quoted whole, so it streams as one delta, then the ``Answer``."""
        answer = self.compose(query, hits)
        yield answer.answer
        yield answer

    def veto(self, query: Query, hits: list[Hit]) -> Answer | None:
        """The abstention a model's answer gives way to: the question names a province no
        passage covers, or asks for something (an indicator, a role, a year, a figure)
        that no retrieved sentence holds. None when the passages can answer."""
        answer = self.compose(query, hits)
        if answer.abstained and answer.reason in ("province not covered", "not held"):
            return answer
        return None

    def candidates(self, query: Query, hits: list[Hit], wants_figure: bool) -> list[Candidate]:
        """The retrieved sentences scored for ``query``, best first."""
        return score_sentences(query, hits, wants_figure, self._vectors, self.settings)

    def need(self, query: Query) -> Need:
        return need_of(query.text, self._quantity, query.terms, query.provinces)

    def _abstain(self, query: Query, hits: list[Hit], reason: str,
                 message: str | None = None, evidence: float = 0.0) -> Answer:
        text = message or self.messages.pick(self.messages.no_answer, query.language)
        builder = CitationBuilder()
        for hit in hits:  # the closest passages, offered apart from the (absent) answer
            known = {c.source for c in builder.citations}
            if hit.source not in known and len(known) < _SUGGESTIONS:
                builder.cite(hit.source, "", hit.text, hit.metadata)
        return Answer(query.asked, text, True, [], hits, query.language, reason,
                      evidence=evidence, support=0.0, suggestions=builder.citations)

    def _compose(self, query: Query, hits: list[Hit]) -> Answer:
        language = query.language
        if not hits:
            return self._abstain(query, hits, "nothing retrieved")
        named = list(query.provinces)
        covered = {p for h in hits for p in h.metadata.get("provinces", [])}
        if named and not covered.intersection(named):
            message = self.messages.pick(self.messages.province_not_covered, language)
            spelt = place_names(named, language, query.text)
            return self._abstain(query, hits, "province not covered",
                                 message.format(provinces=spelt))
        need = self.need(query)
        candidates = self.candidates(query, hits, need.kind == "figure")
        if not candidates:
            return self._abstain(query, hits, "no sentences")
        asked = asked_of(query.text, quantity_pattern(self._quantity)
                         if need.kind == "figure" else None, query.wording)
        if need.kind == "figure" and asked.words:
            # What "how many" counts is the noun phrase after it; other terms of the
            # question ("registration for medical examinations") only set the scene.
            need = replace(need, terms=wanted_terms(asked, need.terms))
        # Only sentences that hold what was asked count as evidence. A person named in the
        # question's language must be named about what it asks.
        supported = [c for c in candidates if self._supports(need, asked, c) and (
            need.kind != "name" or need.roles or c.hit.language != language
            or _about(query, need, asked, c))]
        if need.kind == "name" and not (need.roles or need.terms or need.years or supported):
            # "Qui fait partie des services essentiels ?" asks for a group of people, not a
            # named person: judged like any other question, on its words.
            need = replace(need, kind="other")
        if need.specific:
            # Evidence needs less similarity than a sentence judged on similarity alone.
            supported = self._ranked(query, need, supported)
            floor = self.settings.answer.min_evidence - self.settings.answer.supported_relief
            if not supported or supported[0].score < floor:
                # "Paediatric beds" are not held, hospital beds are: the message names
                # the report's hospital beds and not the figure asked for.
                said = replace(need, terms=frozenset()) if asked.qualifiers else need
                return self._not_held(query, hits, said, candidates[0].score)
            candidates = supported
        best = candidates[0]
        status, support = "answered", 1.0
        worded = need.kind == "other" and best.hit.language == language
        if worded:
            # Nothing typed to check: the question's own words must be in the passage.
            best, support = self._worded_best(asked, hits, candidates)
            candidates = [best, *(c for c in candidates if c is not best)]
            status = status_of(support, best.score - self.settings.answer.min_evidence)
        elif need.kind == "figure" and not need.terms and best.hit.language == language:
            # A thing the vocabulary does not know, bound by its words alone: the rest of
            # the question must be in the report too ("the Amazon Basin", not the forest).
            support = coverage(asked, report_text(hits, best.hit.source))
            status = status_of(support, best.score - self.settings.answer.min_evidence)
        if not need.specific:
            # A passage holding most of the question's words is evidence as a typed match
            # is: it needs as much less similarity ("Je suis tu essentiel ?").
            relief = (self.settings.answer.supported_relief if worded and status == ANSWERED
                      else 0.0)
            if best.score < self.settings.answer.min_evidence - relief:
                return self._abstain(query, hits, "weak evidence", evidence=best.score)
        if status == NOT_FOUND:
            answer = self._abstain(query, hits, "not supported", evidence=best.score)
            answer.support = support
            return answer
        chosen: list[Candidate] = []
        margin, most = self.settings.answer.quote_margin, self.settings.answer.sentences
        for c in candidates:
            if c.score < best.score - margin or len(chosen) == most:
                break
            # A clause and the sentence it came from say the same thing: quote one.
            if not any(c.sentence in o.sentence or o.sentence in c.sentence for o in chosen):
                chosen.append(c)
        builder = CitationBuilder()
        parts = []
        for c in chosen:
            n = builder.cite(c.hit.source, c.sentence, c.hit.text, c.hit.metadata)
            parts.append(f"{c.sentence} [{n}]")
        # The fact in the question's language first, citing the best sentence ([1]), which
        # is quoted underneath as the evidence.
        ambiguous = need.kind == "figure" and best.figure is None and best.bound > 0
        # A date is stated only when its sentence is about what was asked: "Tesla died on
        # 7 January 1943" does not date his patent. Otherwise the sentence is quoted.
        ambiguous = ambiguous or (need.kind == "date" and not _about(query, need, asked, best))
        ambiguous = ambiguous or (need.kind == "figure" and status == PARTIAL)
        if ambiguous:
            status = PARTIAL  # the sentence holds the answer, among figures alike
        lead = lead_for(self.answers, need, query.text, best.sentence, best.hit, language,
                        best.figure, quote_only=ambiguous, asked=asked)
        return Answer(query.asked, f"{lead.text} [1]\n" + " ".join(parts), False,
                      builder.citations, hits, language, evidence=best.score, status=status,
                      support=support, lead=lead.text, span=lead.span)

    def _worded_best(self, asked: Asked, hits: list[Hit],
                     candidates: list[Candidate]) -> tuple[Candidate, float]:
        """The best sentence whose report holds the question's words, and that share. A
        generic sentence ("Non. Il n'y a pas lieu de craindre ...") may score first by a
        hair: a sentence within the quote margin whose report holds more of the
        question's words is the answer instead. A report's retrieved passages are read
        together: a chunk boundary may cut its context off."""
        language = candidates[0].hit.language
        shares: dict[str, float] = {}
        best, share = candidates[0], -1.0
        for c in candidates:
            if c.score < candidates[0].score - self.settings.answer.quote_margin:
                break
            if c.hit.language != language:
                continue
            if c.hit.source not in shares:
                shares[c.hit.source] = coverage(asked, report_text(hits, c.hit.source))
            if shares[c.hit.source] > share:
                best, share = c, shares[c.hit.source]
        return best, share

    @staticmethod
    def _ranked(query: Query, need: Need, supported: list[Candidate]) -> list[Candidate]:
        """Supporting candidates, best first. A figure whose phrase holds all the asked
        words beats one holding some; among those bound alike, a per-capita figure answers
        only a per-capita question ("how many beds in total": 2862, not 34 per 10,000),
        and a sentence in the question's language, which holds its words as written,
        beats a translation. "On which day was the working session": a sentence naming
        that event, then one that gives a day, come before the others."""
        per = "per_10000_people" in need.terms | need.qualifiers
        figure = need.kind == "figure"
        day = need.kind == "date" and not asks_for_year(query.text)
        event = dated_event(query.text, query.terms) if need.kind == "date" else set()
        return sorted(supported, key=lambda c: (
            -c.bound, figure and c.figure is not None and per_capita(c.figure) != per,
            figure and c.hit.language != query.language,
            bool(event) and not event & find_terms(c.sentence),
            day and not dates_in(c.sentence)))

    @staticmethod
    def _supports(need: Need, asked: Asked, c: Candidate) -> bool:
        """Does the candidate hold what was asked? A figure question also needs a figure
        bound to the thing asked (a sentence holding figures of other things is not
        evidence; one that writes its number in words passes on the indicator check)."""
        if not check(need, c.sentence, c.hit, c.figures).answerable:
            return False
        if need.kind != "figure":
            return True
        per = "per_10000_people" in need.terms | need.qualifiers
        c.figure, c.bound = pick(c.figures, need.terms, asked, per)
        if c.figure is not None or c.bound > 0:  # bound, or two bound alike (quoted)
            return True
        # A number in words ("cinq de ses six missions"): the indicator, or the asked
        # words, must be in the sentence. Holding the asked words themselves binds it as
        # well as a figure bound to them (quoted, since the number is not a figure).
        if c.figures:
            return False
        share = overlap(asked.words, c.sentence) if asked.words else 0.0
        c.bound = share if share >= 0.5 else 0.0
        return bool(need.terms) or share >= 0.5

    def _not_held(self, query: Query, hits: list[Hit], need: Need, evidence: float) -> Answer:
        """Abstain, saying what the nearest report (about the province asked) does hold."""
        nearest = [h for h in hits if set(need.provinces) & set(h.metadata.get("provinces", []))]
        nearest = nearest or hits
        message = not_held(self.answers, need, nearest, query.language)
        answer = self._abstain(query, hits, "not held",
                               f"{message} [1]" if message else None, evidence=evidence)
        builder = CitationBuilder()
        builder.cite(nearest[0].source, "", nearest[0].text, nearest[0].metadata)
        answer.nearest = builder.citations
        return answer


def _about(query: Query, need: Need, asked: Asked, c: Candidate) -> bool:
    """Is ``c`` about what a date or name question asks: it names the event or the
    indicators asked, a number the question gives ("la résolution n° 72"), or, in the
    question's language, most of its words? "Tesla died on 7 January 1943" does not date
    his patent; a sentence naming someone else entirely does not say who did it."""
    named = find_terms(c.sentence)
    if dated_event(query.text, query.terms) & named or (need.terms and need.terms <= named):
        return True
    if numbers.keys(query.text, query.language) & numbers.keys(c.sentence, c.hit.language):
        return True
    # Who the question is about is not what happened to them: the other words decide.
    words = [w for w in asked.content if w not in asked.entities] or asked.content
    return c.hit.language == query.language and overlap(words, c.sentence) >= ABOUT
