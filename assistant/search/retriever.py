"""LangChain face of the search stage: a ``BaseRetriever`` over a prepared ``Query``."""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.search.filters import Filters
from assistant.search.query import Query
from assistant.search.searcher import Searcher


class SearchRetriever(BaseRetriever):
    """Documents with their scores in the metadata; ``prepare`` turns text into a ``Query``
    (the service's, so a LangChain chain searches exactly as the chat does)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    searcher: Searcher
    prepare: Callable[[str], Query]
    k: int = 5
    filters: Filters = Filters()

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(page_content=h.text, id=h.id,
                     metadata={**h.metadata, "score": h.dense, "bm25": h.bm25,
                               **({"crosslingual": h.crosslingual}
                                  if h.crosslingual is not None else {})})
            for h in self.searcher.search(self.prepare(query), self.k, self.filters)
        ]
