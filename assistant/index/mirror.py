"""The seam for a mirror of the chunks (``search.chroma_index``: their centred vectors and
each language's raw ones), which the store keeps in step without knowing what it holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np


class Mirror(Protocol):
    """Collections kept in step with the chunks, named ``<name>_centred`` and
    ``<name>_centred_*`` (``ChromaStore.mirror_collections``): written with the chunks,
    before the file's record commits them."""

    tag: str  # what the mirror's vectors were made with; recorded in the state when whole

    def write(self, ids: list[str], metadatas: list[dict[str, Any]],
              embeddings: np.ndarray | None) -> None: ...
    def delete(self, ids: list[str]) -> None: ...
    def backfill(self) -> None: ...  # made whole from the chunks (``end_write``)
    def forget(self) -> None: ...  # the collections were dropped: fetch new handles
