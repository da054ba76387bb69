"""``doorward backup`` / ``restore`` / ``retention run`` / ``legal-hold``: the privacy jobs.

Backups are always encrypted (AES-256-GCM): with the data folder's ``keys/backup.key``, or
with a passphrase read from a file (never from the command line, where ``ps`` would show it).
Restoring replays every erasure recorded since, so an old backup cannot bring anyone back.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from doorward.cli.db import DatabaseUrlOption, DataDirOption, display_url, settings_from_options
from doorward.errors import InvalidInput, StoreError
from doorward.privacy.backup import BackupKey, make_backup, restore_backup, write_backup
from doorward.privacy.legal_hold import active_holds, place_hold, release_hold
from doorward.settings import Settings
from doorward.store.db import Database

__all__ = ["register"]

retention_app = typer.Typer(help="Delete personal data past its retention period.",
                            no_args_is_help=True)
hold_app = typer.Typer(help="Legal holds: keep access events past retention, with a basis.",
                       no_args_is_help=True)

PassphraseOption = Annotated[
    Path | None,
    typer.Option("--passphrase-file",
                 help="A file holding the backup passphrase (Argon2id-derived key). Without "
                 "it, the data folder's keys/backup.key is used.", show_default=False),
]


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.add_typer(retention_app, name="retention")
    app.add_typer(hold_app, name="legal-hold")


@contextmanager
def _database(settings: Settings, *, must_exist: bool = True) -> Iterator[Database]:
    url = settings.effective_database_url
    if must_exist and url.startswith("sqlite:///") and not Path(url[10:]).exists():
        raise StoreError(f"there is no database at {url[10:]}",
                         hint="pass --data-dir with the hub's data folder, or --database-url")
    database = Database(url)
    try:
        database.migrate()
        yield database
    finally:
        database.dispose()


def _key(passphrase_file: Path | None) -> BackupKey:
    if passphrase_file is None:
        return BackupKey()
    try:
        text = passphrase_file.read_text(encoding="utf-8").strip("\r\n")
    except OSError as exc:
        raise InvalidInput(f"cannot read the passphrase file {passphrase_file}: {exc.strerror}",
                           hint="pass a readable file holding only the passphrase") from exc
    return BackupKey.from_passphrase(text)


def backup(
    output: Annotated[Path, typer.Argument(help="Where to write the encrypted backup.")],
    passphrase_file: PassphraseOption = None,
    no_keys: Annotated[bool, typer.Option("--no-keys",
                                          help="Leave the hub's key files out.")] = False,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write an encrypted backup of the database, the hub's keys and the erasure ledger."""
    settings = settings_from_options(data_dir, database_url)
    key = _key(passphrase_file)
    with _database(settings) as database:
        blob = make_backup(database, settings, key, include_keys=not no_keys)
    write_backup(output, blob)
    how = "a passphrase" if key.passphrase else f"{settings.keys_dir / 'backup.key'}"
    typer.echo(f"backup written to {output} ({len(blob)} bytes), encrypted with {how}")


def restore(
    source: Annotated[Path, typer.Argument(help="The backup file to restore.")],
    passphrase_file: PassphraseOption = None,
    replace_keys: Annotated[bool, typer.Option(
        "--replace-keys", help="Overwrite key files that differ from the backup's.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm replacing every row.")] = False,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Replace the database's contents with a backup, then replay every recorded erasure."""
    if not yes:
        raise InvalidInput("restore replaces every row in the database",
                           hint="stop the hub, then run again with --yes")
    settings = settings_from_options(data_dir, database_url)
    try:
        blob = source.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {source}: {exc.strerror}",
                           hint="check the path of the backup file") from exc
    key = _key(passphrase_file)
    with _database(settings, must_exist=False) as database:
        report = restore_backup(database, settings, blob, key, replace_keys=replace_keys)
        where = display_url(database.url)
    typer.echo(f"restored {sum(report.rows.values())} rows into {where}")
    if report.keys_written:
        typer.echo(f"key files written: {', '.join(report.keys_written)}")
    typer.echo(f"erasure ledger: {report.ledger_entries} entries, "
               f"{report.erased_again} people erased again")


@retention_app.command("run")
def retention_run(data_dir: DataDirOption = None, database_url: DatabaseUrlOption = None) -> None:
    """Purge access events, visitor passes, face templates and sessions past retention."""
    from doorward.hub.app import build_context
    from doorward.privacy.retention import run_retention

    settings = settings_from_options(data_dir, database_url)
    with _database(settings) as database:
        report = run_retention(build_context(settings, database))
    for line in report.lines():
        typer.echo(line)


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{text!r} is not an ISO date or time",
                           hint="use e.g. 2026-01-31 or 2026-01-31T12:00:00+01:00") from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@hold_app.command("place")
def hold_place(
    basis: Annotated[str, typer.Option("--basis", help="The legal basis and its reference.")],
    preserve_from: Annotated[str, typer.Option(
        "--from", help="Keep events received from this ISO date or time on.")],
    site: Annotated[str | None, typer.Option("--site", help="Default: the hub's site.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who places it (audited).")] = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Keep a site's access events from a date on, past retention, until released."""
    settings = settings_from_options(data_dir, database_url)
    with _database(settings) as database:
        hold = place_hold(database, site_id=site or settings.site_id, basis=basis,
                          preserve_from=_parse_time(preserve_from),
                          actor=by or getpass.getuser())
    typer.echo(f"legal hold #{hold.id} placed on site {hold.site_id}: events received from "
               f"{hold.preserve_from.isoformat()} are kept until it is released")


@hold_app.command("list")
def hold_list(data_dir: DataDirOption = None, database_url: DatabaseUrlOption = None) -> None:
    """List the active legal holds."""
    settings = settings_from_options(data_dir, database_url)
    with _database(settings) as database:
        holds = active_holds(database)
    if not holds:
        typer.echo("no active legal holds")
    for hold in holds:
        typer.echo(f"#{hold.id} site {hold.site_id} from {hold.preserve_from.isoformat()} "
                   f"by {hold.created_by}: {hold.basis}")


@hold_app.command("release")
def hold_release(
    hold_id: Annotated[int, typer.Argument(help="The hold's number.")],
    by: Annotated[str | None, typer.Option("--by", help="Who releases it (audited).")] = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """End a legal hold; the next retention run purges what it kept."""
    settings = settings_from_options(data_dir, database_url)
    with _database(settings) as database:
        hold = release_hold(database, hold_id, actor=by or getpass.getuser())
    typer.echo(f"legal hold #{hold.id} released")
