"""Answering without a language model: the retrieved sentences that best answer the
question, quoted exactly (figures untouched) with ``[n]`` markers, or a plain statement
that the documents don't answer it."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.answer.citations import Citation, CitationBuilder
from assistant.answer.injection import is_instruction
from assistant.config import Settings
from assistant.errors import InputError
from assistant.index.embedding import LocalEmbeddings
from assistant.prompts import ExtractiveMessages, load_extractive, load_generative
from assistant.search.followup import History, standalone_question
from assistant.search.retrieval import Filters, Hit, Searcher
from assistant.text import numbers
from assistant.text.anchors import find_provinces, find_terms
from assistant.text.languages import UNKNOWN, detect, normalize, tokenize
from assistant.text.sentences import split_sentences

# A sentence within this much of the best one is part of the answer too.
_MARGIN = 0.025
# Sentences longer than this are also offered clause by clause (";" and Arabic "؛"):
# reports pack many figures into one sentence, and a clause is the precise answer.
_LONG_SENTENCE = 160
_CROSS_LINGUAL_OFFSET = 0.04
_CACHE_SIZE = 20_000
_CLAUSE = re.compile(r"(?<=[;؛])\s+")


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    retrieved: list[Hit]
    language: str = UNKNOWN
    reason: str = ""
    backend: str = "extractive"
    latency_ms: float = 0.0
    evidence: float = 0.0  # score of the best sentence (similarity plus anchor bonuses)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "language": self.language,
            "backend": self.backend,
            "reason": self.reason,
            "evidence": round(self.evidence, 4),
            "latency_ms": round(self.latency_ms, 1),
            "citations": [c.to_dict() for c in self.citations],
            "retrieved": [
                {"source": h.source, "score": round(h.dense, 4), "bm25": round(h.bm25, 3),
                 "language": h.language, "text": h.text}
                for h in self.retrieved
            ],
        }


@dataclass
class _Candidate:
    sentence: str
    hit: Hit
    similarity: float
    score: float


def validate_question(question: str, max_chars: int) -> str:
    cleaned = " ".join(unicodedata.normalize("NFC", question).split())
    if not cleaned:
        raise InputError("The question is empty: type a question about the documents.")
    if len(cleaned) > max_chars:
        raise InputError(
            f"The question is {len(cleaned):,} characters long; the limit is {max_chars:,}. "
            "Ask a shorter question (a summary of a long text is a briefing, not a question)."
        )
    return cleaned


class ExtractiveAnswerer:
    backend = "extractive"

    def __init__(self, settings: Settings, searcher: Searcher,
                 embedder: LocalEmbeddings) -> None:
        self.settings = settings
        self.searcher = searcher
        self.embedder = embedder
        self.messages: ExtractiveMessages = load_extractive(settings.prompts_dir)
        self._cache: dict[str, np.ndarray] = {}

    def answer(self, question: str, filters: Filters | None = None,
               k: int | None = None, history: History | None = None) -> Answer:
        started = time.perf_counter()
        question = validate_question(question, self.settings.max_question_chars)
        language = detect(question, self.settings.languages)
        # "and in Tra Vinh?" after a question about Lang Son: answer the standalone question.
        asked = question
        if history:
            cues = load_generative(self.settings.prompts_dir).followup_cues
            question = standalone_question(question, history, cues)
        qvec = self.embedder.embed_query_vector(question)
        hits = self.searcher.search(question, k or self.settings.answer_pool_k, filters,
                                    query_vector=qvec)
        result = self._compose(question, language, qvec, hits)
        if question != asked:
            result.question = asked
            result.extra["standalone_question"] = question
        result.latency_ms = (time.perf_counter() - started) * 1000
        return result

    def stream(self, question: str, filters: Filters | None = None, k: int | None = None,
               history: History | None = None) -> Iterator[str | Answer]:
        """The answer is quoted whole, so it streams as one delta, then the ``Answer``."""
        answer = self.answer(question, filters, k, history)
        yield answer.answer
        yield answer

    def _abstain(self, question: str, language: str, hits: list[Hit], reason: str,
                 message: str | None = None, evidence: float = 0.0) -> Answer:
        text = message or self.messages.pick(self.messages.no_answer, language)
        return Answer(question, text, True, [], hits, language, reason, evidence=evidence)

    def _compose(self, question: str, language: str, qvec: np.ndarray,
                 hits: list[Hit]) -> Answer:
        if not hits:
            return self._abstain(question, language, hits, "nothing retrieved")
        named = find_provinces(question)
        covered = {p for h in hits for p in h.metadata.get("provinces", [])}
        if named and not covered.intersection(named):
            message = self.messages.pick(self.messages.province_not_covered, language)
            return self._abstain(question, language, hits, "province not covered",
                                 message.format(provinces=", ".join(named)))
        candidates = self._score(question, language, qvec, hits)
        if not candidates:
            return self._abstain(question, language, hits, "no sentences")
        best = candidates[0]
        if best.score < self.settings.min_evidence:
            return self._abstain(question, language, hits, "weak evidence",
                                 evidence=best.score)
        chosen: list[_Candidate] = []
        for c in candidates:
            if c.score < best.score - _MARGIN or len(chosen) == self.settings.answer_sentences:
                break
            # A clause and the sentence it came from say the same thing: quote one.
            if not any(c.sentence in o.sentence or o.sentence in c.sentence for o in chosen):
                chosen.append(c)
        builder = CitationBuilder()
        parts = []
        for c in chosen:
            n = builder.cite(c.hit.source, c.sentence, c.hit.text, c.hit.metadata)
            parts.append(f"{c.sentence} [{n}]")
        return Answer(question, " ".join(parts), False, builder.citations, hits, language,
                      evidence=best.score)

    def _score(self, question: str, language: str, qvec: np.ndarray,
               hits: list[Hit]) -> list[_Candidate]:
        seen: set[str] = set()
        pairs: list[tuple[str, Hit]] = []
        for hit in hits:
            for sentence in split_sentences(hit.text, hit.language):
                options = [sentence]
                if len(sentence) > _LONG_SENTENCE:
                    options += [c for c in _CLAUSE.split(sentence) if c != sentence]
                for option in options:
                    option = option.lstrip("-*•– ").strip()  # list bullets are not content
                    key = normalize(option)
                    # Instructions planted in a document are not facts: never quote them.
                    if is_instruction(option, self.settings.prompts_dir):
                        continue
                    if key not in seen and len(option) > 15:
                        seen.add(key)
                        pairs.append((option, hit))
        if not pairs:
            return []
        similarities = self._sentence_vectors([s for s, _ in pairs]) @ qvec
        wants_figure = self._asks_quantity(question, language)
        q_tokens = set(tokenize(question))
        q_numbers = numbers.keys(question, language)
        q_terms = find_terms(question)
        out = []
        for (sentence, hit), sim in zip(pairs, similarities, strict=True):
            s_tokens = set(tokenize(sentence))
            overlap = len(q_tokens & s_tokens) / max(1, len(q_tokens))
            figures = numbers.keys(sentence, hit.language) - q_numbers
            s_terms = find_terms(sentence) if q_terms else set()
            # Same indicators named, in whatever language: the strongest cross-lingual cue.
            terms = len(q_terms & s_terms) / len(q_terms | s_terms) if q_terms else 0.0
            # e5 scores pairs of one language higher than equally relevant pairs of two:
            # a fixed offset puts sentences in other languages back on an even footing.
            offset = _CROSS_LINGUAL_OFFSET if hit.language != language else 0.0
            score = (float(sim) + offset + 0.05 * overlap + 0.08 * terms
                     + (0.02 if wants_figure and figures else 0.0))
            out.append(_Candidate(sentence, hit, float(sim), score))
        return sorted(out, key=lambda c: -c.score)

    def _sentence_vectors(self, sentences: list[str]) -> np.ndarray:
        # The same passages come back for related questions: embed each sentence once.
        todo = [s for s in dict.fromkeys(sentences) if s not in self._cache]
        if todo:
            if len(self._cache) > _CACHE_SIZE:
                self._cache.clear()
            self._cache.update(zip(todo, self.embedder.embed_passages(todo), strict=True))
        return np.stack([self._cache[s] for s in sentences])

    def _asks_quantity(self, question: str, language: str) -> bool:
        folded = normalize(question)
        cues = self.messages.quantity_cues.get(language, []) + self.messages.quantity_cues["en"]
        return any(normalize(cue) in folded for cue in cues)
