"""The ``doorward`` command line.

Each command group lives in its own module here and exposes ``register(app)``. Modules are
imported only when their command runs, so ``doorward edge`` never loads the hub, SQLAlchemy or
Alembic (the edge's memory budget is 80 MB). Errors from the error tree are printed as a message
and a hint, never as a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from rich.console import Console

from doorward.errors import DoorwardError

__all__ = ["COMMANDS", "build_app", "main"]

#: Top-level command name -> the module under doorward.cli that registers it, in help order.
COMMANDS: dict[str, str] = {
    "demo": "demo",
    "hub": "hub",
    "db": "db",
    "log": "log",
    "edge": "edge",
    "sim": "sim",
    "hub-worker": "sim",
    "face": "face",
    "people": "people",
    "backup": "privacy",
    "restore": "privacy",
    "retention": "privacy",
    "legal-hold": "privacy",
}


def build_app(only: str | None = None) -> typer.Typer:
    """The CLI with every command group, or only the module that serves command ``only``."""
    app = typer.Typer(
        name="doorward",
        help="Doorward: self-hosted, private-by-construction access control.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root() -> None:
        """Doorward: self-hosted, private-by-construction access control."""

    modules = [COMMANDS[only]] if only in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in modules:
        importlib.import_module(f"doorward.cli.{name}").register(app)
    return app


def __getattr__(name: str) -> Any:
    # `from doorward.cli import app` (tests, docs) gets the full CLI, built on first use.
    if name == "app":
        full = build_app()
        globals()["app"] = full
        return full
    raise AttributeError(name)


def main() -> None:
    """Entry point: run the app and turn Doorward errors into a readable message."""
    err = Console(stderr=True)
    first = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    app = build_app(first)
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
