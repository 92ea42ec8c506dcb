"""Recompute the shipped per-language statistics of the configured embedder profile.

    python -m assistant.search.language_stats_build     # data/language_means.npz and
                                                        # data/language_pairs.npz
    python -m assistant.search.language_stats_build --pairs-only
    ASSISTANT_EMBEDDER=embeddinggemma ... python -m assistant.search.language_stats_build
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.search.language_stats import SENTENCES, means_file, pairs_file

if TYPE_CHECKING:
    from assistant.index.embedding import LocalEmbeddings


def compute_shipped_means(embedder: LocalEmbeddings, sentences: Mapping[str, list[str]],
                          path: Path | None = None) -> Path:
    """Embed the parallel sentences as passages and as queries; save each language's means."""
    path = path or means_file(embedder.model_id)
    langs = sorted(sentences)
    passage = np.stack([embedder.embed_passages(sentences[lang]).mean(axis=0)
                        for lang in langs])
    query = np.stack([np.stack([embedder.embed_query_vector(s) for s in sentences[lang]])
                      .mean(axis=0) for lang in langs])
    np.savez(path, model_id=np.array(embedder.model_id), languages=np.array(langs),
             passage=passage.astype(np.float32), query=query.astype(np.float32),
             count=np.array([len(sentences[lang]) for lang in langs]))
    return path


def compute_pair_levels(embedder: LocalEmbeddings, sentences: Mapping[str, list[str]],
                        path: Path | None = None) -> Path:
    """Raw cosines of the parallel sentences, each language's as questions against each
    language's as passages: the mean over different sentences (unrelated) and over the same
    sentence (related), per pair of languages (``PairLevels``)."""
    path = path or pairs_file(embedder.model_id)
    langs = sorted(sentences)
    passages = [embedder.embed_passages(sentences[lang]) for lang in langs]
    queries = [np.stack([embedder.embed_query_vector(s) for s in sentences[lang]])
               for lang in langs]
    unrelated = np.zeros((len(langs), len(langs)), np.float32)
    related = np.zeros_like(unrelated)
    for i, q in enumerate(queries):
        for j, p in enumerate(passages):
            sims = q @ p.T
            same = np.eye(len(sims), dtype=bool)
            unrelated[i, j], related[i, j] = sims[~same].mean(), sims[same].mean()
    np.savez(path, model_id=np.array(embedder.model_id), languages=np.array(langs),
             unrelated=unrelated, related=related)
    return path


def main() -> None:
    import yaml

    from assistant.config import Settings
    from assistant.index.embedding import make_embedder

    sentences = yaml.safe_load(SENTENCES.read_text(encoding="utf-8"))
    embedder = make_embedder(Settings())
    # ASSISTANT_EMBEDDER picks the profile, and so the files written.
    if "--pairs-only" not in sys.argv:
        path = compute_shipped_means(embedder, sentences)
        print(f"Wrote {path} ({embedder.model_id}, {len(sentences)} languages)")
    path = compute_pair_levels(embedder, sentences)
    print(f"Wrote {path} ({embedder.model_id}, {len(sentences)} languages)")


if __name__ == "__main__":
    main()
