"""Language centering: cross-lingual retrieval on a multilingual embedder.

multilingual-e5 puts every text near the mean vector of its language, so a question finds
passages of its own language first, whatever they say. Subtracting each language's mean
from the vectors of that language, then re-normalising (Libovický et al., 2020), removes
most of that pull (docs/crosslingual.md has the figures).

The means combine two sources, per language: means shipped with the project (computed once
from ``data/centering_sentences.yaml``, the same sentences in every language, so they
differ by language and not by topic) and the mean of the corpus's own chunks, weighted by
how many chunks it has in that language. Stored vectors stay raw: the centred copy is a
memory-mapped copy (``CenteredIndex``, beside the revision's snapshot), rebuilt whenever
the index's revision moves, so incremental ingest never leaves a vector centred with
outdated statistics.
The shipped means and pair levels: ``language_stats.py``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from assistant.search.language_stats import LanguageMeans, PairLevels
from assistant.text.languages import UNKNOWN

if TYPE_CHECKING:
    from assistant.index.snapshot import Snapshot


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def combined_level(shipped: float | None, own: float, count: float, prior: float) -> float:
    """A language pair's unrelated level: the shipped one counting as ``prior`` chunks
    against the corpus's ``count`` chunks of mean raw cosine ``own`` (as the means combine)."""
    return own if shipped is None else (prior * shipped + count * own) / (prior + count)


class Centering:
    """The transform itself: ``v -> unit(v - mean[language])``; raw when no mean is known."""

    def __init__(self, means: LanguageMeans) -> None:
        self.means = means
        self._passage_fallback = means.fallback(means.passage)
        self._query_fallback = means.fallback(means.query)

    def passage_shift(self, language: str) -> np.ndarray | None:
        """The mean subtracted from a passage in ``language`` (None: none is)."""
        return self.means.passage.get(language, self._passage_fallback)

    def passages(self, vectors: np.ndarray, languages: Sequence[str]) -> np.ndarray:
        fallback = self._passage_fallback
        if fallback is None:
            return np.asarray(vectors, dtype=np.float32)
        shift = np.stack([self.means.passage.get(lang, fallback) for lang in languages]) \
            if len(languages) else 0.0
        return _unit(np.asarray(vectors, dtype=np.float32) - shift)

    def query(self, vector: np.ndarray, language: str) -> np.ndarray:
        if self._query_fallback is None:
            return np.asarray(vector, dtype=np.float32)
        return _unit(np.asarray(vector, dtype=np.float32)
                     - self.means.query.get(language, self._query_fallback))


class CenteredIndex:
    """Centred copies of every chunk vector of one snapshot (``index.snapshot``).

    Exact search over them costs a matrix-vector product (about 10 ms per 100,000 chunks
    on two cores), and it finds cross-lingual candidates that an approximate search over
    raw vectors ranks too low to return at all. The centred matrix is saved beside a saved
    snapshot (keyed by the means it was centred with) and memory-mapped: a new process maps
    it instead of recomputing it, and processes on one machine share its pages.
    """

    def __init__(self, snapshot: Snapshot, shipped: LanguageMeans, prior: float) -> None:
        self.prior = prior
        self.key = snapshot.key  # the snapshot it was built from (collection, revision)
        self.snapshot = snapshot
        self.ids = snapshot.ids
        self.row = snapshot.row
        langs = snapshot.langs
        self.langs = langs
        names, codes = snapshot.lang_codes
        self.rows_of = {lang: np.flatnonzero(codes == i) for i, lang in enumerate(names)}
        raw = snapshot.vectors  # mapped: read only if the centred copy is not saved yet
        all_sums, all_counts = snapshot.lang_stats
        sums = {lang: v for lang, v in all_sums.items() if lang != UNKNOWN}
        counts = {lang: n for lang, n in all_counts.items() if lang != UNKNOWN}
        self.corpus_counts = counts
        self.centering = Centering(shipped.combined(sums, counts, prior))
        dim = raw.shape[1] if raw.ndim == 2 else 0
        self._shift: dict[str, np.ndarray] = {}
        for lang in set(langs):
            shift = self.centering.passage_shift(lang)
            self._shift[lang] = np.zeros(dim, np.float32) if shift is None else shift
        self.matrix, self.norms = self._centred(snapshot, raw, langs)

    def _centred(self, snapshot: Snapshot, raw: np.ndarray, langs: list[str]
                 ) -> tuple[np.ndarray, np.ndarray]:
        if not len(langs):
            return np.asarray(raw, dtype=np.float32), np.zeros(0, np.float32)
        digest = hashlib.sha256()
        for lang in sorted(self._shift):
            digest.update(lang.encode() + self._shift[lang].astype(np.float32).tobytes())
        files = None
        if snapshot.folder is not None:
            tag = digest.hexdigest()[:16]
            files = (snapshot.folder / f"centred-{tag}.npy", snapshot.folder / f"norms-{tag}.npy")
            if all(f.exists() for f in files):
                try:  # a plain array view of the map: indexing a np.memmap is slow
                    return np.asarray(np.load(files[0], mmap_mode="r")), np.load(files[1])
                except (OSError, ValueError):
                    pass
        matrix = np.empty(raw.shape, dtype=np.float32)
        norms = np.empty(len(langs), dtype=np.float32)
        for lang, rows in self.rows_of.items():  # in blocks: no second full raw copy
            for start in range(0, len(rows), 20_000):
                part = rows[start : start + 20_000]
                diff = np.asarray(raw[part], dtype=np.float32) - self._shift[lang]
                # raw = norm * centred + shift: raw similarities come back without raw vectors.
                norms[part] = np.linalg.norm(diff, axis=1)
                matrix[part] = self.centering.passages(raw[part], [lang] * len(part)) \
                    if self.centering.passage_shift(lang) is not None else raw[part]
        if files is None:
            return matrix, norms
        for path, array in zip(files, (matrix, norms), strict=True):
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with tmp.open("wb") as handle:
                np.save(handle, array)
            os.replace(tmp, path)  # atomic: a reader maps a whole file or none
        return np.asarray(np.load(files[0], mmap_mode="r")), norms

    def scores(self, query_vector: np.ndarray,
               translated: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """Centred similarity of every chunk to the (centred) question.

        ``translated``: the question's translation into some languages, centred with that
        language's query mean; chunks in such a language score the mean of their similarity
        to the question and to its translation (docs/crosslingual.md, "Question translation").
        """
        if not self.ids:
            return np.zeros(0, dtype=np.float32)
        out = np.asarray(self.matrix @ query_vector, dtype=np.float32)
        for lang, vector in (translated or {}).items():
            rows = self.rows_of.get(lang)
            if rows is not None:
                out[rows] = 0.5 * (out[rows] + self.matrix[rows] @ vector)
        return out

    def score(self, chunk_id: str, query_vector: np.ndarray,
              translated: Mapping[str, np.ndarray] | None = None) -> float:
        row = self.row.get(chunk_id)
        if row is None:
            return -1.0
        value = float(self.matrix[row] @ query_vector)
        vector = (translated or {}).get(self.langs[row])
        return value if vector is None else 0.5 * (value + float(self.matrix[row] @ vector))

    def relation_scores(self, raw_query: np.ndarray, language: str, centred_query: np.ndarray,
                        levels: PairLevels, depth: int,
                        translated: Mapping[str, np.ndarray] | None = None,
                        mask: np.ndarray | None = None, *, raw_weight: float) -> np.ndarray:
        """Scores by language relation (``crosslingual="relation"``): every chunk scores its
        centred cosine plus ``raw_weight`` x (raw cosine - the unrelated level of
        its language pair), the level being the shipped one (``PairLevels``) combined with
        the mean raw cosine of the corpus's chunks in that language (the shipped level
        counts as ``prior`` chunks against the corpus's count, as the means do). Then the
        question's own language is ranked as plain dense search ranks it: its ``depth`` best
        chunks by raw cosine take, in that order, the ``depth`` best of its scores (among
        ``mask``'s rows). So within the
        question's language the order is dense search's, and the other languages meet it on
        one common scale.
        """
        if not self.ids:
            return np.zeros(0, dtype=np.float32)
        centred = self.scores(centred_query, translated)
        dots = np.asarray(self.matrix @ raw_query, dtype=np.float32)
        names, codes = self.snapshot.lang_codes
        shift = np.array([self._shift[lang] @ raw_query for lang in names], np.float32)
        raw = self.norms * dots + shift[codes]
        counts = np.bincount(codes, minlength=len(names)).astype(np.float32)
        sums = np.bincount(codes, weights=raw, minlength=len(names)).astype(np.float32)
        level = np.empty(len(names), np.float32)
        for i, lang in enumerate(names):
            shipped = levels.unrelated.get((language, lang))
            own = sums[i] / max(counts[i], 1.0)
            level[i] = combined_level(shipped, own, float(counts[i]), self.prior)
        out = centred + raw_weight * (raw - level[codes])
        rows = self.rows_of.get(language)
        if rows is not None and mask is not None:
            rows = rows[mask[rows]]
        if rows is not None and len(rows):
            n = min(depth, len(rows))
            by_raw = rows[_top_rows(raw[rows], n)]
            best = np.sort(out[rows][_top_rows(out[rows], n)])[::-1]
            out[rows] = np.minimum(out[rows], best[-1])  # the rest stay below the top n
            out[by_raw] = best
        return out

    def languages(self) -> set[str]:
        """The languages of the indexed chunks (those a question may be translated into)."""
        return set(self.corpus_counts)

    def raw_similarity(self, chunk_id: str, raw_query: np.ndarray) -> float:
        """Cosine of the stored (raw) chunk vector and the raw query vector."""
        row = self.row[chunk_id]
        return float(self.norms[row] * (self.matrix[row] @ raw_query)
                     + self._shift[self.langs[row]] @ raw_query)

    def top(self, query_vector: np.ndarray, n: int,
            translated: Mapping[str, np.ndarray] | None = None,
            mask: np.ndarray | None = None, scores: np.ndarray | None = None
            ) -> list[tuple[str, float]]:
        """The ``n`` best chunks; ``mask``: only rows where it is True (a filter);
        ``scores``: rank by these (``relation_scores``) instead of the centred cosine."""
        if scores is None:
            scores = self.scores(query_vector, translated)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf).astype(np.float32)
            n = min(n, int(np.count_nonzero(mask)))
        n = min(n, len(scores))
        if n == 0:
            return []
        best = np.argpartition(-scores, n - 1)[:n]
        return [(self.ids[i], float(scores[i])) for i in best[np.argsort(-scores[best])]]


def _top_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` highest scores, best first."""
    best = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
    return best[np.argsort(-scores[best], kind="stable")]
