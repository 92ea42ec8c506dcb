"""Follow-up questions: "and in Tra Vinh?" after a question about Lang Son becomes a
standalone question, but only when the question refers back to the conversation.

The rewrite is deterministic (swap the province, or lean on the previous question); when a
language model is configured it may do the rewrite instead, with this as the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.text.anchors import _provinces, find_provinces, find_terms, fold

History = Sequence[tuple[str, str]]  # (question, answer) turns, oldest first
_SHORT = 4  # words: a question this short that names no topic of its own leans on the last


def refers_back(question: str, cues: dict[str, list[str]]) -> bool:
    """Whether ``question`` only makes sense with the conversation before it."""
    folded = fold(question).strip(" ?!.¿؟")
    for cue in (fold(c) for phrases in cues.values() for c in phrases):
        if folded == cue or folded.startswith(cue + " "):
            return True
    words = folded.split()
    return len(words) <= _SHORT and not find_terms(question)


def _swap_province(previous: str, question: str) -> str | None:
    """``previous`` with its province replaced by the one ``question`` names, if both name one."""
    new, old = find_provinces(question), find_provinces(previous)
    if len(new) != 1 or not old or new == old:
        return None
    folded = fold(previous)
    # Folding keeps positions for Latin and Cyrillic text; where it does not, edit the folded.
    base = previous if len(folded) == len(previous) else folded
    for name, pattern in _provinces():
        if name in old:
            base = "".join(_replace_spans(base, folded, pattern, new[0]))
    return base


def _replace_spans(text: str, folded: str, pattern: re.Pattern[str], name: str) -> list[str]:
    out, last = [], 0
    for match in pattern.finditer(folded):
        out += [text[last:match.start()], name]
        last = match.end()
    return [*out, text[last:]]


def deterministic(question: str, history: History, cues: dict[str, list[str]]) -> str:
    """The standalone form of ``question``, built turn by turn from the conversation."""
    standalone: str | None = None
    for asked in [q for q, _ in history] + [question]:
        if standalone is None or not refers_back(asked, cues):
            standalone = asked
            continue
        swapped = _swap_province(standalone, asked)
        standalone = swapped if swapped is not None else f"{standalone} {asked}"
    return standalone or question


def standalone_question(question: str, history: History | None, cues: dict[str, list[str]],
                        rewrite: Callable[[str, History], str] | None = None) -> str:
    """``question`` itself unless it refers back; then a rewrite (the model's if given and
    its reply is usable, else the deterministic one)."""
    if not history or not refers_back(question, cues):
        return question
    if rewrite is not None:
        # A model failure propagates (the caller falls back as a whole); an unusable reply
        # (empty, rambling) leaves the deterministic rewrite.
        lines = rewrite(question, history).strip().splitlines() or [""]
        text = lines[0].strip().strip("\"“”'«»").strip()
        if 3 <= len(text) <= 4 * max(len(question), len(history[-1][0])):
            return text
    return deterministic(question, history, cues)
