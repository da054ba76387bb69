"""`doorward people import`: good rows in, bad rows reported by number, or nothing at all."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from doorward.cli import app
from doorward.hub.app import build_context
from doorward.hub.services.people_import import import_people, read_csv_rows
from doorward.settings import Settings
from doorward.store.db import Database
from doorward.store.models import PersonRow, SubjectMapRow, UnitRow

GOOD_AND_BAD = """name,unit,role
Ana Lima,1A,resident
Bea Souza,1A,
,2B,resident
Caio Reis,2B,suspect
Dani Melo,,resident
Eli Nunes,,staff
"""


def _count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_rows_are_imported_and_bad_rows_reported(db: Database, tmp_path: Path) -> None:
    ctx = build_context(Settings(environment="test", data_dir=tmp_path), db)
    report = import_people(ctx, read_csv_rows(_write(tmp_path, GOOD_AND_BAD)))
    assert (report.rows, report.imported, report.units_created) == (6, 3, 1)
    assert [e.row for e in report.errors] == [4, 5, 6]
    assert "name" in report.errors[0].message
    assert "role" in report.errors[1].message
    assert "needs a unit" in report.errors[2].message
    assert _count(db, PersonRow) == 3 and _count(db, SubjectMapRow) == 3
    assert _count(db, UnitRow) == 1


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(db: Database, tmp_path: Path) -> None:
    ctx = build_context(Settings(environment="test", data_dir=tmp_path), db)
    report = import_people(ctx, read_csv_rows(_write(tmp_path, GOOD_AND_BAD)),
                           all_or_nothing=True)
    assert report.imported == 0 and len(report.errors) == 3
    assert _count(db, PersonRow) == 0 and _count(db, UnitRow) == 0


def test_cli_import_with_progress_and_row_errors(db: Database, tmp_path: Path) -> None:
    runner = CliRunner()
    path = _write(tmp_path, GOOD_AND_BAD)
    args = ["people", "import", str(path), "--data-dir", str(tmp_path), "--database-url", db.url]
    strict = runner.invoke(app, [*args, "--all-or-nothing"])
    assert strict.exit_code == 1
    assert "row 4" in strict.output and "nothing was imported" in strict.output
    assert _count(db, PersonRow) == 0
    lenient = runner.invoke(app, args)
    assert lenient.exit_code == 1  # some rows were wrong
    assert "imported 3 of 6 people (1 new units)" in lenient.output
    clean = _write(tmp_path, "name,unit\nFabi Rocha,9C\n")
    ok = runner.invoke(app, ["people", "import", str(clean), "--data-dir", str(tmp_path),
                             "--database-url", db.url])
    assert ok.exit_code == 0 and "imported 1 of 1" in ok.output
    assert _count(db, PersonRow) == 4


def test_unreadable_csv_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from doorward.errors import InvalidInput

    with pytest.raises(InvalidInput, match="has no name column"):
        read_csv_rows(_write(tmp_path, "unit,role\n1A,resident\n"))
    with pytest.raises(InvalidInput, match="unknown columns: birthday"):
        read_csv_rows(_write(tmp_path, "name,birthday\nAna,1990\n"))
    with pytest.raises(InvalidInput, match="does not exist"):
        read_csv_rows(tmp_path / "missing.csv")
    (tmp_path / "latin1.csv").write_bytes("name\nJos\xe9\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_csv_rows(tmp_path / "latin1.csv")
