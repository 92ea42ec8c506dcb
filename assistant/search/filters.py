"""Search filters: language, province, source, period, and who is reading.

Two forms of one filter: a row mask over a snapshot (``mask``, what search uses: computed
from the files' scalar fields in about a millisecond at 100,000 chunks, so a filtered
search costs what an unfiltered one does), and a Chroma ``where`` (``where``: equality on
scalar keys, one boolean key per province; for raw-vector search and other readers).

``reader`` is the signed-in user: only documents their groups may read are candidates, on
every path (chat, briefings, ``ask --as``). None: no one to restrict (the command line's
operator, local mode); an administrator is not restricted either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from assistant.access import User
from assistant.errors import InputError
from assistant.index.snapshot import Snapshot
from assistant.index.store import SCHEMA, province_field
from assistant.text import dates


@dataclass(frozen=True)
class Filters:
    languages: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    reader: User | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise InputError(f"The period starts ({self.since.isoformat()}) after it ends "
                             f"({self.until.isoformat()}): swap the dates.")

    @property
    def restricted(self) -> bool:
        """Whether the reader may not see everything."""
        return self.reader is not None and not self.reader.is_admin

    def __bool__(self) -> bool:
        return bool(self.languages or self.provinces or self.sources or self.since
                    or self.until or self.restricted)

    def where(self, schema: int = SCHEMA) -> dict[str, Any] | None:
        """The filter as a Chroma ``where`` (an index of schema 1 has no province keys: its
        list is matched by ``$contains``, a scan of every chunk; ``assistant ingest`` adds
        the keys in place)."""
        clauses: list[dict[str, Any]] = []
        if self.languages:
            clauses.append({"lang": {"$in": list(self.languages)}})
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.provinces:
            options = [{province_field(p): True} if schema >= 2 else
                       {"provinces": {"$contains": p}} for p in self.provinces]
            clauses.append(options[0] if len(options) == 1 else {"$or": options})
        if self.since:
            clauses.append({"date": {"$gte": dates.to_int(self.since)}})
        if self.until:
            clauses.append({"date": {"$lte": dates.to_int(self.until)}})
        if self.restricted and self.reader is not None:
            # Chunks written before groups existed have no "restricted" key: everyone's.
            readable: list[dict[str, Any]] = [{"restricted": {"$ne": True}}]
            readable += [{"groups": {"$contains": g}} for g in sorted(self.reader.groups)]
            clauses.append(readable[0] if len(readable) == 1 else {"$or": readable})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def admits(self, meta: Mapping[str, Any]) -> bool:
        """Whether ``where`` (schema 2 and later) keeps a chunk with metadata ``meta``: for
        a search that filters unrestricted results itself (search in Chroma, where a
        ``where`` costs a scan of the rows it matches)."""
        if self.languages and meta.get("lang") not in self.languages:
            return False
        if self.sources and meta.get("source") not in self.sources:
            return False
        if self.provinces and not any(meta.get(province_field(p)) for p in self.provinces):
            return False
        day = meta.get("date")  # a file of unknown date has none: it passes no bound
        if self.since and (day is None or day < dates.to_int(self.since)):
            return False
        if self.until and (day is None or day > dates.to_int(self.until)):
            return False
        if self.restricted and self.reader is not None and meta.get("restricted") is True:
            return self.reader.may_read(meta.get("groups") or ())
        return True

    def mask(self, snapshot: Snapshot) -> np.ndarray | None:
        """Rows of ``snapshot`` the filter keeps (None: no filter)."""
        if not self:
            return None
        keep = np.ones(len(snapshot.docs), dtype=bool)
        if self.sources:
            wanted = set(self.sources)
            keep &= np.fromiter((d.source in wanted for d in snapshot.docs), bool,
                                len(snapshot.docs))
        if self.provinces:
            about = np.zeros(len(snapshot.docs), dtype=bool)
            for p in self.provinces:
                about[snapshot.province_docs.get(p, np.zeros(0, np.int32))] = True
            keep &= about
        # Like Chroma's $gte/$lte, a file of unknown date (0) passes no date bound.
        if self.since:
            keep &= snapshot.doc_dates >= dates.to_int(self.since)
        if self.until:
            keep &= (snapshot.doc_dates <= dates.to_int(self.until)) & (snapshot.doc_dates > 0)
        if self.restricted and self.reader is not None:
            keep &= snapshot.readable(self.reader)
        rows = keep[snapshot.doc_of_row]
        if self.languages:
            names, codes = snapshot.lang_codes
            rows &= np.isin(codes, [i for i, n in enumerate(names) if n in self.languages])
        return rows
