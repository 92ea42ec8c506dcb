"""Text encodings: bytes to text through charset-normalizer, among the Unicode encodings
and the legacy code pages of the configured languages, or a refusal that says why.

Limiting the candidates to those code pages is what makes short files come out right: a
two-line cp1252 French note is otherwise as plausible in cp1250 ("infirmičres"). When two
candidates read equally well and disagree, the file is refused rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.errors import DocumentError

UNICODE = ("utf_8", "utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be")
# The legacy code pages reports in each language are saved in (Windows and ISO).
CODE_PAGES: dict[str, tuple[str, ...]] = {
    "en": ("cp1252",),
    "fr": ("cp1252", "latin_1"),
    "vi": ("cp1258",),
    "uk": ("cp1251", "koi8_u"),
    "ar": ("cp1256", "iso8859_6"),
}
# charset-normalizer's own scale (0 = clean); above this the "text" is mostly noise.
MAX_CHAOS = 0.2


def candidates(languages: Sequence[str]) -> list[str]:
    pages = [cp for lang in languages for cp in CODE_PAGES.get(lang, ())]
    return list(dict.fromkeys([*UNICODE, *pages]))


def decode(data: bytes, source: str, languages: Sequence[str]) -> str:
    """The text of ``data``; ``DocumentError`` when it is not text or is ambiguous."""
    if b"\x00" not in data:
        # Valid UTF-8 (with or without a BOM) is conclusive, and the common case: skip the
        # detector's work. UTF-16/32 always hold NUL bytes for ASCII, so they go on below.
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    tried = candidates(languages)
    results = list(from_bytes(data, cp_isolation=tried))
    if not results or results[0].chaos > MAX_CHAOS:
        raise DocumentError(source, "looks like a binary file: not readable as text in any "
                                    "encoding of the configured languages (UTF-8/16/32, "
                                    f"{', '.join(tried[len(UNICODE):])}); save it as UTF-8")
    best = results[0]
    text = str(best)
    rivals = [r for r in results[1:] if r.chaos == best.chaos
              and r.coherence == best.coherence and str(r) != text]
    if rivals:
        raise DocumentError(
            source, f"encoding is ambiguous ({best.encoding} reads '{_clip(text)}', "
                    f"{rivals[0].encoding} reads '{_clip(str(rivals[0]))}'); save it as UTF-8")
    # Control characters other than whitespace mean the "text" is really binary.
    if sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f") > len(text) * 0.01:
        raise DocumentError(source, "looks like a binary file, not text")
    return text.removeprefix("\ufeff")


def _clip(text: str, n: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
