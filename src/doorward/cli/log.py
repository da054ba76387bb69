"""``doorward log``: verify the tamper-evident event log, and purge old entries from it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from doorward.cli.db import DatabaseUrlOption, DataDirOption, display_url, settings_from_options
from doorward.errors import InvalidInput, StoreError
from doorward.settings import Settings
from doorward.store.db import Database
from doorward.store.eventlog import EventLog, load_chain_key

__all__ = ["register"]

log_app = typer.Typer(
    help="The tamper-evident event log: verify its hash chain, purge old entries.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(log_app, name="log")


@log_app.command("verify")
def verify(
    site: Annotated[
        str | None, typer.Option("--site", help="Verify only this site's chain.")
    ] = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Check every entry's hash chain; print OK, or the first bad entry and exit 1."""
    settings = settings_from_options(data_dir, database_url)
    with open_event_log(settings) as log:
        report = log.verify(site)
    typer.echo(report.summary())
    if not report.ok:
        typer.echo(
            "The log was changed outside Doorward. Restore the database from a backup taken "
            "before that entry, and find out who had write access to it."
        )
        raise typer.Exit(1)


@log_app.command("purge")
def purge(
    before: Annotated[
        str,
        typer.Option(
            "--before",
            help="Delete entries received before this ISO date or time (UTC if no zone).",
        ),
    ],
    site: Annotated[str, typer.Option("--site", help="The site whose entries to purge.")],
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Delete a site's oldest entries behind a signed checkpoint (the log still verifies)."""
    cutoff = parse_cutoff(before)
    settings = settings_from_options(data_dir, database_url)
    with open_event_log(settings) as log:
        report = log.purge(site, cutoff)
    typer.echo(
        f"purged {report.purged} entries of site {site} received before "
        f"{cutoff.isoformat()}; checkpoint #{report.checkpoint_id}, the chain now starts "
        f"after seq {report.through_seq}"
    )


def parse_cutoff(text: str, now: datetime | None = None) -> datetime:
    """An ISO date or datetime, in UTC when it has no zone; never in the future."""
    try:
        cutoff = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"--before {text!r} is not an ISO date or time",
            hint="use e.g. --before 2026-01-31 or --before 2026-01-31T12:00:00+01:00",
        ) from exc
    cutoff = cutoff.replace(tzinfo=UTC) if cutoff.tzinfo is None else cutoff.astimezone(UTC)
    if cutoff > (now or datetime.now(UTC)):
        raise InvalidInput(
            f"--before {text} is in the future, so it would purge events as they arrive",
            hint="pass a date in the past; retention usually keeps the last 30 days",
        )
    return cutoff


@contextmanager
def open_event_log(settings: Settings) -> Iterator[EventLog]:
    """The event log of an existing, migrated database, with the chain key of its data folder."""
    url = settings.effective_database_url
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        raise StoreError(
            f"there is no database at {url[len('sqlite:///') :]}",
            hint="pass --data-dir with the hub's data folder, or --database-url",
        )
    database = Database(url)
    try:
        try:
            tables = set(inspect(database.engine).get_table_names())
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open the database {display_url(database.url)}: {exc.__class__.__name__}",
                hint="check --database-url and that the database server is running",
            ) from exc
        if "eventlog_entries" not in tables:
            raise StoreError(
                f"the database {display_url(database.url)} has no event log tables",
                hint="run `doorward db upgrade` with the same options first",
            )
        yield EventLog(database, load_chain_key(settings))
    finally:
        database.dispose()
