"""Chat history: each user's conversations, kept in the records database.

A conversation is stored as the chat showed it (Gradio messages) with what each answer
showed (feedback's ``Turn`` as a dict, keyed by message index), so reopening it restores
the chat exactly and follow-up questions continue from it. Every call names the owner;
nobody reads, renames or deletes another's conversation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from assistant.records.db import Database, conversations, utcnow

TITLE_CHARS = 80


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    updated_at: datetime
    messages: list[dict[str, Any]]
    turns: dict[str, Any]


def title_from(question: str) -> str:
    words = " ".join(question.split())
    return words if len(words) <= TITLE_CHARS else words[:TITLE_CHARS - 1].rstrip() + "…"


class ChatHistory:
    """Raises ``sqlalchemy.exc.SQLAlchemyError`` when the database fails; callers report it."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.database = database
        self.clock = clock

    def save(self, owner: str, conversation_id: str | None, messages: list[dict[str, Any]],
             turns: dict[str, Any], title: str = "") -> str:
        """Create (no id, or an id that is not the owner's) or update; returns the id."""
        t = conversations
        now = self.clock()
        values = {"messages": json.dumps(messages, ensure_ascii=False),
                  "turns": json.dumps(turns, ensure_ascii=False), "updated_at": now}
        with self.database.engine.begin() as conn:
            if conversation_id:
                done = conn.execute(sa.update(t).where(t.c.id == conversation_id,
                                                       t.c.owner == owner).values(**values))
                if done.rowcount:
                    return conversation_id
            new_id = uuid.uuid4().hex
            conn.execute(sa.insert(t).values(id=new_id, owner=owner,
                                             title=title_from(title) or "Conversation",
                                             created_at=now, **values))
            return new_id

    def titles(self, owner: str) -> list[tuple[str, str]]:
        """(title, id) of the owner's conversations, most recently used first."""
        t = conversations
        stmt = (sa.select(t.c.title, t.c.id, t.c.updated_at).where(t.c.owner == owner)
                .order_by(t.c.updated_at.desc()))
        with self.database.engine.connect() as conn:
            return [(f"{r.title} · {r.updated_at:%Y-%m-%d %H:%M}", r.id)
                    for r in conn.execute(stmt)]

    def get(self, owner: str, conversation_id: str) -> Conversation | None:
        t = conversations
        stmt = sa.select(t).where(t.c.id == conversation_id, t.c.owner == owner)
        with self.database.engine.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return Conversation(row.id, row.title, row.updated_at, json.loads(row.messages),
                            json.loads(row.turns))

    def rename(self, owner: str, conversation_id: str, title: str) -> bool:
        t = conversations
        title = title_from(title)
        if not title:
            return False
        with self.database.engine.begin() as conn:
            done = conn.execute(sa.update(t).where(t.c.id == conversation_id,
                                                   t.c.owner == owner).values(title=title))
        return bool(done.rowcount)

    def delete(self, owner: str, conversation_id: str) -> bool:
        t = conversations
        with self.database.engine.begin() as conn:
            done = conn.execute(sa.delete(t).where(t.c.id == conversation_id,
                                                   t.c.owner == owner))
        return bool(done.rowcount)
