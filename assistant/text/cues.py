"""One way to turn a list of cue words into a pattern, for every cue table in
``assistant/data`` (question kinds, quantity cues, roles, number words, figure cues).

Forms are compared folded (case, Latin diacritics, Arabic letter variants) unless the
caller prepares them otherwise; a form ending in ``*`` is a stem (any ending). Arabic
attaches prefixes (ال, ب, و) to words, so Arabic forms may be matched inside a word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from assistant.text.anchors import fold

_ARABIC = re.compile("[\u0600-\u06ff]")


def cue_regex(forms: Iterable[str], whole_words: bool = True, *,
              arabic_stems_inside: bool = False,
              prepare: Callable[[str], str] = fold) -> re.Pattern[str]:
    """Any of ``forms``, longest first. ``whole_words``: a form must end where a word
    ends (stems excepted); otherwise, like a stem, it only has to start a word (Arabic
    forms: anywhere). ``arabic_stems_inside``: Arabic stems match inside a word too.
    ``prepare``: how forms are normalised (the text searched must be prepared alike)."""
    parts = []
    for form in sorted({prepare(f) for f in forms}, key=len, reverse=True):
        stem = form.endswith("*")
        body = re.escape(form.rstrip("*"))
        arabic = bool(_ARABIC.search(form))
        if arabic and (not whole_words or (stem and arabic_stems_inside)):
            parts.append(body)
        elif stem or not whole_words:
            parts.append(rf"(?<!\w){body}")
        else:
            parts.append(rf"(?<!\w){body}(?!\w)")
    return re.compile("|".join(parts) or r"(?!x)x")
