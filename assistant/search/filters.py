"""Search filters: language, province, source and period, as a Chroma ``where`` clause."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.text import dates


@dataclass(frozen=True)
class Filters:
    languages: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    def where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.languages:
            clauses.append({"lang": {"$in": list(self.languages)}})
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.provinces:
            options = [{"provinces": {"$contains": p}} for p in self.provinces]
            clauses.append(options[0] if len(options) == 1 else {"$or": options})
        if self.since:
            clauses.append({"date": {"$gte": dates.to_int(self.since)}})
        if self.until:
            clauses.append({"date": {"$lte": dates.to_int(self.until)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}
