"""Docs are part of the build: every CLI command must be documented in docs/cli.md."""

from __future__ import annotations

from pathlib import Path

from doorward.cli.reference import render_reference

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_cli_reference_matches_the_commands() -> None:
    expected = render_reference()
    assert "## `doorward edge`" in expected and "## `doorward log verify`" in expected
    actual = (DOCS / "cli.md").read_text()
    assert actual == expected, "stale: python -m doorward.cli.reference > docs/cli.md"


def test_readme_gives_the_two_fresh_machine_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text()
    ci = (DOCS.parent / ".ci" / "run").read_text()
    assert "./scripts/demo" in readme
    assert "./scripts/test" in readme
    assert "./scripts/test" in ci
