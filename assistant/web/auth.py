"""Sign-in: users, roles and groups from a YAML file, passwords stored only as bcrypt hashes.

The file (``Settings.users_file``) looks like::

    users:
      alice: {role: admin, password_hash: "$2b$12$..."}
      bob:   {role: staff, password_hash: "$2b$12$...", groups: [lang-son]}

``assistant users add NAME --role staff --group lang-son`` writes entries. It fails closed:
a configured file that is missing, invalid or lists nobody stops the server at start, and
the file is re-read whenever it changes, so a removed or demoted user loses access on the
next request (open sessions included) and a reset password replaces the old one at once.
A change that leaves the file unusable locks everyone out until it is fixed.

With no file, the app serves one local user, an administrator, on a loopback address only;
elsewhere it refuses to start unless anonymous access is allowed, and then everyone is
staff (``for_serving``).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import yaml
from pydantic import BaseModel, ValidationError

from assistant.access import ROLES, Role, User, clean_groups
from assistant.errors import AssistantError, InputError

__all__ = ["ROLES", "Role", "User", "Users", "add_user", "hash_password", "remove_user"]
LOCAL_USER = "local"
ANONYMOUS = "anonymous"
_log = logging.getLogger(__name__)


class _Entry(BaseModel):
    role: Role = "staff"
    password_hash: str
    groups: list[str] = []


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


def _read(path: Path) -> dict[str, _Entry]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return _File.model_validate(raw).users
    except FileNotFoundError:
        raise AssistantError(f"Users file not found: {path}") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise AssistantError(f"Users file {path} is invalid: {exc}") from None


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


def is_loopback(host: str) -> bool:
    if host.strip("[]").casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


class Accounts(Protocol):
    """Who a request's user is, whatever signs them in: the users file (``Users``) or
    single sign-on (``oidc.SsoUsers``). Asked on every request, never cached by callers."""

    @property
    def enabled(self) -> bool: ...

    def user(self, username: str | None) -> User | None: ...

    def role(self, username: str | None) -> Role | None: ...

    def is_admin(self, username: str | None) -> bool: ...


class Users:
    """Who may sign in, with which role and groups; re-read when the file changes.

    Shared by the web app's threads: the entries are replaced whole under a lock, never
    edited, and each request resolves its own ``User`` from them.
    """

    def __init__(self, entries: dict[str, _Entry] | None = None, path: Path | None = None,
                 anonymous_role: Role = "admin") -> None:
        self.path = path
        self._entries = dict(entries or {})
        self._stamp = _stamp(path) if path else None
        self._lock = threading.Lock()
        self.anonymous_role = anonymous_role

    @classmethod
    def load(cls, path: Path | None) -> Users:
        """The users in ``path`` (None: local mode, no sign-in). A file naming nobody is an
        error: starting with it would have meant no sign-in at all."""
        if path is None:
            return cls({})
        entries = _read(path)
        if not entries:
            raise AssistantError(f"Users file {path} has no users; add one with "
                                 "`assistant users add NAME --role admin`.")
        return cls(entries, path)

    @classmethod
    def for_serving(cls, path: Path | None, host: str, allow_anonymous: bool = False) -> Users:
        """The users a server on ``host`` signs in; without a file, refuse a non-loopback
        address unless ``allow_anonymous`` (then everyone is staff, never admin)."""
        if path is not None:
            return cls.load(path)
        if allow_anonymous:
            return cls({}, anonymous_role="staff")
        if not is_loopback(host):
            raise AssistantError(
                f"Refusing to serve on {host} with no sign-in: anyone who can reach it would "
                "be an administrator. Set ASSISTANT_USERS_FILE (create it with `assistant "
                "users add NAME --role admin`), or pass --allow-anonymous to let everyone in "
                "as staff.")
        return cls({})

    @property
    def enabled(self) -> bool:
        """Sign-in is required (a users file is configured)."""
        return self.path is not None or bool(self._entries)

    @property
    def entries(self) -> dict[str, _Entry]:
        """The current entries: the file is re-read if it changed since the last look."""
        if self.path is None:
            return self._entries
        stamp = _stamp(self.path)
        if stamp == self._stamp:
            return self._entries
        with self._lock:
            if stamp != self._stamp:
                try:
                    entries = _read(self.path)
                except AssistantError as exc:  # fail closed: nobody, until it is fixed
                    _log.error("%s; nobody can sign in until it is fixed.", exc)
                    entries = {}
                self._entries, self._stamp = entries, stamp
            return self._entries

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

    def user(self, username: str | None) -> User | None:
        """The principal of a request: None when signed out, removed, or unknown."""
        if not self.enabled:
            name = LOCAL_USER if self.anonymous_role == "admin" else ANONYMOUS
            return User(name, self.anonymous_role)
        entry = self.entries.get(username or "")
        if entry is None or username is None:
            return None
        try:
            groups = frozenset(clean_groups(entry.groups))
        except InputError:  # a bad group name: sign-in stays, but no group is granted
            groups = frozenset()
        return User(username, entry.role, groups)

    def role(self, username: str | None) -> Role | None:
        user = self.user(username)
        return user.role if user else None

    def is_admin(self, username: str | None) -> bool:
        return self.role(username) == "admin"


def _write(path: Path, users: dict[str, _Entry]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"users": {name: e.model_dump(exclude_defaults=False) for name, e
                      in sorted(users.items())}}
    tmp = path.with_name(f".{path.name}.part")  # replaced whole: a reader never sees half
    tmp.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(path)


def _existing(path: Path) -> dict[str, _Entry]:
    return _read(path) if path.exists() else {}


def add_user(path: Path, username: str, password: str, role: Role,
             groups: Iterable[str] = ()) -> None:
    """Create or replace one user in the YAML file (other entries kept)."""
    if not username or any(c.isspace() for c in username):
        raise InputError("A user name must be non-empty and contain no spaces.")
    if role not in ROLES:
        raise InputError(f"Unknown role '{role}' (choose {' or '.join(ROLES)}).")
    users = _existing(path)
    users[username] = _Entry(role=role, password_hash=hash_password(password),
                             groups=list(clean_groups(list(groups))))
    _write(path, users)


def remove_user(path: Path, username: str) -> bool:
    """Delete one user; False if there was none by that name."""
    users = _existing(path)
    if users.pop(username, None) is None:
        return False
    _write(path, users)
    return True
