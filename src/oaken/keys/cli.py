"""``oaken keys create|list|revoke``: the ingest API's keys (docs/operations.md, "API
keys"). :func:`register` adds the group to the ``oaken`` Typer app."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from oaken.console import err, out
from oaken.settings import Settings, load_settings

keys_app = typer.Typer(
    help="Issue, list and revoke the ingest API's keys (one or two per application).",
    no_args_is_help=True,
)


def _engine(settings: Settings):
    from oaken.db.engine import make_engine
    from oaken.db.migrate import migrate

    migrate(settings.database_url, timeout=10)
    return make_engine(settings.database_url)


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="the application: letters, digits, . _ -")],
) -> None:
    """Create a key for NAME and print it once on stdout (only its SHA-256 is kept). For a
    NAME that has a key already this is the second key, for rotation."""
    from oaken.keys.store import MAX_ACTIVE, create_key

    created = create_key(_engine(load_settings()), name)
    print(created.key)
    err.print(
        f"key {created.info.key_id} of {name} created; it is shown only now. "
        f"Send it as 'Authorization: Bearer <key>'.",
        highlight=False,
        soft_wrap=True,
    )
    if created.active == MAX_ACTIVE:
        err.print(
            f"{name} now holds two keys: once the application sends the new one, "
            f"revoke the old one with `oaken keys revoke {name} --key-id OLD_ID` "
            "(`oaken keys list` shows the ids).",
            highlight=False,
            soft_wrap=True,
        )


def _when(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M:%S} UTC"


@keys_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON array")] = False,
    revoked: Annotated[bool, typer.Option("--revoked", help="include revoked keys")] = False,
) -> None:
    """Show each key's name, id, creation and last use (never the key). Last use is
    written by the API at most once a minute."""
    from oaken.keys.store import list_keys

    settings = load_settings()
    keys = list_keys(_engine(settings), revoked=revoked)
    if as_json:
        print(json.dumps([key.as_json() for key in keys]))
        return
    table = Table(title=f"{len(keys)} API keys")
    for column in ("name", "key id", "created", "last used", *(["revoked"] if revoked else [])):
        table.add_column(column)
    for key in keys:
        table.add_row(
            key.name,
            key.key_id,
            _when(key.created_at),
            _when(key.last_used_at),
            *([_when(key.revoked_at)] if revoked else []),
        )
    out.print(table)
    if settings.api_token:
        err.print("OAKEN_API_TOKEN is set: the API also takes it, as the key named `token`.")


@keys_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="the application")],
    key_id: Annotated[
        str | None,
        typer.Option(
            "--key-id", help="revoke only this key of NAME (rotation); default: all of them"
        ),
    ] = None,
) -> None:
    """Revoke every key of NAME, or one with --key-id. Every API process refuses it
    within 5 seconds."""
    from oaken.keys.store import revoke as revoke_keys

    ids = revoke_keys(_engine(load_settings()), name, key_id=key_id)
    err.print(f"revoked {', '.join(ids)} of {name}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
