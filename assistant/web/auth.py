"""Sign-in: users and roles from a YAML file, passwords stored only as bcrypt hashes.

The file (``Settings.users_file``) looks like::

    users:
      alice: {role: admin, password_hash: "$2b$12$..."}
      bob:   {role: staff, password_hash: "$2b$12$..."}

``assistant users add NAME --role staff`` writes entries. With no file configured the app
runs unauthenticated for one local user, who is an administrator; with a file, nobody gets
in without signing in, and only administrators may change the documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ValidationError

from assistant.errors import AssistantError, InputError

Role = Literal["staff", "admin"]
ROLES: tuple[Role, ...] = ("staff", "admin")
LOCAL_USER = "local"


class _Entry(BaseModel):
    role: Role = "staff"
    password_hash: str


class _File(BaseModel):
    users: dict[str, _Entry] = {}


def hash_password(password: str) -> str:
    import bcrypt

    if not password:
        raise InputError("The password must not be empty.")
    # bcrypt only reads the first 72 bytes; longer passwords are refused, not truncated.
    if len(password.encode("utf-8")) > 72:
        raise InputError("The password must be at most 72 bytes long.")
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


@dataclass
class Users:
    """Who may sign in, and with which role."""

    entries: dict[str, _Entry]

    @classmethod
    def load(cls, path: Path | None) -> Users:
        if path is None:
            return cls({})
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return cls(_File.model_validate(raw).users)
        except FileNotFoundError:
            raise AssistantError(f"Users file not found: {path}") from None
        except (yaml.YAMLError, ValidationError) as exc:
            raise AssistantError(f"Users file {path} is invalid: {exc}") from None

    @property
    def enabled(self) -> bool:
        return bool(self.entries)

    def check(self, username: str, password: str) -> bool:
        """Gradio's ``auth`` callable."""
        import bcrypt

        entry = self.entries.get(username)
        if entry is None or not password:
            return False
        try:
            return bcrypt.checkpw(password.encode("utf-8"), entry.password_hash.encode("ascii"))
        except ValueError:  # a malformed hash in the file: that user cannot sign in
            return False

    def role(self, username: str | None) -> Role | None:
        if not self.enabled:
            return "admin"  # local single-user mode: no sign-in configured
        entry = self.entries.get(username or "")
        return entry.role if entry else None

    def is_admin(self, username: str | None) -> bool:
        return self.role(username) == "admin"


def add_user(path: Path, username: str, password: str, role: Role) -> None:
    """Create or replace one user in the YAML file (other entries kept)."""
    if not username or any(c.isspace() for c in username):
        raise InputError("A user name must be non-empty and contain no spaces.")
    if role not in ROLES:
        raise InputError(f"Unknown role '{role}' (choose {' or '.join(ROLES)}).")
    users = Users.load(path).entries if path.exists() else {}
    users[username] = _Entry(role=role, password_hash=hash_password(password))
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"users": {name: e.model_dump() for name, e in sorted(users.items())}}
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
