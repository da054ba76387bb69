"""``doorward edge`` runs until Ctrl-C and stops cleanly; bad input gets a message, not a trace."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from doorward.edge.outbox import Outbox

DOORWARD = [sys.executable, "-c", "from doorward.cli import main; main()"]


def _run_until_signal(command: list[str], sig: signal.Signals) -> tuple[int, str, str]:
    """Start the daemon, wait for its start line, send ``sig``; (exit code, stdout, stderr)."""
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "DOORWARD_LOG_LEVEL": "WARNING"},
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        if "running" not in line:  # say why the daemon did not come up
            proc.wait(timeout=15)
            pytest.fail(f"no start line: {line!r}; exit {proc.returncode}; {proc.stderr.read()}")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    return proc.returncode, out, err


@pytest.mark.mqtt
def test_edge_daemon_starts_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    site = f"cli-{secrets.token_hex(4)}"
    code, out, err = _run_until_signal(
        [*DOORWARD, "edge", "--gate", "g1", "--hub", "mqtt://127.0.0.1:1883",
         "--data-dir", str(tmp_path), "--site", site],
        signal.SIGINT,
    )
    assert code == 0, err
    assert "edge stopped" in out
    assert "Traceback" not in err
    outbox = Outbox(tmp_path / "edge" / "g1" / "outbox.sqlite3")
    try:
        assert [e.outcome for e in outbox.pending()] == ["edge_started"]
    finally:
        outbox.close()


def test_unknown_hub_url_is_explained(tmp_path: Path) -> None:
    result = subprocess.run(
        [*DOORWARD, "edge", "--gate", "g1", "--hub", "ftp://nowhere", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "neither an MQTT nor an HTTPS URL" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.mqtt
def test_lean_entry_point_runs_and_stops(tmp_path: Path) -> None:
    code, out, err = _run_until_signal(
        [sys.executable, "-m", "doorward.edge", "--gate", "g2", "--hub",
         "mqtt://127.0.0.1:1883", "--data-dir", str(tmp_path), "--site", "lean-test"],
        signal.SIGTERM,
    )
    assert code == 0, err
    assert "edge stopped" in out
