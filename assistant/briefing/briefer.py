"""Briefings: one cited page on a topic, a province and a period, from every relevant report.

A chat answer reads the top few chunks; a briefing reads every document in scope. Select:
every chunk of the documents that match the province and period is scored against the
topic (its stored vector, plus the health-indicator anchors that hold across languages);
documents close enough to the best one, or naming the topic's indicators, are kept. Map:
each kept document's sentences give figures, directives and problems (``figures.py``).
Reduce: an executive summary, a key-figures table, directives, problems, a section per
province and numbered sources. Every line quotes its source sentence verbatim and cites it.

With a language model (any LangChain ``BaseChatModel``), the model writes the summary in
the requested language; each line must cite, and every figure in it must occur in the
passage it cites, or the line is dropped.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.access import User
from assistant.answer.citations import Citation, CitationBuilder, markers
from assistant.answer.lead import place_names
from assistant.briefing.figures import (
    Analysis,
    analyse,
    bound_concept,
    counted_unit,
    cues,
    related_concepts,
)
from assistant.briefing.types import (
    Briefing,
    BriefRequest,
    FigureRow,
    Line,
    load_briefing_messages,
)
from assistant.config import Settings
from assistant.errors import AssistantError, EmptyIndexError, InputError
from assistant.index.store import DocRecord
from assistant.search.filters import Filters
from assistant.search.searcher import Searcher
from assistant.text import dates, numbers
from assistant.text.anchors import find_provinces, find_terms
from assistant.text.languages import UNKNOWN, detect, tokenize
from assistant.text.sentences import split_sentences

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

_MIN_WORDS = 6


@dataclass
class _Sentence:
    text: str
    passage: str
    record: DocRecord
    metadata: dict[str, Any]
    score: float
    on_topic: bool  # names the topic's indicators
    facts: Analysis
    period: str | None  # the report's year, for figures whose sentence names none

    @property
    def language(self) -> str:
        return str(self.metadata.get("lang", self.record.language))


class Briefer:
    """Builds a ``Briefing`` from the index; one per ``Assistant``."""

    def __init__(self, settings: Settings, searcher: Searcher,
                 chat_model: BaseChatModel | None = None) -> None:
        # Passages come through the searcher: its snapshot (no Chroma round trips) and its
        # filter, so a reader's groups bound a briefing exactly as they bound a chat answer.
        self.settings = settings
        self.searcher = searcher
        self.store = searcher.store
        self.embedder = searcher.embedder
        self.chat_model = chat_model
        self.messages = load_briefing_messages(settings.prompts_dir, tuple(settings.languages))
        if lacking := cues().lacking(settings.languages):
            raise AssistantError(f"assistant/data/briefing_cues.yaml: {'; '.join(lacking)}")

    # -- selection --------------------------------------------------------------------------
    def brief(self, request: BriefRequest) -> Briefing:
        started = time.perf_counter()
        language = request.language if request.language in self.settings.languages else "en"
        topic = " ".join(unicodedata.normalize("NFC", request.topic).split())
        if not topic and not request.province:
            raise InputError("Give a topic or a province to brief on.")
        if self.store.is_empty():
            raise EmptyIndexError
        if len(topic) > self.settings.answer.max_question_chars:
            raise InputError(f"The topic is {len(topic):,} characters long; the limit is "
                             f"{self.settings.answer.max_question_chars:,}.")
        if request.since and request.until and request.since > request.until:
            raise InputError("--since is after --until: no period to brief on.")
        provinces = self._provinces(request.province, topic)
        labels = {name: self.messages.label(name, language) for name in self.messages.labels}
        # A province as the request spelt it ("Чавінь"), or in the brief's script ("Trà Vinh").
        title_topic = topic or place_names(provinces, language, request.province or "") \
            or labels["all_topics"]
        briefing = Briefing(request, labels["title"].format(topic=title_topic), language, labels)
        records = [r for r in self.store.documents() if self._in_scope(r, provinces, request)]
        if records:
            self.store.verify_embedder(self.embedder.model_id)
            # The reader's groups apply where the passages are selected (the searcher's
            # filter): a document they may not read gives no sentence, so no line or source.
            sentences, focused = self._relevant(records, topic, provinces, request.reader)
            self._compose(briefing, sentences, topic, focused)
        briefing.latency_ms = (time.perf_counter() - started) * 1000
        return briefing

    def _provinces(self, option: str | None, topic: str) -> list[str]:
        if option:
            named = find_provinces(option)
            return named or [option.strip()]
        return find_provinces(topic)  # "where does Lang Son stand?" is a province brief

    @staticmethod
    def _in_scope(record: DocRecord, provinces: list[str], request: BriefRequest) -> bool:
        if provinces:
            wanted = {p.casefold() for p in provinces}
            if not wanted.intersection(p.casefold() for p in record.provinces):
                return False
        if request.since or request.until:
            if not record.date:
                return False  # an undated report cannot be placed in a period
            try:
                when = dates.parse(record.date)
            except InputError:
                return False
            assert when is not None
            if (request.since and when < request.since) or (request.until and
                                                             when > request.until):
                return False
        return True

    def _relevant(self, records: list[DocRecord], topic: str, provinces: list[str],
                  reader: User | None) -> tuple[list[_Sentence], bool]:
        """Every sentence of the relevant documents, scored against the topic; and whether
        the brief has a subject (False: a province or period brief, everything counts)."""
        by_source = {r.source: r for r in records}
        ids = [cid for r in records for cid in r.chunk_ids]
        # The topic without the province names: what the brief is about.
        subject = topic
        for name in provinces:
            subject = re.sub(re.escape(name), " ", subject, flags=re.I)
        has_subject = bool(re.search(r"\w{3,}", subject)) and not (
            provinces and set(find_provinces(topic)) == set(provinces)
            and len(tokenize(subject)) <= 2)
        qvec = self.embedder.embed_query_vector(topic or " ".join(provinces))
        qlang = detect(topic, self.settings.languages) if topic else UNKNOWN
        topic_terms = related_concepts(find_terms(topic))
        q_tokens = {t for t in tokenize(subject) if len(t) > 3}
        sentences: list[_Sentence] = []
        doc_best: dict[str, float] = {}
        seen: set[tuple[str, str]] = set()
        scope = Filters(sources=tuple(by_source), reader=reader)
        tuned = self.settings.briefing  # offsets on the embedder's similarity scale
        for meta, text, vec in self.searcher.passages(ids, scope):
            record = by_source[meta["source"]]
            lang = str(meta.get("lang", record.language))
            dense = float(np.asarray(vec, dtype=np.float32) @ qvec)
            chunk_score = dense + (tuned.cross_lingual_offset if lang != qlang else 0.0)
            for sentence in split_sentences(text, lang):
                sentence = sentence.lstrip("-*•– ").strip()
                if (record.source, sentence) in seen or len(sentence.split()) < _MIN_WORDS:
                    continue
                seen.add((record.source, sentence))
                facts = analyse(sentence)
                on_topic = bool(topic_terms & facts.terms)
                overlap = len(q_tokens & facts.tokens) / max(1, len(q_tokens))
                score = (chunk_score + (tuned.term_bonus if on_topic else 0.0)
                         + tuned.overlap_bonus * overlap)
                period = record.date[:4] if record.date else None
                sentences.append(_Sentence(sentence, text, record, meta, score, on_topic,
                                           facts, period))
                doc_best[record.source] = max(doc_best.get(record.source, -1.0), score)
        if not has_subject:
            return sentences, False  # a province or period brief: every document in scope
        best = max(doc_best.values(), default=0.0)
        keep = {s for s, v in doc_best.items()
                if v >= max(best - self.settings.briefing.relevance_margin,
                            self.settings.briefing.min_relevance)}
        keep |= {s.record.source for s in sentences if s.on_topic}
        return [s for s in sentences if s.record.source in keep], True

    # -- reduce -----------------------------------------------------------------------------
    def _compose(self, briefing: Briefing, sentences: list[_Sentence], topic: str,
                 focused: bool) -> None:
        if not sentences:
            return
        ranked = sorted(sentences, key=lambda s: (-s.on_topic, -s.score))
        # On a subject, lists hold what is about it: sentences naming its indicators, or
        # as close to it as the best one; a province brief lists everything.
        best = ranked[0].score
        pool = [s for s in ranked if s.on_topic
                or s.score >= best - self.settings.briefing.relevance_margin] if focused else ranked
        builder = CitationBuilder()
        cap = self.settings.briefing.max_items

        def line(s: _Sentence, due: str | None = None) -> Line:
            n = builder.cite(s.record.source, s.text, s.passage, s.metadata)
            return Line(s.text, n, s.record.source, s.language, list(s.record.provinces), due)

        # Summary: the best sentence of each document, best documents first, 3 to 5 lines.
        # A fragment of a cut sentence reads badly; a province brief leads with the
        # sentences richest in figures and indicators.
        def lead(s: _Sentence) -> tuple[bool, bool, int, float]:
            rich = (bool(s.facts.figures) if focused
                    else min(len(s.facts.figures), 4) + len(s.facts.terms))
            return (s.text[:1].islower(), not s.on_topic, -rich, -s.score)

        leading = sorted(ranked, key=lead)
        per_doc: dict[str, _Sentence] = {}
        for s in leading:
            per_doc.setdefault(s.record.source, s)
        chosen = list(per_doc.values())[:5]
        for s in leading:
            if len(chosen) >= 3:
                break
            if s not in chosen:
                chosen.append(s)
        briefing.summary = [line(s) for s in chosen]
        # Figures: from sentences naming the topic's indicators when there are enough of
        # them; a topic without indicators (or a province brief) takes every figure.
        with_figures = [s for s in ranked if s.on_topic]
        if not any(s.facts.figures for s in with_figures):
            with_figures = pool
        used: set[tuple[str, str]] = set()
        for s in with_figures:
            for f in s.facts.figures:
                if len(briefing.figures) >= self.settings.briefing.max_figures:
                    break
                if (s.record.source, f.value) in used:
                    continue
                used.add((s.record.source, f.value))
                label = self.messages.indicators.get(bound_concept(f), {}).get(
                    briefing.language)
                indicator = f"{label}: {f.indicator}" if label else f.indicator
                briefing.figures.append(FigureRow(
                    indicator, f.value, counted_unit(f), f.target,
                    place_names(s.record.provinces, briefing.language),
                    f.period or s.period, line(s).cite, f.concept, s.text, s.record.source))
        # Slice before citing: a source is numbered only when a line shown cites it.
        directives = [s for s in pool if s.facts.directive][:cap]
        problems = [s for s in pool if s.facts.problem and not s.facts.directive][:cap]
        briefing.directives = [line(s, s.facts.due) for s in directives]
        briefing.problems = [line(s) for s in problems]
        # A section per province; provinces covered by exactly the same reports (one joint
        # report) share one section instead of repeating it.
        groups: dict[frozenset[str], list[str]] = {}
        for province in sorted({p for s in sentences for p in s.record.provinces}):
            sources = frozenset(s.record.source for s in pool if province in s.record.provinces)
            if sources:
                groups.setdefault(sources, []).append(province)
        if len(groups) > 1:
            for sources, names in groups.items():
                mine = [s for s in pool if s.record.source in sources]
                mine.sort(key=lambda s: (-s.on_topic, -bool(s.facts.figures), -s.score))
                heading = place_names(names, briefing.language)
                briefing.by_province[heading] = [line(s) for s in mine[:3]]
        briefing.citations = builder.citations
        if self.chat_model is not None:
            try:
                self._model_summary(briefing, topic or briefing.title)
            except Exception as exc:
                briefing.model_error = type(exc).__name__
        records = {s.record.source: s.record for s in sentences}
        for c in briefing.citations:
            record = records[c.source]
            briefing.documents.append({"n": c.n, "source": c.source, "title": c.title,
                                       "language": record.language, "date": record.date,
                                       "provinces": list(record.provinces), "url": c.url})

    # -- the language-model seam ---------------------------------------------------------------
    def _model_summary(self, briefing: Briefing, topic: str) -> None:
        """Let the model write the summary; keep only lines whose figures their sources hold."""
        from langchain_core.messages import HumanMessage, SystemMessage

        evidence = "\n".join(f"[{x.cite}] {x.text}" for x in
                             [*briefing.summary, *(_row_line(r) for r in briefing.figures)][:16])
        language = self.messages.language_names.get(briefing.language, "English")
        reply = self.chat_model.invoke([  # type: ignore[union-attr]
            SystemMessage(self.messages.llm_system.format(language=language, lines="3 to 5")),
            HumanMessage(self.messages.llm_user.format(topic=topic, evidence=evidence)),
        ])
        by_n = {c.n: c for c in briefing.citations}
        kept: list[Line] = []
        for raw in str(reply.content).splitlines():
            text = raw.strip().lstrip("-*•0123456789.) ").strip()
            if not text:
                continue
            if check_figures(text, by_n):
                n = markers(text)[0]
                kept.append(Line(text, n, by_n[n].source, briefing.language,
                                 list(by_n[n].provinces)))
            else:
                briefing.dropped.append(text)
        if kept:
            briefing.summary = kept[:5]
            briefing.backend = "model"


def check_figures(line: str, citations: dict[int, Citation]) -> bool:
    """True when ``line`` cites known sources and each figure in it is in a cited passage."""
    cited = markers(line)
    if not cited or any(n not in citations for n in cited):
        return False
    held = set().union(*(numbers.keys(citations[n].text, citations[n].language) for n in cited))
    return numbers.keys(re.sub(r"\[\d+\]", " ", line)) <= held


def _row_line(row: FigureRow) -> Line:
    return Line(row.sentence, row.cite, row.source, "")
