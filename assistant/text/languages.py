"""Language detection and language-aware text normalisation, shared by every stage.

Detection is offline (lingua's bundled models) and limited to the configured languages,
which makes it reliable even on short questions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

UNKNOWN = "und"

# Arabic short vowels, shadda, sukun, superscript alef, and tatweel carry no lexical
# meaning for matching; letter variants (hamza on alef, alef maqsura, ta marbuta) are
# written inconsistently in real reports.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
# Arabic-Indic and Eastern Arabic-Indic digits ("٢٠٢٥") match ASCII ones; NFKC already
# folds full-width digits.
_DIGITS = str.maketrans({chr(base + i): str(i) for base in (0x0660, 0x06F0) for i in range(10)})
_WORD = re.compile(r"\w+(?:[.,]\w+)*", re.UNICODE)


def normalize(text: str) -> str:
    """NFKC, case folding, Arabic marks and letter forms; digits of any script become ASCII."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS)
    return text.translate(_DIGITS)


def strip_accents(text: str) -> str:
    """Latin diacritics removed ('Lạng Sơn' -> 'Lang Son'); Cyrillic й, ї and other scripts kept."""
    out: list[str] = []
    base_is_latin = False
    for ch in unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D")):
        if unicodedata.combining(ch):
            if not base_is_latin:
                out.append(ch)
            continue
        base_is_latin = ch.isascii()
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def tokenize(text: str) -> list[str]:
    """Word tokens for lexical matching, in any script.

    Numbers keep their inner separators ("2,862", "9,6") and are also emitted as their
    value (``numbers``: "2862", "9.6") so that differently written figures still meet.
    """
    from assistant.text.numbers import keys

    tokens: list[str] = []
    for match in _WORD.finditer(normalize(text)):
        token = match.group()
        tokens.append(token)
        if token[:1].isdigit() and any(ch in ".," for ch in token):
            tokens.extend(sorted(keys(token) - {token}))
    return tokens


@lru_cache(maxsize=8)
def _detector(languages: tuple[str, ...]) -> Any:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in languages]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


def detect(text: str, languages: Sequence[str]) -> str:
    """ISO 639-1 code of the language ``text`` is written in, or ``und``."""
    sample = text[:2000]
    if not any(ch.isalpha() for ch in sample):
        return UNKNOWN
    language = _detector(tuple(languages)).detect_language_of(sample)
    return UNKNOWN if language is None else str(language.iso_code_639_1.name.lower())


