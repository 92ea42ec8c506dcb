"""The per-language statistics shipped for each embedder profile, and where they live.

``LanguageMeans``: each language's mean passage and query vector (language centering,
``centering.py``), computed once from ``data/centering_sentences.yaml``, the same sentences in
every language, so the means differ by language and not by topic. ``PairLevels``: per pair of
languages, the raw cosine of unrelated and of related texts. Both are regenerated offline by
``python -m assistant.search.language_stats_build``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.resources import data_path

SENTENCES = data_path("centering_sentences.yaml")
SHIPPED_MEANS = data_path("language_means.npz")
SHIPPED_PAIRS = data_path("language_pairs.npz")


def means_file(model_id: str) -> Path:
    """The shipped means for an embedder: its profile's file (data/embedders.yaml, per
    dimension; ``model_id`` ends in ``@<dim>`` when truncated), else data/language_means.npz."""
    from assistant.profiles import profiles

    base, _, dim = model_id.partition("@")
    for profile in profiles().values():
        if profile.model_id == base and profile.means:
            name = profile.means.get(int(dim) if dim else profile.dimension or 0)
            if name:
                return data_path(name)
    return SHIPPED_MEANS


def pairs_file(model_id: str) -> Path:
    """The shipped pair levels for an embedder, named after its means file."""
    means = means_file(model_id)
    return means.with_name(means.name.replace("language_means", "language_pairs"))


def _shipped(path: Path, model_id: str) -> dict[str, np.ndarray] | None:
    """A shipped statistics file's arrays, when it exists and was made by ``model_id``."""
    if not path.is_file():
        return None
    with np.load(path) as data:
        return dict(data) if str(data["model_id"]) == model_id else None


@dataclass
class LanguageMeans:
    """Per-language mean vectors of passages and of queries (e5 embeds them differently)."""

    passage: dict[str, np.ndarray] = field(default_factory=dict)
    query: dict[str, np.ndarray] = field(default_factory=dict)
    weight: dict[str, float] = field(default_factory=dict)  # texts behind each passage mean

    @classmethod
    def shipped(cls, model_id: str, path: Path | None = None) -> LanguageMeans:
        """The means shipped for ``model_id``; empty for any other embedder."""
        data = _shipped(path or means_file(model_id), model_id)  # one file per profile
        if data is None:
            return cls()
        langs = [str(lang) for lang in data["languages"]]
        return cls(passage={lang: data["passage"][i] for i, lang in enumerate(langs)},
                   query={lang: data["query"][i] for i, lang in enumerate(langs)},
                   weight={lang: float(data["count"][i]) for i, lang in enumerate(langs)})

    def combined(self, sums: Mapping[str, np.ndarray], counts: Mapping[str, int],
                 prior: float) -> LanguageMeans:
        """These means updated with a corpus's per-language vector sums and counts.

        A shipped mean counts as ``prior`` chunks: a corpus with a few chunks in a language
        barely moves it, a large one takes over. The query mean moves by the same amount as
        the passage mean (queries about this corpus share its topics).
        """
        out = LanguageMeans(dict(self.passage), dict(self.query), dict(self.weight))
        for lang, total in sums.items():
            n = counts[lang]
            if n <= 0:
                continue
            corpus_mean = total / n
            if lang in self.passage:
                w = prior
                mixed = (w * self.passage[lang] + n * corpus_mean) / (w + n)
                out.query[lang] = self.query[lang] + (mixed - self.passage[lang])
                out.passage[lang] = mixed
            else:
                out.passage[lang] = corpus_mean
                out.query[lang] = corpus_mean
            out.weight[lang] = self.weight.get(lang, 0.0) + n
        return out

    def fallback(self, means: dict[str, np.ndarray]) -> np.ndarray | None:
        # Text of no known language: the average language is the least biased guess.
        return np.mean(list(means.values()), axis=0) if means else None


@dataclass
class PairLevels:
    """Per (question language, passage language): the mean raw cosine of a question and a
    passage that say unrelated things (``unrelated``) and that say the same thing
    (``related``), measured on the shipped parallel sentences. A raw cosine means nothing
    without its pair: an unrelated English passage scores about 0.72 against an English
    question and 0.73 against a Vietnamese one, a translation 0.93 and 0.85."""

    unrelated: dict[tuple[str, str], float] = field(default_factory=dict)
    related: dict[tuple[str, str], float] = field(default_factory=dict)

    @classmethod
    def shipped(cls, model_id: str, path: Path | None = None) -> PairLevels:
        """The levels shipped for ``model_id``; empty for any other embedder."""
        data = _shipped(path or pairs_file(model_id), model_id)
        if data is None:
            return cls()
        langs = [str(lang) for lang in data["languages"]]
        cells = [(q, p, i, j) for i, q in enumerate(langs) for j, p in enumerate(langs)]
        return cls(unrelated={(q, p): float(data["unrelated"][i, j]) for q, p, i, j in cells},
                   related={(q, p): float(data["related"][i, j]) for q, p, i, j in cells})
