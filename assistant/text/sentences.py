"""Sentence splitting in any of the configured languages, shared by every stage."""

from __future__ import annotations

from assistant.text.languages import UNKNOWN

# Fragments this short are abbreviations the segmenter split off ("M.", "TS.", "Dr.").
_MIN_SENTENCE_CHARS = 5


def split_sentences(text: str, language: str) -> list[str]:
    """Sentences of one paragraph (sentencex: Wikimedia's rules for ~300 languages)."""
    from sentencex import segment

    lang = language if language != UNKNOWN else "en"
    out: list[str] = []
    carry = ""
    for piece in segment(lang, text):
        piece = (carry + piece).strip() if carry else piece.strip()
        carry = ""
        if not piece:
            continue
        if len(piece) < _MIN_SENTENCE_CHARS:
            carry = piece + " "
            continue
        out.append(piece)
    if carry.strip():
        if out:
            out[-1] = f"{out[-1]} {carry.strip()}"
        else:
            out.append(carry.strip())
    return out
