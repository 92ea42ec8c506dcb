"""Checking a generated answer's citations against the passages the model was shown.

Every ``[n]`` must point at a shown passage: markers out of range are removed and reported.
Sources are renumbered 1..k in order of first use (one number per document, as the
extractive answer does). A sentence without a marker is attached to the passage that
clearly supports it, or flagged; a figure that appears in no passage is flagged. The same
renumbering runs on streamed text as it arrives (``StreamRenumberer``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.answer.citations import Citation, CitationBuilder
from assistant.index.embedding import LocalEmbeddings
from assistant.search.searcher import Hit
from assistant.text import numbers
from assistant.text.sentences import split_sentences

# "[1]", "[1, 3]", "[2; 4]"; the whitespace before a marker goes with it when it is dropped.
GROUP = re.compile(r"(\s*)\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_OPEN_TAIL = re.compile(r"\s*\[[\d,;\s]*$")
_MIN_CLAIM_CHARS = 12


@dataclass
class CheckedAnswer:
    text: str
    citations: list[Citation]
    dropped: list[int] = field(default_factory=list)  # out-of-range markers, as written
    attached: list[dict[str, Any]] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    unverified_figures: list[str] = field(default_factory=list)


def _numbers(group: str) -> list[int]:
    return [int(x) for x in re.split(r"\s*[,;]\s*", group.strip())]


class StreamRenumberer:
    """Renumbers markers in streamed text as it arrives; a marker split across deltas is
    held back until it closes. Numbers follow the first use of each source document."""

    def __init__(self, shown: list[Hit]) -> None:
        self.shown = shown
        self._numbers: dict[str, int] = {}
        self._pending = ""
        self.dropped: list[int] = []

    def feed(self, delta: str) -> str:
        text = self._pending + delta
        tail = _OPEN_TAIL.search(text)
        self._pending = text[tail.start():] if tail else ""
        return GROUP.sub(self._replace, text[: tail.start()] if tail else text)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return GROUP.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        out = []
        for n in _numbers(match.group(2)):
            if not 1 <= n <= len(self.shown):
                self.dropped.append(n)
                continue
            source = self.shown[n - 1].source
            new = self._numbers.setdefault(source, len(self._numbers) + 1)
            if f"[{new}]" not in out:
                out.append(f"[{new}]")
        return match.group(1) + "".join(out) if out else ""


class CitationChecker:
    def __init__(self, shown: list[Hit], embedder: LocalEmbeddings | None = None,
                 no_answer: str = "", *, support_min: float, support_margin: float) -> None:
        # The similarity a passage needs to be said to support an uncited sentence, and its
        # lead over the runner-up: tuned per embedder (Settings.answer.citation_min/_margin).
        self.support_min = support_min
        self.support_margin = support_margin
        self.shown = shown
        self.embedder = embedder
        self.no_answer = no_answer.strip().rstrip(".")
        self._figures = [numbers.keys(h.text, h.language) for h in shown]
        self._all_figures: set[str] = set().union(*self._figures)
        self._vectors: np.ndarray | None = None

    def check(self, raw: str, language: str) -> CheckedAnswer:
        result = CheckedAnswer("", [])
        sentences = self._sentences(raw, language)
        # Pass 1: each sentence's valid markers (shown numbers), out-of-range ones dropped.
        cited: list[tuple[str, list[int]]] = []
        attached_to: list[int | None] = []
        for sentence in sentences:
            valid: list[int] = []
            for match in GROUP.finditer(sentence):
                for n in _numbers(match.group(2)):
                    if 1 <= n <= len(self.shown):
                        valid.append(n)
                    else:
                        result.dropped.append(n)
            bare = GROUP.sub("", sentence).strip()
            support = None
            if not valid and self._is_claim(bare):
                support = self._support(bare, language)
                if support is None:
                    result.unsupported.append(bare)
                else:
                    valid.append(support)
                    result.attached.append({"sentence": bare, "passage": support})
            figures = sorted(numbers.keys(bare, language) - self._all_figures)
            result.unverified_figures.extend(f for f in figures if f not in
                                             result.unverified_figures)
            cited.append((sentence, list(dict.fromkeys(valid))))
            attached_to.append(support)
        # Pass 2: numbers by first use, one per document, rewritten where the model put them.
        builder = CitationBuilder()
        parts: list[str] = []
        for (sentence, shown_numbers), attached in zip(cited, attached_to, strict=True):
            bare = GROUP.sub("", sentence).strip()
            mapping = {n: builder.cite(self.shown[n - 1].source, bare, self.shown[n - 1].text,
                                       self.shown[n - 1].metadata) for n in shown_numbers}

            def rewrite(match: re.Match[str], mapping: dict[int, int] = mapping) -> str:
                new = dict.fromkeys(mapping[n] for n in _numbers(match.group(2)) if n in mapping)
                return match.group(1) + "".join(f"[{n}]" for n in new) if new else ""

            text = GROUP.sub(rewrite, sentence).strip()
            if attached is not None:
                text += f" [{mapping[attached]}]"
            parts.append(text)
        result.text = " ".join(p for p in parts if p)
        result.citations = builder.citations
        for record in result.attached:
            source = self.shown[record["passage"] - 1].source
            record["n"] = next(c.n for c in result.citations if c.source == source)
        return result

    def _sentences(self, raw: str, language: str) -> list[str]:
        out: list[str] = []
        for line in raw.splitlines():
            for sentence in split_sentences(line, language) if line.strip() else []:
                # A marker the splitter put at the start of the next sentence belongs before.
                lead = re.match(r"^(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+", sentence)
                if lead and out:
                    out[-1] += " " + lead.group().strip()
                    sentence = sentence[lead.end():]
                if sentence.strip():
                    out.append(sentence.strip())
        return out

    def _is_claim(self, sentence: str) -> bool:
        if len(sentence) < _MIN_CLAIM_CHARS or sentence.endswith(":"):
            return False
        return not (self.no_answer and self.no_answer in sentence)

    def _support(self, sentence: str, language: str) -> int | None:
        """The shown passage (1-based) that clearly supports ``sentence``, if one does."""
        figures = numbers.keys(sentence, language)
        if figures:
            holders = [i for i, f in enumerate(self._figures) if figures <= f]
            if len({self.shown[i].source for i in holders}) == 1:
                return holders[0] + 1
        if self.embedder is None or not self.shown:
            return None
        if self._vectors is None:
            self._vectors = self.embedder.embed_passages([h.text for h in self.shown])
        sims = self._vectors @ self.embedder.embed_passages([sentence])[0]
        order = np.argsort(-sims)
        best = float(sims[order[0]])
        runner_up = float(sims[order[1]]) if len(order) > 1 else 0.0
        if best >= self.support_min and best - runner_up >= self.support_margin:
            return int(order[0]) + 1
        return None
