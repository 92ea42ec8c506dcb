"""``assistant audit``: read the audit log from the command line (mounted by assistant/cli.py)."""

from __future__ import annotations

import getpass
import sys
from datetime import date
from typing import Any

import click
import sqlalchemy as sa

from assistant.config import Settings
from assistant.errors import InputError
from assistant.records.audit import EVENTS, AuditLog, AuditQuery
from assistant.text.dates import parse as parse_date


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    try:
        return parse_date(value, "date")
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None


def _settings(obj: Any) -> Settings:
    """The group's object is the ``Assistant`` (or, in tests, the settings themselves)."""
    settings = getattr(obj, "settings", obj)
    return settings if isinstance(settings, Settings) else Settings()


def operator() -> str:
    """Who runs a command: the operating-system account (there is no sign-in here)."""
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "os:unknown"


@click.group("audit")
def audit_group() -> None:
    """The audit log: sign-ins, questions, uploads, deletions, briefings and exports
    (ASSISTANT_RECORDS__AUDIT=full|metadata|off; ASSISTANT_RECORDS__AUDIT_RETENTION_DAYS)."""


@audit_group.command("export")
@click.option("--since", callback=_date, help="Only events on or after YYYY-MM-DD (UTC).")
@click.option("--until", callback=_date, help="Only events on or before YYYY-MM-DD (UTC).")
@click.option("--user", help="Only this user's events.")
@click.option("--event", "events", multiple=True, type=click.Choice(EVENTS),
              help="Only this kind of event; repeatable.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="jsonl",
              show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="File to write (default: standard output).")
@click.pass_obj
def audit_export(obj: Any, since: date | None, until: date | None, user: str | None,
                 events: tuple[str, ...], fmt: str, output: Any) -> None:
    """Write audit events as CSV or JSONL, oldest first.

    \b
    Examples:
      assistant audit export --since 2026-01-01 --format csv -o audit.csv
      assistant audit export --user sam --event question
    """
    if since and until and since > until:
        raise click.BadParameter(f"--since {since} is after --until {until}.",
                                 param_hint="--since")
    settings = _settings(obj)
    log = AuditLog(settings)
    query = AuditQuery(since, until, user, events)
    try:
        count = log.export(output, fmt, query)  # type: ignore[arg-type]
    except (sa.exc.SQLAlchemyError, ImportError) as exc:
        click.secho(f"Error: the audit database cannot be read: "
                    f"{str(exc).splitlines()[0]}", fg="red", err=True)
        sys.exit(3)
    # Reading the log is itself on record.
    log.record("export", operator(), what="audit", rows=count, format=fmt,
               since=since, until=until, user_filter=user, events=list(events))
    click.echo(f"{count} audit event(s) exported.", err=True)


def cli_event(obj: Any, event: str, outcome: str = "ok", **detail: Any) -> None:
    """Record a command's change or export (by the operating-system account); a failure
    is reported on standard error and never stops the command."""
    log = AuditLog(_settings(obj))
    if not log.record(event, operator(), outcome, **detail):
        click.secho(f"Warning: the audit log could not record this {event}: "
                    f"{log.last_error}", fg="yellow", err=True)
