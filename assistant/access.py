"""Who is asking: the principal every path that returns document text is filtered by.

A ``User`` is resolved per request (web sign-in, ``assistant ask --as``) and travels down as
part of the search ``Filters``; nothing shared between requests holds one. A document
carries the groups that may read it (none: everyone); administrators read everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from assistant.errors import InputError

Role = Literal["staff", "admin"]
ROLES: tuple[Role, ...] = ("staff", "admin")
EVERYONE = "everyone"  # the group of a document anyone signed in may read
_NAME = re.compile(r"^[\w.@-]{1,64}$")


def clean_groups(groups: Iterable[str] | str | None) -> tuple[str, ...]:
    """Group names, case-folded, sorted, without repeats: one spelling per group.

    Accepts a list or one comma-separated string (a form field, ``--group a,b``);
    a name with spaces or punctuation is refused, since it becomes a metadata key.
    """
    if groups is None:
        return ()
    items = groups.split(",") if isinstance(groups, str) else list(groups)
    out: set[str] = set()
    for item in items:
        name = str(item).strip().casefold()
        if not name:
            continue
        if not _NAME.match(name):
            raise InputError(f"'{item}' is not a usable group name (letters, digits, "
                             "'.', '_', '-', '@'; no spaces).")
        out.add(name)
    return tuple(sorted(out))


@dataclass(frozen=True)
class User:
    """A signed-in (or anonymous) person: name, role, and the groups they belong to."""

    name: str
    role: Role = "staff"
    groups: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_read(self, document_groups: Iterable[str]) -> bool:
        """Admins read all; a document with no groups (or ``everyone``) is for everyone."""
        wanted = set(document_groups)
        return self.is_admin or not wanted or EVERYONE in wanted or bool(wanted & self.groups)
