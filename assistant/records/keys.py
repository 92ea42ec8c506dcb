"""API keys: one or more per user, shown once when made, stored only as a hash.

A key is ``ha-`` and 32 random bytes (URL-safe base64): with that much entropy a plain
SHA-256 is enough to store it (no salt or slow hash is needed, unlike a password), and a
request's key is found by its hash. A key names a user, never a role or groups: those are
looked up in the users file on every request, so a removed user's keys open nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from assistant.errors import InputError
from assistant.records.db import Database, api_keys, utcnow

PREFIX = "ha-"


@dataclass(frozen=True)
class ApiKey:
    """A key's record (never the key itself)."""

    id: str
    user: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeys:
    """The key store in the records database; raises ``SQLAlchemyError`` when it fails.
    Shared by the web app's threads: it holds no per-request state."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.database = database
        self.clock = clock

    def add(self, user: str) -> tuple[ApiKey, str]:
        """A new key for ``user``: its record and the key, which is not kept anywhere."""
        if not user or any(c.isspace() for c in user):
            raise InputError("A user name must be non-empty and contain no spaces.")
        key = PREFIX + secrets.token_urlsafe(32)
        record = ApiKey(f"key_{secrets.token_hex(6)}", user, self.clock())
        with self.database.engine.begin() as conn:
            conn.execute(sa.insert(api_keys).values(
                id=record.id, user=user, key_hash=key_hash(key), created_at=record.created_at))
        return record, key

    def list(self, user: str | None = None) -> list[ApiKey]:
        t = api_keys
        stmt = sa.select(t.c.id, t.c.user, t.c.created_at, t.c.revoked_at).order_by(
            t.c.created_at, t.c.id)
        if user:
            stmt = stmt.where(t.c.user == user)
        with self.database.engine.connect() as conn:
            return [ApiKey(r.id, r.user, r.created_at, r.revoked_at) for r in conn.execute(stmt)]

    def revoke(self, key_id: str) -> ApiKey | None:
        """Revoke a key by its id; None if there is no such key (revoking twice is fine)."""
        t = api_keys
        with self.database.engine.begin() as conn:
            conn.execute(sa.update(t).where(t.c.id == key_id, t.c.revoked_at.is_(None))
                         .values(revoked_at=self.clock()))
            row = conn.execute(sa.select(t.c.id, t.c.user, t.c.created_at, t.c.revoked_at)
                               .where(t.c.id == key_id)).first()
        return ApiKey(row.id, row.user, row.created_at, row.revoked_at) if row else None

    def verify(self, key: str | None) -> ApiKey | None:
        """The active key ``key`` is, or None (no key, an unknown or a revoked one)."""
        if not key or not key.startswith(PREFIX) or len(key) > 200:
            return None
        t = api_keys
        stmt = sa.select(t.c.id, t.c.user, t.c.created_at, t.c.revoked_at).where(
            t.c.key_hash == key_hash(key), t.c.revoked_at.is_(None))
        with self.database.engine.connect() as conn:
            row = conn.execute(stmt).first()
        return ApiKey(row.id, row.user, row.created_at) if row else None
