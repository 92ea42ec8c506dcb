"""``assistant users`` (sign-in accounts) and ``assistant feedback`` (what staff said);
``assistant keys`` lives in ``keys_cli``."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from assistant.access import User
from assistant.errors import AssistantError, InputError
from assistant.records.cli import cli_event
from assistant.web.keys_cli import keys_group as keys_group  # registered by assistant.cli

F = TypeVar("F", bound=Callable[..., Any])
APPLIES = "A running server applies it at the next request: no restart needed"


def _friendly(fn: F) -> F:
    """Our errors become one readable line and their exit code (as in ``assistant.cli``)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AssistantError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


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


def _users_file(obj: Any) -> Any:
    path = obj.settings.users_file
    if path is None:
        raise click.UsageError("Set ASSISTANT_USERS_FILE to the users file to write.")
    return path


@click.group("feedback")
def feedback_group() -> None:
    """Feedback staff gave on answers in the web chat."""


@feedback_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="jsonl",
              show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="File to write (default: standard output).")
@click.option("--as", "as_user", metavar="USER",
              help="Only rows whose sources USER (of ASSISTANT_USERS_FILE) may read.")
@click.pass_obj
@_friendly
def feedback_export(session: Any, fmt: str, output: Any, as_user: str | None) -> None:
    """Write every feedback row (rating, comment, question, answer, sources, backend,
    latency) as CSV or JSONL, e.g. to turn into evaluation cases."""
    from assistant.web.feedback import FeedbackStore

    reader = reader_named(session, as_user)
    # The index is opened only to list what ``--as`` may read.
    readable = None if reader is None else {r.source for r in
                                            session.assistant.sources(reader)}
    count = FeedbackStore(session.settings.data_dir).export(
        output, fmt, readable)  # type: ignore[arg-type]
    cli_event(session, "export", what="feedback", rows=count, format=fmt, as_user=as_user)
    click.echo(f"{count} feedback row(s) exported.", err=True)


@click.group("users")
def users_group() -> None:
    """Web sign-in accounts, kept in ASSISTANT_USERS_FILE with bcrypt-hashed passwords."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["staff", "admin"]), default="staff",
              show_default=True, help="Admins may upload and delete documents, and read all.")
@click.option("--group", "groups", multiple=True, metavar="GROUP",
              help="A group NAME belongs to (reads the documents of it); repeatable.")
@click.password_option(help="Asked for when not given.")
@click.pass_obj
@_friendly
def users_add(session: Any, name: str, role: str, groups: tuple[str, ...],
              password: str) -> None:
    """Create NAME, or replace its password, role and groups."""
    from assistant.web.auth import add_user

    path = _users_file(session)
    add_user(path, name, password, role, groups)  # type: ignore[arg-type]
    member = f", groups: {', '.join(groups)}" if groups else ""
    click.echo(f"Saved {name} ({role}{member}) in {path}. {APPLIES} (a new password "
               "replaces the old one at once).")


@users_group.command("remove")
@click.argument("name")
@click.pass_obj
@_friendly
def users_remove(session: Any, name: str) -> None:
    """Delete NAME: their open sessions lose access at their next request."""
    from assistant.web.auth import remove_user

    path = _users_file(session)
    if not remove_user(path, name):
        raise click.BadParameter(f"no user '{name}' in {path}.", param_hint="NAME")
    click.echo(f"Removed {name} from {path}. {APPLIES}.")
