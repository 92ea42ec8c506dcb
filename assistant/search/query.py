"""A question, prepared once: the immutable ``Query`` every later stage reads.

The service builds it (``QueryBuilder.prepare``): validation, Unicode NFC, the standalone
rewrite of a follow-up, the language, the provinces, indicators and days it names, its vector,
and, when a language model is configured, its translations and their vectors. Search and
the answer backends only read it; nothing below the service validates, embeds or detects.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from assistant.errors import InputError
from assistant.index.embedding import LocalEmbeddings
from assistant.search.followup import History, standalone_question
from assistant.text.anchors import find_provinces, find_terms
from assistant.text.dates import days_in
from assistant.text.languages import UNKNOWN, detect

# (question, its language, target languages) -> {language: translated question}
Translate = Callable[[str, str, list[str]], dict[str, str]]
# (follow-up question, conversation) -> a standalone question (a model's rewrite)
Rewrite = Callable[[str, History], str]


def _frozen(vector: np.ndarray) -> np.ndarray:
    out = np.array(vector, dtype=np.float32)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class Query:
    """One question, ready to search and answer (read-only, safe to share across threads)."""

    asked: str  # the question as asked, validated and NFC
    text: str  # what is searched and answered: ``asked``, or its standalone rewrite
    language: str
    vector: np.ndarray = field(repr=False, compare=False)
    provinces: tuple[str, ...] = ()
    terms: frozenset[str] = frozenset()
    days: frozenset[tuple[int, int]] = frozenset()  # (month, day) pairs it names
    translations: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    translation_vectors: Mapping[str, np.ndarray] = field(
        default_factory=lambda: MappingProxyType({}), repr=False, compare=False)
    # The language ``text`` is written in: a follow-up's rewrite may not be in the asker's
    # (answers speak ``language``; reading the question's phrases needs this one).
    text_language: str = ""

    @property
    def rewritten(self) -> bool:
        return self.text != self.asked

    @property
    def wording(self) -> str:
        """The language ``text`` is written in."""
        return self.text_language or self.language


def validate_question(question: str, max_chars: int) -> str:
    """The question as searched: NFC (as documents are), whitespace collapsed, bounded."""
    cleaned = " ".join(unicodedata.normalize("NFC", question).split())
    if not cleaned:
        raise InputError("The question is empty: type a question about the documents.")
    if not any(c.isalnum() for c in cleaned):
        # "😀😀🏥" or "?!?!" would embed to some vector and quote whatever lies nearest.
        raise InputError("The question has no words (no letters or digits): type a "
                         "question about the documents.")
    if len(cleaned) > max_chars:
        raise InputError(
            f"The question is {len(cleaned):,} characters long; the limit is {max_chars:,}. "
            "Ask a shorter question (a summary of a long text is a briefing, not a question)."
        )
    return cleaned


class QueryBuilder:
    """Prepares questions; holds only configuration and the shared embedder."""

    def __init__(self, embedder: LocalEmbeddings, languages: Sequence[str], max_chars: int,
                 followup_cues: dict[str, list[str]], rewrite: Rewrite | None = None,
                 translate: Translate | None = None, query_cache: int = 256) -> None:
        self.embedder = embedder
        self.languages = list(languages)
        self.max_chars = max_chars
        self.followup_cues = followup_cues
        self.rewrite = rewrite
        self.translate = translate
        # Staff ask the same questions ("how many beds ...") again and again: a repeated
        # text skips the embedder (20-70 ms on two cores). lru_cache is thread-safe, and a
        # vector depends on the text and the embedder only, never on the index.
        self._vector = lru_cache(maxsize=query_cache)(
            lambda text: _frozen(self.embedder.embed_query_vector(text)))

    def prepare(self, question: str, history: History | None = None,
                corpus_languages: Sequence[str] = (),
                vector: np.ndarray | None = None) -> Query:
        """``corpus_languages``: the languages the index holds (translation targets);
        ``vector``: the question's vector when it was embedded already (batched benches)."""
        asked = validate_question(question, self.max_chars)
        text = standalone_question(asked, history, self.followup_cues, self.rewrite)
        text = unicodedata.normalize("NFC", text)
        language = detect(asked, self.languages)
        translations: dict[str, str] = {}
        targets = sorted(set(corpus_languages) - {language, UNKNOWN})
        if self.translate is not None and targets:
            translations = {lang: t for lang, t in self.translate(text, language, targets)
                            .items() if lang in targets}
        vectors = {lang: self._vector(t) for lang, t in translations.items()}
        return Query(asked=asked, text=text, language=language,
                     vector=self._vector(text) if vector is None else _frozen(vector),
                     provinces=tuple(find_provinces(text)), terms=frozenset(find_terms(text)),
                     days=days_in(text),
                     translations=MappingProxyType(translations),
                     translation_vectors=MappingProxyType(vectors),
                     text_language=detect(text, self.languages) if text != asked else language)
