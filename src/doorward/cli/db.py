"""``doorward db``: the database schema.

Also home of the options every command that opens the database shares (``--data-dir``,
``--database-url``) and of :func:`settings_from_options`, which applies them over the
``DOORWARD_*`` environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from doorward.settings import Settings
from doorward.store.db import Database

__all__ = ["DataDirOption", "DatabaseUrlOption", "register", "settings_from_options"]

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data folder (keys, SQLite file). Default: $DOORWARD_DATA_DIR or ./doorward-data.",
        show_default=False,
    ),
]
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///path or postgresql://user@host/db. Default: the data folder's SQLite.",
        show_default=False,
    ),
]

db_app = typer.Typer(help="The database schema.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


def settings_from_options(data_dir: Path | None, database_url: str | None) -> Settings:
    """``DOORWARD_*`` settings with the command line's options on top."""
    return Settings.from_env(data_dir=data_dir, database_url=database_url)


def display_url(url: str) -> str:
    """The URL with any password hidden, fit to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


@db_app.command("upgrade")
def upgrade(data_dir: DataDirOption = None, database_url: DatabaseUrlOption = None) -> None:
    """Create or upgrade every table (all migration branches) in the configured database."""
    settings = settings_from_options(data_dir, database_url)
    database = Database(settings.effective_database_url)
    try:
        database.migrate()
    finally:
        database.dispose()
    typer.echo(f"database schema is up to date: {display_url(database.url)}")
