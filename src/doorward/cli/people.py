"""``doorward people``: bulk import of people and units from CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from doorward.cli.db import DatabaseUrlOption, DataDirOption, settings_from_options

__all__ = ["register"]

people_app = typer.Typer(help="People and units.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(people_app, name="people")


@people_app.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(help="CSV with a header: name,unit,role")],
    all_or_nothing: Annotated[
        bool, typer.Option("--all-or-nothing", help="Import nothing if any row is wrong.")
    ] = False,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Import people (and their units) from FILE; report every bad row by number."""
    from doorward.hub.app import build_context
    from doorward.hub.services.people_import import import_people, read_csv_rows
    from doorward.store.db import Database

    console = Console()
    settings = settings_from_options(data_dir, database_url)
    rows = read_csv_rows(file)
    db = Database(settings.effective_database_url)
    try:
        db.migrate()
        ctx = build_context(settings, db)
        with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task("people", total=len(rows))
            report = import_people(ctx, rows, all_or_nothing=all_or_nothing,
                                   on_row=lambda: progress.advance(task))
    finally:
        db.dispose()
    for error in report.errors:
        console.print(f"[red]{error.message}[/]" + (f" ({error.hint})" if error.hint else ""),
                      highlight=False)
    if report.errors and all_or_nothing:
        console.print(f"{len(report.errors)} of {report.rows} rows are wrong; "
                      "nothing was imported (--all-or-nothing). Fix them and run again.")
        raise typer.Exit(1)
    console.print(f"imported {report.imported} of {report.rows} people "
                  f"({report.units_created} new units)")
    if report.errors:
        raise typer.Exit(1)
