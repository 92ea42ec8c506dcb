"""What one process has read of one revision of the index (``search.backend=chroma``),
kept for the next question.

Chroma charges per result (bench/results.md, "Where a question's time goes"), and
questions about the same reports fetch the same candidates' vectors, passages and file
records again. Within one revision those cannot change: a chunk's id is a hash of its file
and text, its centred vector is fixed by the mirror's means, and its metadata and its file's
record move only with a write, which moves the revision. So ``ChromaSearcher`` keeps one
``ReadCache`` per revision and drops it whole when the revision moves. A writer at work
commits files without moving the revision (``ChromaStore.begin_write``), so while one is,
nothing is kept (``ReadCache.NONE``). Bounded by size (least recently used first out);
shared by threads.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from typing import Any, TypeVar

from cachetools import LRUCache

T = TypeVar("T")
_MIB = 1 << 20


def nbytes(*parts: Any) -> int:
    """An estimate of what ``parts`` hold in memory: arrays by their buffers, strings and
    numbers as ``sys.getsizeof`` has them, mappings and sequences by their items."""
    total = 0
    for part in parts:
        if hasattr(part, "nbytes"):
            total += int(part.nbytes) + 112
        elif isinstance(part, Mapping):
            total += sys.getsizeof(part) + nbytes(*part.keys(), *part.values())
        elif isinstance(part, list | tuple | set | frozenset):
            total += sys.getsizeof(part) + nbytes(*part)
        else:
            total += sys.getsizeof(part)
    return total


class ReadCache:
    """Rows read from the index, by kind and id, up to ``mib`` MiB (0: none kept)."""

    def __init__(self, mib: float) -> None:
        self._rows: LRUCache[tuple[str, str], tuple[Any, int]] = LRUCache(
            maxsize=max(int(mib * _MIB), 1), getsizeof=lambda row: row[1])
        self._keep = mib > 0
        self._lock = threading.Lock()  # cachetools' caches are not thread-safe

    def read(self, kind: str, ids: Iterable[str],
             fetch: Callable[[list[str]], Mapping[str, T]],
             size: Callable[[T], int]) -> dict[str, T]:
        """The rows of ``ids`` that exist: those kept, and the others from ``fetch`` (asked
        once each; an id it does not return is not kept, so it is asked for again)."""
        wanted: Sequence[str] = list(dict.fromkeys(ids))
        found: dict[str, T] = {}
        if self._keep:
            with self._lock:
                for cid in wanted:
                    row = self._rows.get((kind, cid))
                    if row is not None:
                        found[cid] = row[0]
        missing = [cid for cid in wanted if cid not in found]
        if missing:
            fresh = fetch(missing)
            found.update(fresh)
            if self._keep:
                with self._lock:
                    for cid, value in fresh.items():
                        # (ValueError: one row larger than the whole budget)
                        with suppress(ValueError):
                            self._rows[(kind, cid)] = (value, size(value))
        return found

    @property
    def keeps(self) -> bool:
        return self._keep

    def __len__(self) -> int:
        return len(self._rows)

    NONE: ReadCache  # keeps nothing: a writer at work, or read_cache_mib=0


ReadCache.NONE = ReadCache(0)
