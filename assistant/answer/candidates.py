"""The sentences an extractive answer may quote, scored for the question."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from assistant.answer.answerability import SCENE_TERMS
from assistant.answer.injection import is_instruction
from assistant.answer.vectors import VectorCache
from assistant.config import Settings
from assistant.search.query import Query
from assistant.search.searcher import Hit
from assistant.text import numbers
from assistant.text.anchors import find_terms
from assistant.text.figures import Figure, extract_figures
from assistant.text.languages import normalize, tokenize
from assistant.text.sentences import split_sentences

# Sentences longer than this are also offered clause by clause (";" and Arabic "؛"):
# reports pack many figures into one sentence, and a clause is the precise answer.
_LONG_SENTENCE = 160
_CLAUSE = re.compile(r"(?<=[;؛])\s+")


@dataclass
class Candidate:
    """A sentence of a retrieved passage, scored for one question."""

    sentence: str
    hit: Hit
    similarity: float
    score: float
    figure: Figure | None = None  # the figure bound to what a figure question asks
    bound: float = 1.0  # how well it is bound (support.binds)

    @cached_property
    def figures(self) -> list[Figure]:
        """The sentence's figures, each with the phrase it counts: analysed once."""
        return extract_figures(self.sentence, keep_small=True)


def score_sentences(query: Query, hits: list[Hit], wants_figure: bool, vectors: VectorCache,
                    settings: Settings) -> list[Candidate]:
    """Every sentence of the retrieved passages (long ones also clause by clause), scored
    for the question: similarity, shared words and indicators, best first. Planted
    instructions are never offered."""
    question, language = query.text, query.language
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
                if is_instruction(option, settings.prompts_dir):
                    continue
                if key not in seen and len(option) > 15:
                    seen.add(key)
                    pairs.append((option, hit))
    if not pairs:
        return []
    similarities = vectors.passages([s for s, _ in pairs]) @ query.vector
    q_tokens = set(tokenize(question))
    q_numbers = numbers.keys(question, language)
    q_terms = set(query.terms) - SCENE_TERMS
    q_scene = set(query.terms) & SCENE_TERMS
    out = []
    for (sentence, hit), sim in zip(pairs, similarities, strict=True):
        s_tokens = set(tokenize(sentence))
        overlap = len(q_tokens & s_tokens) / max(1, len(q_tokens))
        figures = numbers.keys(sentence, hit.language) - q_numbers
        s_terms = find_terms(sentence) if q_terms or q_scene else set()
        # Same indicators named, in whatever language: the strongest cross-lingual cue.
        terms = len(q_terms & s_terms) / len(q_terms | s_terms) if q_terms else 0.0
        # e5 scores pairs of one language higher than equally relevant pairs of two:
        # a fixed offset puts sentences in other languages back on an even footing.
        offset = (settings.answer.cross_lingual_offset if hit.language != language
                  else 0.0)
        # A sentence about another event than the one asked about (the conference of
        # 10 July, not the working session of 4 November) is pushed down; one that
        # names none may still hold what was said there.
        s_scene = s_terms & SCENE_TERMS
        other_event = 0.05 if q_scene and s_scene and not q_scene & s_scene else 0.0
        score = (float(sim) + offset + 0.05 * overlap + 0.08 * terms - other_event
                 + (0.02 if wants_figure and figures else 0.0))
        out.append(Candidate(sentence, hit, float(sim), score))
    return sorted(out, key=lambda c: -c.score)
