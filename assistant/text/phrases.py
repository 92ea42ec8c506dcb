"""Words that carry meaning, in the five languages: what a figure counts ("65 розумних
терміналів" -> "розумних терміналів") and what a question is about ("dentists", "Ebola").

Function words come from the ``stop-words`` package (one list per language, all five
together: a sentence in one language may quote another); English, French and Arabic words
are compared by their Snowball stems, Ukrainian by a fixed-length prefix (Snowball has no
Ukrainian stemmer), Vietnamese syllables as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher
from functools import lru_cache

from assistant.text.anchors import DASHES, fold

_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*\w)?")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_ARABIC = re.compile("[\u0600-\u06ff]")
_STEMMERS = {"en": "english", "fr": "french", "ar": "arabic"}
_LANGUAGES = ("en", "fr", "uk", "vi", "ar")
# Words of questions and reports that ask or frame rather than name a thing: they are in
# every question of their kind and say nothing about what it is about.
_FRAMING = {
    "en": "many much number total amount how what which information about tell know "
          "province city provinces people person year years month months currently "
          "does do did there report reports department health sector work",
    "fr": "combien nombre total quel quelle quels quelles province ville personnes annee "
          "annees mois compte secteur sante departement rapport",
    "uk": "скільки кількість загальна провінції провінція місто місті році року рік "
          "місяців сектор охорони здоров'я департамент звіт",
    # Vietnamese writes words as syllables, and the stop-words list holds syllables of
    # content words too ("nha sĩ": dentist): only these function words count.
    "vi": "bao nhiêu mấy số lượng tổng cộng tỉnh thành phố năm tháng có là của ngành y tế sở "
          "và các những được trong ở tại cho với về này đó nào gì ai không đã sẽ đang hiện",
    "ar": "كم عدد اجمالي مقاطعه مدينه عام سنه اشهر قطاع الصحه اداره تقرير",
}


@lru_cache(maxsize=1)
def function_words() -> frozenset[str]:
    """Folded function words of all five languages, plus each language's framing words."""
    from stop_words import get_stop_words

    words: set[str] = set()
    for language in _LANGUAGES:
        if language != "vi":
            words.update(fold(w) for w in get_stop_words(language))
        words.update(fold(w) for w in _FRAMING[language].split())
    return frozenset(words)


# Words that end or pad the noun phrase a "how many" question counts, beyond the framing
# above; only that phrase reads them (support.asked_of), so the content words that decide
# other answers (support.coverage, fitted on the health sets) stay as they were.
_PHRASE_PADDING = {
    # "medical" qualifies nearly everything in a health department's reports.
    "en": "medical",
    # ... and French verbs follow the noun counted ("combien de lits compte ...").
    "fr": "medical medicale medicaux medicales comptent dispose disposent exercent "
          "travaillent existe existent possede possedent recense recenses enregistre "
          "enregistres",
    "uk": "медичних медичні медичне медичного медичний медичної",
    "vi": "trên mỗi dân người làm việc hoạt động phục vụ",
    "ar": "طبي طبيه الطبي الطبيه",
}


@lru_cache(maxsize=1)
def medical_adjectives() -> frozenset[str]:
    """"Medical" in the four languages that write it as one word: padding inside the
    phrase a question counts ("établissements médicaux privés"), not its end."""
    return frozenset(fold(w) for language in ("en", "fr", "uk", "ar")
                     for w in _PHRASE_PADDING[language].split()
                     if fold(w).startswith(("medic", "медичн", "طبي", "الطبي")))


@lru_cache(maxsize=8)
def function_words_of(language: str) -> frozenset[str]:
    """Folded words that do not name what a question in ``language`` counts: its function
    and framing words (all five languages' when it is not one of them). One language's
    only: a Vietnamese question's "sĩ" is not French "si"."""
    if language not in _FRAMING:
        return function_words()
    from stop_words import get_stop_words

    words = {fold(w) for w in f"{_FRAMING[language]} {_PHRASE_PADDING[language]}".split()}
    if language != "vi":
        words.update(fold(w) for w in get_stop_words(language))
    return frozenset(words)


@lru_cache(maxsize=4)
def _stemmer(name: str) -> object:
    import snowballstemmer

    return snowballstemmer.stemmer(name)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The form two words are compared by (folded; stemmed where a stemmer exists)."""
    folded = fold(word).strip("'’-")
    if _CYRILLIC.search(folded):
        return folded[:5]
    language = "ar" if _ARABIC.search(folded) else "en"
    stems = {_stemmer(_STEMMERS[language]).stemWord(folded)}  # type: ignore[attr-defined]
    if language == "en":  # French words are written in Latin letters too
        stems.add(_stemmer("french").stemWord(folded))  # type: ignore[attr-defined]
    return min(stems, key=len)


def content_words(text: str) -> list[str]:
    """The words of ``text`` that are not function or framing words, as written; a word
    joined from function words ("Est-ce", "J'ai", "Qu'est-ce") is one too."""
    stop = function_words()
    return [w for w in words_of(text) if fold(w) not in stop and len(w) > 1
            and not all(len(p) < 2 or p in stop for p in re.split(r"['-]", fold(w)))]


def stems(words: Iterable[str]) -> set[str]:
    return {stem(w) for w in words}


@lru_cache(maxsize=65536)
def _latin(word: str) -> str:
    from anyascii import anyascii

    return fold(anyascii(word))


def same_word(a: str, b: str) -> bool:
    """Same stem; or, across Cyrillic and Latin script, a cognate: the transliterations
    agree on the first letter and mostly after ("терміналів" ~ "terminals", "реєстрацій" ~
    "registrations"; not "медичних" ~ "medical", ratio 0.59)."""
    if stem(a) == stem(b):
        return True
    if bool(_CYRILLIC.search(a)) == bool(_CYRILLIC.search(b)) or _ARABIC.search(a + b):
        return False
    x, y = _latin(a), _latin(b)
    return (min(len(x), len(y)) >= 5 and x[0] == y[0]
            and SequenceMatcher(None, x, y).ratio() >= 0.65)


def words_of(text: str) -> list[str]:
    """Words, hyphenated ones also apart ("онлайн-реєстрацій"), possessives dropped."""
    out = []
    for word in _WORD.findall(text.translate(DASHES)):
        word = re.sub(r"['’]s$", "", word)
        out.append(word)
        if "-" in word:
            out += [w for w in word.split("-") if w]
    return out


def overlap(asked: Iterable[str], text: str) -> float:
    """Share of the ``asked`` words that ``text`` holds (same stem, or a Cyrillic-Latin
    cognate); 0 when nothing is asked."""
    wanted = list(dict.fromkeys(asked))
    if not wanted:
        return 0.0
    words = set(words_of(text))
    stems_here = {stem(t) for t in words}
    return sum(stem(w) in stems_here or any(same_word(w, t) for t in words)
               for w in wanted) / len(wanted)
