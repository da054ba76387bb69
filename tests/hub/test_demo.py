"""The demo community, its traffic, and `doorward demo` as a real process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from doorward.hub.app import build_context
from doorward.settings import Settings
from doorward.sim.community import build_community, community_exists, reset_demo_logins
from doorward.sim.traffic import GateTraffic
from doorward.store.db import Database
from doorward.store.models import CredentialRow, PersonRow, ScheduleRow, UnitRow


def test_demo_community_and_traffic(db: Database, tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, site_id="demo")
    ctx = build_context(settings, db)
    assert not community_exists(ctx)
    community = build_community(ctx, residents=60, units=24)
    assert community_exists(ctx)
    assert [login.role for login in community.logins] == ["admin", "guard", "resident"]
    assert len({login.password for login in community.logins}) == 3
    with db.read() as session:
        roles = Counter(session.scalars(select(PersonRow.role)))
        units = session.scalar(select(func.count()).select_from(UnitRow))
        kinds = Counter(session.scalars(select(CredentialRow.kind)))
        revoked = session.scalar(select(func.count()).where(CredentialRow.revoked.is_(True)))
        schedules = session.scalars(select(ScheduleRow)).all()
    assert roles == {"resident": 60, "staff": 8, "guard": 2, "admin": 1}
    assert units == 24
    assert set(kinds) == {"card", "pin", "mobile"}
    assert revoked == 4
    staff = next(s for s in schedules if s.name.startswith("Staff"))
    assert staff.holidays and len(staff.windows) == 5

    traffic = GateTraffic(ctx, seed=3, pass_payloads=community.pass_payloads,
                          pass_codes=community.pass_codes)
    now = datetime.now(UTC)
    outcomes = Counter(traffic.step(now).outcome.value for _ in range(150))
    assert outcomes["granted"] > 100
    assert outcomes["unknown_credential"] > 0
    events = ctx.eventlog.events(site_id="demo", limit=1000)
    assert len(events) == 150
    assert ctx.eventlog.verify().ok
    # New passwords at every start; the old ones stop working.
    assert reset_demo_logins(ctx)[0].password != community.logins[0].password


def test_traffic_thread_starts_and_stops(db: Database, tmp_path: Path) -> None:
    ctx = build_context(Settings(environment="test", data_dir=tmp_path), db)
    build_community(ctx, residents=10, units=5)
    traffic = GateTraffic(ctx, rate_per_second=40, seed=1)
    traffic.start()
    deadline = time.monotonic() + 10
    while traffic.decisions < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    traffic.stop()
    stopped_at = traffic.decisions
    assert stopped_at >= 5
    time.sleep(0.3)
    assert traffic.decisions == stopped_at


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_health(proc: subprocess.Popen[str], port: int, *, seconds: float
                     ) -> httpx.Response | None:
    """The first answer of /api/v1/health, or None if the process died or time ran out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
        except httpx.TransportError:
            time.sleep(0.3)
    return None


def test_doorward_demo_serves_health_and_stops_on_sigint(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORWARD_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from doorward.cli import main; main()", "demo",
         "--data-dir", str(tmp_path / "demo"), "--port", str(port), "--traffic", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        health = _wait_for_health(proc, port, seconds=90)
        assert health is not None and health.status_code == 200, "demo did not come up"
        assert health.json()["status"] == "ok"
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    assert "admin" in output and "guard" in output and "resident" in output
    assert f"http://127.0.0.1:{port}/" in output
    assert "demo stopped" in output
    assert "Traceback" not in output
    assert (tmp_path / "demo" / "doorward.sqlite3").exists()
    assert oct((tmp_path / "demo" / "keys" / "hub-signing.key").stat().st_mode & 0o777) == "0o600"


def test_doorward_hub_runs_from_settings_and_stops_on_sigint(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORWARD_")}
    env |= {"DOORWARD_DATA_DIR": str(tmp_path / "hub"), "DOORWARD_PORT": str(port),
            "DOORWARD_SITE_ID": "tower-9"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from doorward.cli import main; main()", "hub"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        health = _wait_for_health(proc, port, seconds=60)
        assert health is not None and health.json()["site_id"] == "tower-9"
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    assert "Traceback" not in output
