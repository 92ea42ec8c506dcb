"""Filters on a file's province, date or name on the ``chroma`` backend.

Such a filter passes the chunks of a few files. Filtering deeper unrestricted HNSW results
finds too few of them, and a ``where`` on each HNSW query makes Chroma scan the metadata
for every query (about 0.2 s each at 100,000 chunks, three or four queries a question). So
the rows a filter passes are listed once per revision, with one ``get`` by ``where`` kept in
the read cache (a revision fixes every row's metadata). When there are at most
``EXACT_ROWS`` of them, they are all the candidates, and they are scored exactly, as the
snapshot path scores them. When there are more, they are a large enough share for deeper
unrestricted results to hold enough (``post_filter_depth``). A filter on languages alone, or
on the reader alone, is not listed: those have their own ways (``chroma_searcher._gather``).
Nor is any filter while nothing is kept (``read_cache_mib=0``, or a writer at work): listing
and reading a filter's rows for each question cost more than the ``where`` on a ``chroma
run`` server (873 against 651 ms at 100,000 chunks, bench/results.md).
"""

from __future__ import annotations

import json
import math
from typing import Any

from assistant.index.store import ChromaStore
from assistant.search.filters import Filters
from assistant.search.read_cache import ReadCache, nbytes

# Results read per one needed when a filter is applied to results read without it.
POST_FILTER_DEPTH = 2
# And, for a language filter, from a language's raw vectors in centred order (approximate;
# 100,000 chunks, recall@10, fr/vi/en+fr: 1: .59/.74/.76; 2: .72/.85/.85; ``where``: .65/.68/.63).
LANGUAGE_FETCH = 2
# The candidates' vectors are read from the read cache after the first question: 10,000
# rows are 15 MiB of vectors, and scoring them costs a few milliseconds.
EXACT_ROWS = 10_000
# Results read per one needed at most, when a filter is applied to deeper results; and the
# margin over the share that passes (read deep enough for half as many again to pass).
MAX_POST_FILTER_DEPTH = 8
_MARGIN = 1.5


def lists_rows(filters: Filters) -> bool:
    """Whether ``filters`` restricts files by province, date or name."""
    return bool(filters.provinces or filters.sources or filters.since or filters.until)


def passing(store: ChromaStore, collection: Any, where: dict[str, Any],
            reads: ReadCache) -> tuple[list[str], float]:
    """The ids of the rows of ``collection`` that ``where`` keeps, and their share of all."""
    key = json.dumps(where, sort_keys=True, default=str)

    def fetch(_: list[str]) -> dict[str, tuple[tuple[str, ...], int]]:
        ids = store._call(collection.get, where=where, include=[])["ids"]
        return {key: (tuple(ids), int(store._call(collection.count)))}
    ids, total = reads.read("passing", [key], fetch, nbytes)[key]
    return list(ids), len(ids) / max(total, 1)


def post_filter_depth(share: float, least: int) -> int:
    """How many results to read per one needed, when ``share`` of the rows pass."""
    return max(least, min(MAX_POST_FILTER_DEPTH, math.ceil(_MARGIN / max(share, 1e-9))))
