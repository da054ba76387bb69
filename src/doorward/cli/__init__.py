"""The ``doorward`` command line.

Each command group lives in its own module here and exposes ``register(app)``. Errors from
the error tree are printed as a message and a hint, never as a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from doorward.errors import DoorwardError

__all__ = ["app", "main"]

app = typer.Typer(
    name="doorward",
    help="Doorward: self-hosted, private-by-construction access control.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

#: Command modules, in the order their commands appear in --help.
COMMAND_MODULES = ("demo", "hub", "db", "log", "edge", "sim", "face", "people", "privacy")


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"doorward.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"doorward.cli.{name}":
                continue
            raise
        module.register(app)


_register_all()


def main() -> None:
    """Entry point: run the app and turn Doorward errors into a readable message."""
    err = Console(stderr=True)
    try:
        app(standalone_mode=False)
    except DoorwardError as exc:
        err.print(f"[bold red]error:[/] {exc.message}")
        if exc.hint:
            err.print(f"[yellow]how to fix:[/] {exc.hint}")
        sys.exit(2)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
