"""The audit log: who signed in, asked, uploaded, deleted, briefed or exported, and when.

Append-only rows in the records database (``db.audit_events``). ``Settings.records.audit``:
``full`` keeps question text, ``metadata`` keeps everything but the text, ``off`` keeps
nothing. Rows older than ``Settings.records.audit_retention_days`` are purged when the log opens.

A write that fails never stops the work it records: it is logged, counted (``failures``,
shown to administrators in the Audit tab) and, once the database works again, itself
recorded as an ``audit_failed`` event with the count of lost rows.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any

import sqlalchemy as sa

from assistant.config import Settings
from assistant.records.db import Database, audit_events, utcnow
from assistant.records.rows import Format, write_rows

log = logging.getLogger("assistant.audit")

COLUMNS = ("id", "at", "event", "user", "outcome", "language", "question", "documents",
           "detail")
# Events recorded; the export and the Audit tab filter on these names.
EVENTS = ("sign_in", "question", "upload", "delete", "rebuild", "briefing", "export",
          "audit_failed", "api_question", "api_search", "api_documents", "api_models",
          "api_key")


@dataclass(frozen=True)
class AuditQuery:
    """Which rows to read: a day range (inclusive), one user, some events."""

    since: date | None = None
    until: date | None = None
    user: str | None = None
    events: Sequence[str] = ()
    limit: int | None = None
    newest_first: bool = False


class AuditLog:
    """Shared by the web app's threads: holds no per-request state, only the failure count."""

    def __init__(self, settings: Settings, database: Database | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.mode = settings.records.audit
        self.retention_days = settings.records.audit_retention_days
        self.database = database or Database.from_settings(settings)
        self.clock = clock
        self.failures = 0
        self.last_error = ""
        self._unreported = 0  # failures not yet written as an audit_failed row
        self._lock = threading.Lock()
        if self.mode != "off":
            self.purge()

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def _failed(self, what: str, exc: BaseException) -> None:
        with self._lock:
            self.failures += 1
            self._unreported += 1
            self.last_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        log.error("Audit log: could not %s (%s failure(s) so far): %s", what, self.failures,
                  self.last_error)

    def purge(self) -> int:
        """Delete rows older than the retention period (0: keep everything)."""
        if not self.retention_days:
            return 0
        cutoff = self.clock() - timedelta(days=self.retention_days)
        try:
            with self.database.engine.begin() as conn:
                gone = conn.execute(sa.delete(audit_events).where(audit_events.c.at < cutoff))
        except (sa.exc.SQLAlchemyError, ImportError, OSError) as exc:
            self._failed("purge old rows", exc)
            return 0
        if gone.rowcount:
            log.info("Audit log: purged %s row(s) older than %s day(s).", gone.rowcount,
                     self.retention_days)
        return int(gone.rowcount or 0)

    def record(self, event: str, user: str | None, outcome: str = "ok", *,
               language: str | None = None, question: str | None = None,
               documents: Sequence[str] = (), **detail: Any) -> bool:
        """Append one event; False (and reported) if it could not be written. Never raises."""
        if self.mode == "off":
            return True
        row = {"at": self.clock(), "event": event, "user": user, "outcome": outcome,
               "language": language,
               "question": question if self.mode == "full" else None,
               "documents": json.dumps(list(documents), ensure_ascii=False),
               "detail": json.dumps(detail, ensure_ascii=False, default=str)}
        try:
            with self.database.engine.begin() as conn:
                lost = self._unreported
                if lost:  # the gap is itself on record, first
                    conn.execute(sa.insert(audit_events).values(
                        at=row["at"], event="audit_failed", user=None, outcome="failed",
                        documents="[]", detail=json.dumps({"lost_rows": lost,
                                                           "last_error": self.last_error})))
                conn.execute(sa.insert(audit_events).values(**row))
        except Exception as exc:
            self._failed(f"record a {event} event", exc)
            return False
        with self._lock:
            self._unreported -= lost
        return True

    def status(self) -> str:
        """One line for administrators: empty when every write succeeded."""
        if not self.failures:
            return ""
        return (f"⚠️ {self.failures} audit write(s) failed since the app started; last: "
                f"{self.last_error}")

    # Reading (the Audit tab and `assistant audit export`).
    def rows(self, query: AuditQuery = AuditQuery()) -> list[dict[str, Any]]:
        """Matching rows, oldest first unless asked otherwise; raises ``SQLAlchemyError``."""
        t = audit_events
        stmt = sa.select(*(t.c[name] for name in COLUMNS))
        if query.since:
            stmt = stmt.where(t.c.at >= datetime.combine(query.since, datetime.min.time()))
        if query.until:
            stmt = stmt.where(t.c.at < datetime.combine(query.until + timedelta(days=1),
                                                        datetime.min.time()))
        if query.user:
            stmt = stmt.where(t.c.user == query.user)
        if query.events:
            stmt = stmt.where(t.c.event.in_(list(query.events)))
        stmt = stmt.order_by(t.c.id.desc() if query.newest_first else t.c.id)
        if query.limit:
            stmt = stmt.limit(query.limit)
        with self.database.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        for row in rows:
            row["at"] = row["at"].strftime("%Y-%m-%dT%H:%M:%SZ")
            row["documents"] = json.loads(row["documents"] or "[]")
            row["detail"] = json.loads(row["detail"] or "{}")
        return rows

    def export(self, out: IO[str], fmt: Format, query: AuditQuery = AuditQuery()) -> int:
        return write_rows(out, fmt, self.rows(query), COLUMNS, lambda row: {
            **row, "documents": " ".join(row["documents"]),
            "detail": json.dumps(row["detail"], ensure_ascii=False)})


def audited_check(check: Callable[[str, str], bool], audit: AuditLog
                  ) -> Callable[[str, str], bool]:
    """Wrap a sign-in check (Gradio's ``auth`` callable) so every attempt is recorded."""

    def checked(username: str, password: str) -> bool:
        ok = bool(check(username, password))
        audit.record("sign_in", username, "ok" if ok else "failed")
        return ok

    return checked
