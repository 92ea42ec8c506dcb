"""search stage."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.index.embedding import LocalEmbeddings
    from assistant.index.store import ChromaStore
    from assistant.search.searcher import Searcher


def make_searcher(settings: Settings, store: ChromaStore, embedder: LocalEmbeddings,
                  fusion: str | None = None) -> Searcher:
    """The searcher ``settings.search.backend`` names (imported only when chosen)."""
    if settings.search.backend == "chroma":
        from assistant.search.chroma_searcher import ChromaSearcher

        return ChromaSearcher(settings, store, embedder, fusion)
    from assistant.search.searcher import Searcher

    return Searcher(settings, store, embedder, fusion)
