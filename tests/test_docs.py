"""Docs are part of the build: every CLI command must be documented in docs/cli.md."""

from __future__ import annotations

from pathlib import Path

import click
import typer.main

from doorward.cli import app

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _command_paths(command: click.Command, prefix: str) -> list[str]:
    paths = [prefix]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            paths.extend(_command_paths(sub, f"{prefix} {name}"))
    return paths


def test_every_cli_command_is_documented() -> None:
    root = typer.main.get_command(app)
    text = (DOCS / "cli.md").read_text()
    missing = [p for p in _command_paths(root, "doorward")[1:] if f"`{p}" not in text]
    assert missing == [], f"document these commands in docs/cli.md: {missing}"


def test_readme_gives_the_two_fresh_machine_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text()
    ci = (DOCS.parent / ".ci" / "run").read_text()
    assert "./scripts/demo" in readme
    assert "./scripts/test" in readme
    assert "./scripts/test" in ci
