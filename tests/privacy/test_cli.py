"""The privacy commands as an operator runs them: real processes on the hub's SQLite file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from doorward.privacy.legal_hold import active_holds

from .conftest import World, append_events, days_ago


def _doorward(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    if not world.ctx.db.is_sqlite:
        pytest.skip("the CLI runs on the data folder's SQLite file")
    command = Path(sys.executable).with_name("doorward")
    options = ["--data-dir", str(world.ctx.settings.data_dir), "--database-url", world.ctx.db.url]
    env = {"DOORWARD_SITE_ID": world.ctx.site_id, "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(command), *args, *options], capture_output=True, text=True,
                          timeout=120, check=False, env=env)


def test_legal_hold_place_list_release_and_retention_run(world: World) -> None:
    append_events(world, None, 2, days_ago(50))
    refused = _doorward(world, "legal-hold", "place", "--basis", "because", "--from",
                        "2026-01-01", "--by", "admin")
    assert refused.returncode == 2 and "must name its legal basis" in refused.stderr
    assert "Traceback" not in refused.stderr
    placed = _doorward(world, "legal-hold", "place", "--basis",
                       "Police request 77/2026 about the garage break-in", "--from",
                       days_ago(60).date().isoformat(), "--by", "admin")
    assert placed.returncode == 0, placed.stderr
    listed = _doorward(world, "legal-hold", "list")
    assert "Police request 77/2026" in listed.stdout
    kept = _doorward(world, "retention", "run")
    assert kept.returncode == 0, kept.stderr
    assert f"access events, site {world.ctx.site_id}: 0 purged" in kept.stdout
    hold_id = active_holds(world.ctx.db)[0].id
    released = _doorward(world, "legal-hold", "release", str(hold_id), "--by", "admin")
    assert released.returncode == 0, released.stderr
    purged = _doorward(world, "retention", "run")
    assert f"access events, site {world.ctx.site_id}: 2 purged" in purged.stdout
    assert world.ctx.eventlog.verify().ok


def test_restore_without_yes_explains_itself(world: World, tmp_path: Path) -> None:
    result = _doorward(world, "restore", str(tmp_path / "missing.backup"))
    assert result.returncode == 2 and "--yes" in result.stderr
    missing = _doorward(world, "restore", str(tmp_path / "missing.backup"), "--yes")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert "Traceback" not in missing.stderr + result.stderr
