"""The scores of ``Searcher`` (``CenteredIndex.scores`` / ``relation_scores``) computed on
the few hundred candidates the Chroma path fetched, not on every chunk."""

from __future__ import annotations

import numpy as np

from assistant.config_groups import SearchSettings
from assistant.search.centering import combined_level
from assistant.search.chroma_index import Recentring
from assistant.search.language_stats import PairLevels
from assistant.text.languages import UNKNOWN


def candidate_scores(search: SearchSettings, levels: PairLevels, centred: np.ndarray,
                     langs: list[str], raw: np.ndarray, cq: np.ndarray,
                     translated: dict[str, np.ndarray], qvec: np.ndarray, qlang: str,
                     depth: int, corpus: Recentring) -> np.ndarray:
    """``CenteredIndex.scores`` / ``relation_scores`` on the candidates alone; the
    unrelated level of a language combines the shipped one with the corpus's mean raw
    cosine in it (its mean vector's cosine), as there."""
    out = centred @ cq
    lang_of = np.asarray(langs)
    for lang, vector in translated.items():
        at = lang_of == lang
        out[at] = 0.5 * (out[at] + centred[at] @ vector)
    if search.crosslingual != "relation" or qlang == UNKNOWN:
        return out
    level = np.empty(len(langs), np.float32)
    prior = search.centering_prior
    for lang in set(langs):
        at = lang_of == lang
        shipped = levels.unrelated.get((qlang, lang))
        count = corpus.counts.get(lang, 0)
        # Neither (no statistics for ``unknown``): the candidates' mean.
        mean = float(corpus.mean[lang] @ qvec) if count else float(raw[at].mean())
        level[at] = combined_level(shipped, mean, count, prior)
    out = out + search.relation_raw_weight * (raw - level)
    own = np.flatnonzero(lang_of == qlang)
    if len(own):  # the question's language in plain dense order (as relation_scores)
        n = min(depth, len(own))
        by_raw = own[np.argsort(-raw[own], kind="stable")[:n]]
        best = np.sort(out[own])[::-1][:n]
        out[own] = np.minimum(out[own], best[-1])
        out[by_raw] = best
    return out
