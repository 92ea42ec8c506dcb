"""What every command shares: the session (settings, and the Assistant built on first use),
errors turned into one line and an exit code, text made safe to print, ``--as`` and dates."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import click

from assistant.access import User
from assistant.config import Settings
from assistant.errors import AssistantError, InputError
from assistant.service import Assistant
from assistant.text.dates import parse as parse_date

F = TypeVar("F", bound=Callable[..., Any])

EXIT_PARTIAL = 1  # some files failed; the rest were indexed
# Terminal escape sequences (CSI, OSC, two-byte ESC) and other control characters: a
# document title holding them could rewrite the screen or set the terminal's title.
_CONTROL = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI, 7- and 8-bit
                      r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC
                      r"|\x1b[ -/]*[0-~]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # ESC x, controls


def plain(text: str | None) -> str:
    """Document-derived text safe to print: no escape sequences, no control characters."""
    return _CONTROL.sub("", text or "")


def friendly(fn: F) -> F:
    """Our errors become one readable line and a meaningful exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AssistantError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


class Session:
    """What a command is given: the settings, and the ``Assistant`` (embedder, Chroma store,
    answer backend) built only when a command asks for it: ``users add`` or ``eval
    compare`` never load a model or open the index."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @functools.cached_property
    def assistant(self) -> Assistant:
        return Assistant(self.settings)


def pass_assistant(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``click.pass_obj`` for commands that work on the index: they get the Assistant, and
    building it, like the command itself, turns our errors into a message and exit code."""

    @click.pass_obj
    @friendly
    @functools.wraps(fn)
    def wrapper(session: Session, *args: Any, **kwargs: Any) -> Any:
        return fn(session.assistant, *args, **kwargs)

    return wrapper


AS_USER = click.option("--as", "as_user", metavar="USER",
                   help="Only what USER (of ASSISTANT_USERS_FILE) may read, by their groups.")


def optional_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    try:
        return parse_date(value, "date")
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None


def reader_named(obj: Any, name: str | None) -> User | None:
    """``--as NAME``: that user of ASSISTANT_USERS_FILE (None: the operator, who reads all)."""
    if name is None:
        return None
    from assistant.web.auth import Users

    path = obj.settings.users_file
    if path is None:
        raise InputError("--as needs ASSISTANT_USERS_FILE (the users file to look NAME up in).")
    user = Users.load(path).user(name)
    if user is None:
        raise InputError(f"--as {name}: no such user in {path}.")
    return user


def users_file(obj: Any) -> Any:
    path = obj.settings.users_file
    if path is None:
        raise click.UsageError("Set ASSISTANT_USERS_FILE to the users file to write.")
    return path
