"""The outbox: ordered, durable across kill -9, deleted only on the hub's ack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from doorward.edge.outbox import Outbox
from doorward.transport.messages import EventMessage

ROOT = Path(__file__).resolve().parents[2]


def event(n: int) -> EventMessage:
    return EventMessage(
        event_id=f"event-{n:04d}",
        site_id="s",
        gate_id="g",
        kind="access",
        occurred_at=datetime.now(UTC),
        edge_seq=0,
        outcome="granted",
    )


def test_order_is_kept_and_only_acknowledged_events_leave(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    try:
        stored = [outbox.append(event(n)) for n in range(5)]
        assert [e.edge_seq for e in stored] == sorted(e.edge_seq for e in stored)
        assert [e.event_id for e in outbox.pending()] == [f"event-{n:04d}" for n in range(5)]
        assert outbox.acknowledge(["event-0001", "event-0003", "not-there"]) == 2
        assert [e.event_id for e in outbox.pending()] == ["event-0000", "event-0002", "event-0004"]
    finally:
        outbox.close()


def test_sequence_keeps_growing_after_reopen(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    last = outbox.append(event(1))
    outbox.acknowledge([last.event_id])
    outbox.close()
    reopened = Outbox(tmp_path / "outbox.sqlite3")
    try:
        assert reopened.append(event(2)).edge_seq > last.edge_seq
    finally:
        reopened.close()


def test_kill_9_mid_burst_loses_no_acknowledged_event(tmp_path: Path) -> None:
    data_dir = tmp_path / "edge"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.edge.burst_edge", str(data_dir)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    acknowledged: list[str] = []
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        while len(acknowledged) < 150:
            line = proc.stdout.readline()
            assert line, "the edge process died before the kill"
            acknowledged.append(line.split()[0])
        os.kill(proc.pid, signal.SIGKILL)
        # Lines already in the pipe were also acknowledged to the gate before the kill.
        acknowledged += [line.split()[0] for line in proc.stdout.read().splitlines() if line]
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    outbox = Outbox(data_dir / "outbox.sqlite3")
    try:
        kept = {e.event_id: e.edge_seq for e in outbox.pending(100_000)}
    finally:
        outbox.close()
    assert len(acknowledged) >= 150 and len(kept) >= len(acknowledged)
    missing = [i for i in acknowledged if i not in kept]
    assert missing == []
    seqs = [kept[i] for i in acknowledged]
    assert seqs == sorted(seqs)
