"""One rule for splitting a development set into a tuning half and a held-apart half.

Split by document, never by question: every question about a document goes where the
document goes, so nothing tuned on one half has seen the other half's passages. The split
is a hash of the file name and a fixed seed: stable across runs, machines and set sizes,
and independent of file order. Settings are chosen on ``tune`` only; ``heldout`` is
reported beside it and never used to choose anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

SEED = "devsets-2026-12"
HALVES = ("tune", "heldout")


def half_of(document: str, seed: str = SEED) -> str:
    """``"tune"`` or ``"heldout"`` for a document's file name (no folder)."""
    digest = hashlib.sha256(f"{seed}:{document}".encode()).digest()
    return HALVES[digest[0] & 1]


def split_documents(documents: Iterable[str], seed: str = SEED) -> dict[str, list[str]]:
    """The documents of each half, sorted."""
    out: dict[str, list[str]] = {half: [] for half in HALVES}
    for doc in sorted(set(documents)):
        out[half_of(doc, seed)].append(doc)
    return out
