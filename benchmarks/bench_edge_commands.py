"""Hub -> edge commands over HTTP: how fast a fire, a manual open and a lockdown reach edges.

A real hub (uvicorn on 127.0.0.1, SQLite in a temporary folder) and three real edge
controllers with simulated readers and hardware, each on its own HTTP link and edge token,
all in this process.

1. Fire relay: gate A's fire input -> A's event through its outbox and the link -> the hub
   relays ``fire`` -> gates B and C fetch it (command poll) and hold their strikes open.
   Timed from the input to the last of B and C holding open.
2. Manual open: ``issue_command(manual_open)`` on the hub -> the edge's strike pulses.
3. Lockdown reaching an edge. Baseline, same run: the site's lockdown flag alone, which an
   HTTPS edge could only learn from its next snapshot poll (every 10 s) before commands.
4. Throughput: a burst of commands to one gate until the edge has carried all of them out.

Between samples the benchmark waits a random time, so samples fall anywhere in the edges'
poll cycles (0.5 s for commands, 10 s for snapshots).

    .venv/bin/python benchmarks/bench_edge_commands.py [--cycles 30] [--baseline 4]

Writes ``benchmarks/results/edge_commands.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import uvicorn
from sqlalchemy import update

from doorward.edge.actuators.simulated import SimulatedInput, SimulatedRelay
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware
from doorward.edge.readers.simulated import SimulatedReader
from doorward.hub.app import create_app
from doorward.hub.schemas import GateCreate
from doorward.hub.services import accounts, edge_health, gates
from doorward.hub.services.common import bump_version
from doorward.hub.services.context import HubContext
from doorward.settings import Settings
from doorward.store.models import SiteRow
from doorward.transport.http import HttpEdgeLink

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "edge_commands.json"
ADMIN = accounts.AuthUser(id="bench", username="bench", role="admin", person_id=None)
GATES = ("gate-a", "gate-b", "gate-c")


def summary(samples_s: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples_s)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return {"n": len(ms), "median_ms": statistics.median(ms), "p99_ms": p99, "max_ms": ms[-1]}


def wait(condition: Callable[[], bool], timeout: float) -> float | None:
    """Seconds until ``condition`` holds (polled every millisecond), None on timeout."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if condition():
            return time.perf_counter() - start
        time.sleep(0.001)
    return None


class Rig:
    def __init__(self, workdir: Path, port: int = 0) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
            self.port = int(sock.getsockname()[1])
        settings = Settings(environment="test", data_dir=workdir / "hub", site_id="bench",
                            port=self.port)
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.workdir = workdir
        self.edges: dict[str, tuple[EdgeController, SimulatedRelay, SimulatedInput]] = {}

    def start(self) -> None:
        self.thread.start()
        if wait(lambda: self.server.started, 30) is None:
            raise SystemExit("the hub did not start")
        for gate_id in GATES:
            gates.create_gate(self.ctx, ADMIN, GateCreate(id=gate_id, name=gate_id))
        for gate_id in GATES:
            edge_id, token = accounts.create_edge_token(self.ctx, ADMIN, gate_id)
            relay, fire = SimulatedRelay(), SimulatedInput()
            config = EdgeConfig(site_id="bench", gate_id=gate_id, edge_id=edge_id,
                                data_dir=self.workdir / "edge" / gate_id, pulse_seconds=0.05)
            link = HttpEdgeLink(f"http://127.0.0.1:{self.port}", gate_id, token)
            controller = EdgeController(config, [SimulatedReader(f"{gate_id}-r")],
                                        GateHardware(relay, fire_input=fire), link=link)
            controller.start()
            self.edges[gate_id] = (controller, relay, fire)
        if wait(lambda: all(c.snapshot_version for c, _, _ in self.edges.values()), 30) is None:
            raise SystemExit("the edges got no snapshot")

    def stop(self) -> None:
        for controller, _, _ in self.edges.values():
            controller.stop()
        self.server.should_exit = True
        self.thread.join(30)

    @property
    def ctx(self) -> HubContext:
        ctx: HubContext = self.app.state.hub
        return ctx


_RNG = random.Random(7)


def _jitter(most: float) -> None:
    """Wait a random time, so the next sample does not fall at the same point of the
    edge's poll cycle as the last one (which would fake a low or high latency)."""
    time.sleep(_RNG.uniform(0.05, most))


def _counts_above(relays: list[SimulatedRelay], action: str,
                  before: list[int]) -> Callable[[], bool]:
    return lambda: all(r.count(action) > n for r, n in zip(relays, before, strict=True))


def bench_fire(rig: Rig, cycles: int) -> dict[str, Any]:
    fire_a = rig.edges["gate-a"][2]
    others = [rig.edges[g][1] for g in ("gate-b", "gate-c")]
    samples = []
    for _ in range(cycles):
        held = [r.count("hold_open") for r in others]
        released = [r.count("release_hold") for r in others]
        fire_a.set(True)
        took = wait(_counts_above(others, "hold_open", held), 10)
        if took is not None:
            samples.append(took)
        fire_a.set(False)
        wait(_counts_above(others, "release_hold", released), 10)
        _jitter(0.7)
    return {**summary(samples), "timeouts": cycles - len(samples)}


def bench_manual_open(rig: Rig, cycles: int) -> dict[str, Any]:
    relay = rig.edges["gate-b"][1]
    samples = []
    for _ in range(cycles):
        before = relay.count("pulse")
        start = time.perf_counter()
        edge_health.issue_command(rig.ctx, ["gate-b"], "manual_open", "benchmark")
        if wait(_counts_above([relay], "pulse", [before]), 10) is not None:
            samples.append(time.perf_counter() - start)
        _jitter(0.7)
    return summary(samples)


def _flag_only(ctx: HubContext, active: bool) -> None:
    with ctx.db.write() as session:
        session.execute(update(SiteRow).where(SiteRow.id == ctx.site_id).values(lockdown=active))
        bump_version(session, ctx.site_id)


def bench_lockdown(rig: Rig, cycles: int, baseline: int) -> dict[str, Any]:
    edge = rig.edges["gate-c"][0]
    commanded, polled = [], []
    for _ in range(cycles):
        start = time.perf_counter()
        edge_health.set_lockdown(rig.ctx, "bench", True, "benchmark lockdown")
        if wait(lambda: edge.lockdown, 15) is not None:
            commanded.append(time.perf_counter() - start)
        edge_health.set_lockdown(rig.ctx, "bench", False, "benchmark release")
        wait(lambda: not edge.lockdown, 15)
        _jitter(0.7)
    for _ in range(baseline):  # the flag alone: only the 10 s snapshot poll carries it
        start = time.perf_counter()
        _flag_only(rig.ctx, True)
        if wait(lambda: edge.lockdown, 15) is not None:
            polled.append(time.perf_counter() - start)
        _flag_only(rig.ctx, False)
        wait(lambda: not edge.lockdown, 15)
        _jitter(10.0)  # land anywhere in the 10 s poll cycle
    return {"command": summary(commanded), "baseline_snapshot_poll_only": summary(polled)}


def bench_burst(rig: Rig, burst: int) -> dict[str, float]:
    relay = rig.edges["gate-a"][1]
    before = relay.count("pulse")
    start = time.perf_counter()
    edge_health.issue_command(rig.ctx, ["gate-a"] * burst, "manual_open", "burst")
    done = wait(_counts_above([relay], "pulse", [before + burst - 1]), 60)
    took = time.perf_counter() - start if done is not None else float("nan")
    return {"commands": burst, "seconds": took, "commands_per_second": burst / took}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--baseline", type=int, default=4)
    parser.add_argument("--burst", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rig = Rig(Path(tmp))
        rig.start()
        try:
            fire = bench_fire(rig, args.cycles)
            manual = bench_manual_open(rig, args.cycles)
            lockdown = bench_lockdown(rig, max(5, args.cycles // 3), args.baseline)
            burst = bench_burst(rig, args.burst)
            rss = psutil.Process().memory_info().rss / 2**20
        finally:
            rig.stop()
    result = {
        "benchmark": "edge_commands",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "database": "sqlite",
        "fire_relay_to_two_gates": fire,
        "manual_open_to_pulse": manual,
        "lockdown_to_edge": lockdown,
        "command_burst": burst,
        "process_rss_mb_hub_and_3_edges": rss,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    row = "  {:<34} median {:8.1f} ms  p99 {:8.1f} ms  (n={})"
    print("hub -> edge commands over HTTP, 3 edges, SQLite")
    print(row.format("fire at A -> B and C held open", fire["median_ms"], fire["p99_ms"],
                     fire["n"]))
    print(row.format("manual open -> strike pulse", manual["median_ms"], manual["p99_ms"],
                     manual["n"]))
    c, b = lockdown["command"], lockdown["baseline_snapshot_poll_only"]
    print(row.format("lockdown (command)", c["median_ms"], c["p99_ms"], c["n"]))
    print(row.format("baseline: lockdown via snapshot poll", b["median_ms"], b["p99_ms"],
                     b["n"]))
    print(f"  burst: {burst['commands']} commands in {burst['seconds']:.2f} s "
          f"= {burst['commands_per_second']:.0f} commands/s")
    print(f"  RSS (hub + 3 edges, one process): {rss:.0f} MB")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
