"""``doorward db upgrade`` and ``doorward log verify|purge`` against a real SQLite file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from doorward.cli import app
from doorward.cli.log import parse_cutoff
from doorward.errors import ConfigError, InvalidInput, StoreError
from doorward.settings import Settings
from doorward.store.db import Database
from doorward.store.eventlog import EventLog, load_chain_key, load_or_create_chain_key

from .factories import ManualClock, make_event

runner = CliRunner()
#: Keep the developer's own DOORWARD_* variables out of these tests.
CLEAN_ENV = {"DOORWARD_DATA_DIR": None, "DOORWARD_DATABASE_URL": None}


def _invoke(*args: str) -> tuple[int, str, BaseException | None]:
    result = runner.invoke(app, list(args), env=CLEAN_ENV)
    return result.exit_code, result.output, result.exception


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder with a migrated SQLite database, a chain key and 12 logged events."""
    folder = tmp_path / "data"
    code, output, _ = _invoke("db", "upgrade", "--data-dir", str(folder))
    assert code == 0, output
    assert "database schema is up to date" in output
    settings = Settings.from_env({}, data_dir=folder)
    database = Database(settings.effective_database_url)
    try:
        clock = ManualClock(datetime(2026, 1, 10, tzinfo=UTC))
        log = EventLog(database, load_or_create_chain_key(settings), clock=clock)
        log.append([make_event(i) for i in range(8)])
        clock.advance(days=10)
        log.append([make_event(i) for i in range(8, 12)])
    finally:
        database.dispose()
    return folder


def test_verify_prints_ok_with_the_count(data_dir: Path) -> None:
    code, output, _ = _invoke("log", "verify", "--data-dir", str(data_dir))
    assert code == 0
    assert "OK: 12 entries verified" in output


def test_verify_exits_1_and_names_the_first_bad_entry(data_dir: Path) -> None:
    database = Database(f"sqlite:///{data_dir / 'doorward.sqlite3'}")
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE eventlog_entries SET outcome='denied' WHERE seq=3"))
    database.dispose()
    code, output, _ = _invoke("log", "verify", "--data-dir", str(data_dir), "--site", "s1")
    assert code == 1
    assert "TAMPERED: site s1, seq 3: entry edited" in output
    assert "Restore the database from a backup" in output


def test_verify_reads_the_database_url_option(data_dir: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{data_dir / 'doorward.sqlite3'}"
    keys_only = tmp_path / "keys-only"
    (keys_only / "keys").mkdir(parents=True)
    key = data_dir / "keys" / "chain.key"
    (keys_only / "keys" / "chain.key").write_bytes(key.read_bytes())
    (keys_only / "keys" / "chain.key").chmod(0o600)
    code, output, _ = _invoke("log", "verify", "--data-dir", str(keys_only), "--database-url", url)
    assert (code, "OK: 12 entries verified" in output) == (0, True)


def test_purge_then_verify(data_dir: Path) -> None:
    code, output, _ = _invoke(
        "log", "purge", "--before", "2026-01-15", "--site", "s1", "--data-dir", str(data_dir)
    )
    assert code == 0, output
    assert "purged 8 entries of site s1" in output
    assert "after seq 8" in output
    code, output, _ = _invoke("log", "verify", "--data-dir", str(data_dir))
    assert (code, "OK: 4 entries verified" in output) == (0, True)


def test_purge_rejects_a_bad_or_future_date(data_dir: Path) -> None:
    for before, message in (("last tuesday", "not an ISO date"), ("2999-01-01", "in the future")):
        code, _, exc = _invoke(
            "log", "purge", "--before", before, "--site", "s1", "--data-dir", str(data_dir)
        )
        assert code != 0
        assert isinstance(exc, InvalidInput)
        assert message in exc.message


def test_verify_without_a_database_says_where_it_looked(tmp_path: Path) -> None:
    code, _, exc = _invoke("log", "verify", "--data-dir", str(tmp_path / "empty"))
    assert code != 0
    assert isinstance(exc, StoreError)
    assert "there is no database" in exc.message
    assert "--data-dir" in exc.hint
    assert not (tmp_path / "empty").exists()  # verify creates nothing


def test_verify_on_an_unmigrated_database_says_to_upgrade(tmp_path: Path) -> None:
    Database(f"sqlite:///{tmp_path / 'doorward.sqlite3'}").dispose()
    (tmp_path / "doorward.sqlite3").touch()
    code, _, exc = _invoke("log", "verify", "--data-dir", str(tmp_path))
    assert code != 0
    assert isinstance(exc, StoreError)
    assert "doorward db upgrade" in exc.hint


def test_verify_without_the_chain_key_is_a_config_error(data_dir: Path) -> None:
    (data_dir / "keys" / "chain.key").unlink()
    code, _, exc = _invoke("log", "verify", "--data-dir", str(data_dir))
    assert code != 0
    assert isinstance(exc, ConfigError)
    assert "does not exist" in exc.message


def test_the_chain_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings.from_env({}, data_dir=tmp_path)
    key = load_or_create_chain_key(settings)
    path = settings.keys_dir / "chain.key"
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_chain_key(settings) == key == load_chain_key(settings)
    assert [p.name for p in settings.keys_dir.iterdir()] == ["chain.key"]  # no temp left


def test_a_chain_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    settings = Settings.from_env({}, data_dir=tmp_path)
    load_or_create_chain_key(settings)
    (settings.keys_dir / "chain.key").chmod(0o644)
    with pytest.raises(ConfigError) as info:
        load_chain_key(settings)
    assert "chmod 600" in info.value.hint


def test_parse_cutoff_reads_dates_and_zones() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert parse_cutoff("2026-01-31", now) == datetime(2026, 1, 31, tzinfo=UTC)
    assert parse_cutoff("2026-01-31T12:00:00+02:00", now) == datetime(2026, 1, 31, 10, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        parse_cutoff("2026-06-02", now)
    assert parse_cutoff("2026-05-31", now) < now - timedelta(hours=1)


def test_the_doorward_command_prints_a_message_and_a_hint_not_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORWARD_")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from doorward.cli import main; main()",
            "log",
            "verify",
            "--data-dir",
            str(tmp_path / "nowhere"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "there is no database" in done.stderr
    assert "how to fix:" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
