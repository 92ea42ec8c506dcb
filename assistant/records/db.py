"""The records database: one SQLAlchemy engine for the audit log and the chat history.

SQLite by default (``data_dir/assistant.sqlite``); ``Settings.records.database_url`` points the same
code at another database SQLAlchemy speaks (e.g. ``postgresql+psycopg://…``, with its driver
installed). Tables are created on first use. A database that cannot be reached is not an
error at start: each write reports its own failure (see ``AuditLog``), and the chat goes on.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from assistant.config import Settings

FILE_NAME = "assistant.sqlite"

metadata = sa.MetaData()

audit_events = sa.Table(
    "audit_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False, index=True),  # UTC
    sa.Column("event", sa.String(32), nullable=False, index=True),
    sa.Column("user", sa.String(200), index=True),
    sa.Column("outcome", sa.String(32), nullable=False, default=""),
    sa.Column("language", sa.String(16)),
    sa.Column("question", sa.Text),  # NULL unless ASSISTANT_RECORDS__AUDIT=full
    sa.Column("documents", sa.Text, nullable=False, default="[]"),  # JSON list of sources
    sa.Column("detail", sa.Text, nullable=False, default="{}"),  # JSON object
)

conversations = sa.Table(
    "conversations", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=False, index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    # The chat as shown (Gradio messages) and what was shown per answer (feedback's Turn):
    # enough to reopen it and continue with follow-ups.
    sa.Column("messages", sa.Text, nullable=False),
    sa.Column("turns", sa.Text, nullable=False),
)

# API keys (``records.keys``): only a hash of each key is kept; a revoked key stays listed.
api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # shown, never secret
    sa.Column("user", sa.String(200), nullable=False, index=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),  # sha256, hex
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime),
)

# Append-only where the database can enforce it: rows are never changed, only purged by
# retention. PostgreSQL deployments grant the app INSERT/SELECT/DELETE only (docs/deploy.md).
sa.event.listen(audit_events, "after_create", sa.DDL(
    "CREATE TRIGGER IF NOT EXISTS audit_events_append_only BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
).execute_if(dialect="sqlite"))


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC: portable


def database_url(settings: Settings) -> str:
    if settings.records.database_url:
        return settings.records.database_url
    return f"sqlite:///{settings.data_dir / FILE_NAME}"


class Database:
    """The engine, created lazily; tables created on first successful use."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: sa.Engine | None = None
        self._ready = False
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        if not settings.records.database_url:
            # The default file's folder; a failure here shows on first use, not at start.
            with contextlib.suppress(OSError):
                settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(database_url(settings))

    @property
    def engine(self) -> sa.Engine:
        """Connected and with its tables; raises ``SQLAlchemyError`` (or the driver's
        ``ImportError``) when the database cannot be used."""
        with self._lock:
            if self._engine is None:
                connect_args: dict[str, Any] = {}
                if self.url.startswith("sqlite"):
                    connect_args["timeout"] = 30  # wait for another writer, do not fail
                self._engine = sa.create_engine(self.url, connect_args=connect_args,
                                                pool_pre_ping=True)
            if not self._ready:
                metadata.create_all(self._engine)
                self._ready = True
            return self._engine

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
