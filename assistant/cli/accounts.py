"""``assistant users`` (sign-in accounts) and ``assistant feedback`` (what staff said)."""

from __future__ import annotations

from typing import Any

import click

from assistant.cli._support import friendly, reader_named, users_file
from assistant.records.cli import cli_event

APPLIES = "A running server applies it at the next request: no restart needed"


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
@friendly
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
@friendly
def users_add(session: Any, name: str, role: str, groups: tuple[str, ...],
              password: str) -> None:
    """Create NAME, or replace its password, role and groups."""
    from assistant.web.auth import add_user

    path = users_file(session)
    add_user(path, name, password, role, groups)  # type: ignore[arg-type]
    member = f", groups: {', '.join(groups)}" if groups else ""
    click.echo(f"Saved {name} ({role}{member}) in {path}. {APPLIES} (a new password "
               "replaces the old one at once).")


@users_group.command("remove")
@click.argument("name")
@click.pass_obj
@friendly
def users_remove(session: Any, name: str) -> None:
    """Delete NAME: their open sessions lose access at their next request."""
    from assistant.web.auth import remove_user

    path = users_file(session)
    if not remove_user(path, name):
        raise click.BadParameter(f"no user '{name}' in {path}.", param_hint="NAME")
    click.echo(f"Removed {name} from {path}. {APPLIES}.")
