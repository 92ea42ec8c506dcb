"""Chunking: sentences in any of the five languages, packed into chunks that fit the
embedder's own token budget, with overlap. Chunk ids come from content, so unchanged text
is never embedded twice."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from assistant.ingest.loading import LoadedDocument
from assistant.text.languages import UNKNOWN, detect
from assistant.text.sentences import split_sentences

_COUNT_CACHE = 50_000  # distinct texts remembered per run


class TokenCounter(Protocol):
    """What chunking needs from an embedder: its own token count and its input limit."""

    max_tokens: int

    def count_tokens(self, text: str) -> int: ...

@dataclass
class Chunk:
    id: str
    source: str
    index: int
    text: str
    language: str
    sentences: list[str] = field(repr=False, default_factory=list)
    locator: str = ""  # the page or table row the citation names ("p. 2 · OCR 93%")


def chunk_id(source: str, text: str) -> str:
    return hashlib.sha256(f"{source}\x00{text}".encode()).hexdigest()[:32]


class Chunker:
    """Packs sentences into chunks of at most ``max_tokens`` embedder tokens."""

    def __init__(self, counter: TokenCounter, languages: list[str], max_tokens: int = 200,
                 overlap_tokens: int = 40) -> None:
        self.counter = counter
        self.max_tokens = min(max_tokens, counter.max_tokens)
        self.overlap_tokens = overlap_tokens
        self.languages = languages
        # Prefix and special tokens are paid once per chunk, not once per sentence.
        self._overhead = counter.count_tokens("")
        # Reports repeat themselves (captions, boilerplate, the same sentence in a
        # follow-up report): each distinct text is counted once per run.
        self._counts: dict[str, int] = {}

    def _raw(self, text: str) -> int:
        n = self._counts.get(text)
        if n is None:
            if len(self._counts) >= _COUNT_CACHE:
                self._counts.clear()
            n = self._counts[text] = self.counter.count_tokens(text)
        return n

    def _tokens(self, text: str) -> int:
        return max(1, self._raw(text) - self._overhead)

    def _word(self, word: str) -> int:
        """A word's tokens inside a sentence ("x" stands for the word before it)."""
        return max(1, self._raw("x " + word) - self._raw("x"))

    def chunks(self, doc: LoadedDocument) -> list[Chunk]:
        out: list[Chunk] = []
        seen: set[str] = set()
        for lines, locator, whole in _groups(doc):
            sentences: list[tuple[str, int]] = []
            for line in lines:
                for sentence in split_sentences(line, doc.language):
                    sentences.extend(self._fit(sentence))
            # A table row is one passage (cut only if it exceeds the budget), no overlap.
            groups = ([[s for s, _ in sentences]] if whole and sum(n for _, n in sentences)
                      <= self.max_tokens - self._overhead else self._pack(sentences))
            for group in groups:
                text = " ".join(group)
                if text in seen:  # boilerplate repeated word for word: one chunk (one id)
                    continue
                seen.add(text)
                lang = detect(text, self.languages) if len(text) > 40 else doc.language
                out.append(Chunk(chunk_id(doc.source, text), doc.source, len(out), text,
                                 lang if lang != UNKNOWN else doc.language, group, locator))
        return out

    def _fit(self, sentence: str) -> Iterator[tuple[str, int]]:
        """A sentence longer than the budget is cut at word boundaries.

        Words are counted one by one, each after another word as it would stand in a
        sentence (a subword tokenizer's count is additive over space-separated words), so a
        long sentence costs one count per distinct word and one per piece, not one per
        prefix; each piece is then counted exactly and trimmed if the estimate was short."""
        budget = self.max_tokens - self._overhead
        n = self._tokens(sentence)
        if n <= budget:
            yield sentence, n
            return
        words = sentence.split()
        start = 0
        while start < len(words):
            end, size = start, 0
            while end < len(words) and (end == start or size + self._word(words[end])
                                        <= budget):
                size += self._word(words[end])
                end += 1
            piece = " ".join(words[start:end])
            exact = self._tokens(piece)
            while exact > budget and end - start > 1:
                end -= 1
                piece = " ".join(words[start:end])
                exact = self._tokens(piece)
            yield piece, exact
            start = end

    def _pack(self, sentences: list[tuple[str, int]]) -> Iterator[list[str]]:
        budget = self.max_tokens - self._overhead
        current: list[tuple[str, int]] = []
        size = 0
        fresh = 0  # sentences in `current` not already emitted in the previous chunk
        for sentence, n in sentences:
            if current and size + n > budget:
                yield [s for s, _ in current]
                # Overlap: carry the last sentences that fit into the overlap budget.
                carried: list[tuple[str, int]] = []
                total = 0
                for s, k in reversed(current):
                    if total + k > self.overlap_tokens or total + k + n > budget:
                        break
                    carried.insert(0, (s, k))
                    total += k
                current, size, fresh = carried, total, 0
            current.append((sentence, n))
            size += n
            fresh += 1
        if current and fresh:
            yield [s for s, _ in current]


def _groups(doc: LoadedDocument) -> Iterator[tuple[list[str], str, bool]]:
    """Content lines in runs chunked apart: each page or row a citation names, and the
    flowing text around them (all of it, for a document without sections)."""
    def content(start: int, end: int) -> list[str]:
        return [ln for ln, bp in zip(doc.lines[start:end], doc.boilerplate[start:end],
                                     strict=True) if not bp]

    at = 0
    for section in doc.sections:
        if section.start > at:
            yield content(at, section.start), "", False
        yield content(section.start, section.end), section.locator, section.whole
        at = section.end
    if at < len(doc.lines):
        yield content(at, len(doc.lines)), "", False
