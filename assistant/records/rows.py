"""Rows written out for people and tools: JSON Lines as they are, or CSV with the nested
values flattened (the audit log and the chat feedback export both)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from typing import IO, Any, Literal

Format = Literal["csv", "jsonl"]


def write_rows(out: IO[str], fmt: Format, rows: Sequence[dict[str, Any]],
               columns: Sequence[str],
               flat: Callable[[dict[str, Any]], dict[str, Any]] = lambda row: row) -> int:
    """Write ``rows``; ``flat`` turns a row's nested values into CSV cells. The count."""
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        writer = csv.DictWriter(out, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow(flat(row))
    return len(rows)
