"""``doorward demo`` as a real process: an edge daemon per gate, traffic at their simulated
readers, events reaching the hub through the edges' outboxes and the HTTP link."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _read_until(proc: subprocess.Popen[str], pattern: str, timeout: float) -> str:
    """Read the demo's output until ``pattern`` shows (the logins table comes first)."""
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
        seen += line
        if re.search(pattern, seen):
            return seen
    raise AssertionError(f"the demo did not print {pattern!r}:\n{seen}")


def test_demo_runs_an_edge_per_gate_and_their_events_reach_the_hub(tmp_path: Path) -> None:
    port = _free_port()
    data = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORWARD_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from doorward.cli import main; main()", "demo",
         "--data-dir", str(data), "--port", str(port), "--traffic", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        head = _read_until(proc, r"Ctrl-C stops it", 120)
        password = re.search(r"admin\s*│\s*admin\s*│\s*(\S+)", head)
        assert password is not None, head
        base = f"http://127.0.0.1:{port}"
        up = time.monotonic() + 60  # the banner comes just before the server listens
        while time.monotonic() < up:
            try:
                httpx.get(f"{base}/api/v1/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        token = httpx.post(f"{base}/api/v1/auth/login", timeout=10,
                           json={"username": "admin", "password": password.group(1)}
                           ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        events: list[dict[str, str]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            events = httpx.get(f"{base}/api/v1/events", params={"limit": 500}, headers=auth,
                               timeout=10).json()
            kinds = Counter(e["kind"] for e in events)
            if kinds["access"] >= 10 and kinds["door"] >= 2:
                break
            time.sleep(0.5)
        started = {e["gate_id"] for e in events if e["outcome"] == "edge_started"}
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    assert "demo stopped" in output
    # Every gate's edge started and reported; decisions were taken at the gates.
    assert started == {"main-turnstile", "garden-door"}
    outcomes = Counter(e["outcome"] for e in events if e["kind"] == "access")
    assert outcomes["granted"] > 0 and sum(outcomes.values()) >= 10
    assert {e["gate_id"] for e in events if e["kind"] == "access"} == started
    assert Counter(e["kind"] for e in events)["door"] >= 2  # doors opened after grants
    for gate in started:
        folder = data / "edge" / gate
        assert (folder / "outbox.sqlite3").exists() and (folder / "snapshot.sqlite3").exists()
        assert oct((folder / "edge-token").stat().st_mode & 0o777) == "0o600"
