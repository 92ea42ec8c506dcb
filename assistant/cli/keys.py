"""``assistant keys``: API keys for the OpenAI-compatible API (``assistant.web.api``).

A key acts as one user of the users file: their role and groups are read from the file on
every request, so removing or demoting the user takes effect at once, key or no key.
"""

from __future__ import annotations

import sys
from typing import Any

import click
import sqlalchemy as sa

from assistant.config import Settings
from assistant.errors import InputError
from assistant.records import ApiKeys, Database
from assistant.records.cli import cli_event


def _store(obj: Any) -> ApiKeys:
    settings = getattr(obj, "settings", obj)
    settings = settings if isinstance(settings, Settings) else Settings()
    return ApiKeys(Database.from_settings(settings))


def _unavailable(exc: Exception) -> None:
    click.secho(f"Error: the records database cannot be used: {str(exc).splitlines()[0]}",
                fg="red", err=True)
    sys.exit(3)


@click.group("keys")
def keys_group() -> None:
    """API keys: each acts as one user, with that user's role and groups
    (see docs/api.md)."""


@keys_group.command("add")
@click.argument("user")
@click.pass_obj
def keys_add(obj: Any, user: str) -> None:
    """Make a key for USER; printed once, only its hash is kept.

    \b
    Example:
      assistant keys add sam
    """
    from assistant.web.auth import Users

    path = getattr(getattr(obj, "settings", None), "users_file", None)
    if path is not None:
        try:
            known = Users.load(path).user(user) is not None
        except Exception as exc:  # an unreadable users file: say so, make nothing
            raise click.ClickException(str(exc)) from None
        if not known:
            raise click.BadParameter(f"no user '{user}' in {path} (add one with `assistant "
                                     "users add`).", param_hint="USER")
    try:
        record, key = _store(obj).add(user)
    except sa.exc.SQLAlchemyError as exc:
        _unavailable(exc)
        return
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="USER") from None
    cli_event(obj, "api_key", "added", key_id=record.id, for_user=user)
    click.echo(key)
    click.echo(f"Key {record.id} for {user}. Keep it now: it is not shown again. Send it as "
               "'Authorization: Bearer KEY'.", err=True)


@keys_group.command("list")
@click.option("--user", help="Only this user's keys.")
@click.option("--all", "show_all", is_flag=True, help="Include revoked keys.")
@click.pass_obj
def keys_list(obj: Any, user: str | None, show_all: bool) -> None:
    """List keys (id, user, dates), never the keys themselves."""
    try:
        keys = _store(obj).list(user)
    except sa.exc.SQLAlchemyError as exc:
        _unavailable(exc)
        return
    shown = [k for k in keys if show_all or k.active]
    for k in shown:
        revoked = f"  revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else ""
        click.echo(f"{k.id}  {k.user}  created {k.created_at:%Y-%m-%d %H:%M}{revoked}")
    if not shown:
        click.echo("No keys.", err=True)


@keys_group.command("revoke")
@click.argument("key_id")
@click.pass_obj
def keys_revoke(obj: Any, key_id: str) -> None:
    """Revoke the key KEY_ID (see `keys list`); it stops at once."""
    try:
        record = _store(obj).revoke(key_id)
    except sa.exc.SQLAlchemyError as exc:
        _unavailable(exc)
        return
    if record is None:
        raise click.BadParameter(f"no key '{key_id}' (see `assistant keys list`).",
                                 param_hint="KEY_ID")
    cli_event(obj, "api_key", "revoked", key_id=record.id, for_user=record.user)
    click.echo(f"Revoked {record.id} ({record.user}).")
