"""The edge controller: card-to-strike latency over OSDP, event round trip over MQTT, RSS.

1. Card read -> strike command through OSDP in one process: a libosdp PeripheralDevice
   (the virtual reader) sends a Wiegand read over a socketpair with the secure channel on;
   the edge decides, commits the event to its outbox and commands the output. Timed from
   the PD's ``submit_event`` to the PD receiving the output command. Baseline, same run: a
   bare control panel that answers every card read with the output command at once (no
   decision, no outbox), i.e. the OSDP polling floor.
2. Event round trip edge -> Mosquitto -> HubMqttBridge (in-memory ingest) -> ack back at the
   edge, one event per batch. Baseline: a raw paho QoS 1 publish echoed by a raw subscriber.
   Throughput: a burst of events through controller + outbox + uplink until the outbox is
   empty again.
3. RSS of a real ``doorward edge`` daemon process (simulated reader, MQTT link) after start.

    .venv/bin/python benchmarks/bench_edge.py [--reads 100] [--round-trips 200] [--burst 2000]

Needs Mosquitto on 127.0.0.1:1883. Writes ``benchmarks/results/edge.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import osdp
import paho.mqtt.client as paho
import psutil
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' Site fixture builds a realistic snapshot

from tests.edge.conftest import CARD, Gate, Site  # noqa: E402

from doorward.domain.model import CardData  # noqa: E402
from doorward.edge.actuators import OsdpOutputRelay  # noqa: E402
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware  # noqa: E402
from doorward.edge.readers import ReaderInput  # noqa: E402
from doorward.edge.readers.osdp import OsdpReader, SocketChannel  # noqa: E402
from doorward.transport.link import LinkHandlers  # noqa: E402
from doorward.transport.messages import EventBatch, EventMessage, IngestAck  # noqa: E402
from doorward.transport.mqtt import EdgeMqttLink, HubMqttBridge  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "edge.json"
BROKER = "mqtt://127.0.0.1:1883"


def summary(samples_s: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples_s)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return {"n": len(ms), "median_ms": statistics.median(ms), "p99_ms": p99, "max_ms": ms[-1]}


class VirtualReader:
    """A libosdp PD that timestamps the output commands it receives."""

    def __init__(self, sock: socket.socket, scbk: bytes) -> None:
        caps = osdp.PDCapabilities(
            [
                (osdp.Capability.OutputControl, 1, 1),
                (osdp.Capability.LEDControl, 1, 1),
                (osdp.Capability.AudibleControl, 1, 1),
            ]
        )
        info = osdp.PDInfo(101, SocketChannel(sock), scbk=scbk, flags=[osdp.LibFlag.EnforceSecure])
        self.output_at = threading.Event()
        self.output_time = 0.0
        self.pd = osdp.PeripheralDevice(
            info, caps, log_level=osdp.LogLevel.Emergency, command_handler=self._command
        )
        self.pd.start()

    def _command(self, command: dict[str, Any]) -> tuple[int, None]:
        if command.get("command") == osdp.Command.Output:
            self.output_time = time.perf_counter()
            self.output_at.set()
        return 0, None

    def swipe_and_time(self, number: int) -> float | None:
        self.output_at.clear()
        data = (number << 6).to_bytes(4, "big")  # 26 bits, left-aligned in 4 bytes
        started = time.perf_counter()
        self.pd.submit_event(
            {
                "event": osdp.Event.CardRead,
                "reader_no": 0,
                "format": osdp.CardFormat.Wiegand,
                "direction": 0,
                "length": 26,
                "data": data,
            }
        )
        if not self.output_at.wait(2.0):
            return None
        return self.output_time - started

    def drain(self) -> None:
        while self.pd.get_command(timeout=0) is not None:
            pass


def wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def bench_osdp(reads: int, workdir: Path) -> dict[str, Any]:
    site = Site()
    scbk = secrets.token_bytes(16)
    cp_sock, pd_sock = socket.socketpair()
    virtual = VirtualReader(pd_sock, scbk)
    reader = OsdpReader("r1", lambda: SocketChannel(cp_sock), scbk)
    config = EdgeConfig(site_id=site.site_id, gate_id=site.gate_id, data_dir=workdir / "osdp")
    controller = EdgeController(config, [reader], GateHardware(OsdpOutputRelay(reader)))
    controller.start()
    controller.apply_snapshot(site.full_snapshot())
    samples: list[float] = []
    try:
        if not wait(lambda: reader.online, 10):
            raise SystemExit("the virtual OSDP reader never came online")
        for _ in range(reads):
            taken = virtual.swipe_and_time(int(CARD[1]))
            if taken is not None:
                samples.append(taken)
            time.sleep(0.3)  # the LED and buzzer commands go out before the next person
            virtual.drain()
    finally:
        controller.stop()
        virtual.pd.stop()
    # Baseline: the same link with a control panel that opens on every read, no edge logic.
    cp_sock.close()
    pd_sock.close()
    cp_sock, pd_sock = socket.socketpair()
    virtual = VirtualReader(pd_sock, scbk)
    output = {"command": osdp.Command.Output, "output_no": 0, "control_code": 2, "timer_count": 50}
    info = osdp.PDInfo(101, SocketChannel(cp_sock), scbk=scbk, flags=[osdp.LibFlag.EnforceSecure])
    holder: dict[str, osdp.ControlPanel] = {}

    def on_event(_pd: int, event: dict[str, Any]) -> int:
        if event.get("event") == osdp.Event.CardRead:
            holder["cp"].ctx.submit_command(0, output)  # called under the CP's own lock
        return 0

    cp = osdp.ControlPanel([info], log_level=osdp.LogLevel.Emergency, event_handler=on_event)
    holder["cp"] = cp
    cp.start()
    baseline: list[float] = []
    try:
        wait(lambda: cp.is_online(101) and cp.is_sc_active(101), 10)
        for _ in range(reads):
            taken = virtual.swipe_and_time(int(CARD[1]))
            if taken is not None:
                baseline.append(taken)
            time.sleep(0.3)
            virtual.drain()
    finally:
        cp.stop()
        virtual.pd.stop()
        cp_sock.close()
        pd_sock.close()
    return {
        "edge": summary(samples),
        "baseline_bare_control_panel": summary(baseline),
        "missed_edge": reads - len(samples),
        "missed_baseline": reads - len(baseline),
    }


def bench_reconnect(workdir: Path) -> dict[str, float | None]:
    """Seconds from a dropped reader's return to online, with panel replacement (2 s)."""
    scbk = secrets.token_bytes(16)
    cp_sock, pd_sock = socket.socketpair()
    virtual = VirtualReader(pd_sock, scbk)
    reader = OsdpReader("r1", lambda: SocketChannel(cp_sock), scbk)
    reader.start()
    try:
        wait(lambda: reader.online, 10)
        virtual.pd.stop()
        dropped = time.perf_counter()
        wait(lambda: not reader.online, 20)
        noticed = time.perf_counter() - dropped
        virtual = VirtualReader(pd_sock, scbk)
        back = time.perf_counter()
        returned = wait(lambda: reader.online, 30)
        back_after = time.perf_counter() - back if returned else None
    finally:
        reader.stop()
        virtual.pd.stop()
        cp_sock.close()
        pd_sock.close()
    return {"drop_noticed_s": noticed, "back_online_s": back_after, "libosdp_own_retry_s": 300.0}


def bench_mqtt(round_trips: int, burst: int, workdir: Path) -> dict[str, Any]:
    site = Site()
    ingested: set[str] = set()

    def ingest(batch: EventBatch) -> IngestAck:
        ids = [e.event_id for e in batch.events]
        fresh = [i for i in ids if i not in ingested]
        ingested.update(ids)
        return IngestAck(accepted=fresh, duplicates=[i for i in ids if i not in fresh])

    bridge = HubMqttBridge(BROKER, site.site_id, ingest)
    bridge.start()
    bridge.wait_connected(5)
    acked = threading.Event()
    link = EdgeMqttLink(BROKER, site.site_id, site.gate_id)
    link.start(LinkHandlers(on_ack=lambda ack: acked.set()))
    link.wait_connected(5)
    time.sleep(0.3)  # subscriptions settle
    samples = []
    for n in range(round_trips):
        event = EventMessage(
            event_id=secrets.token_hex(16),
            site_id=site.site_id,
            gate_id=site.gate_id,
            kind="access",
            occurred_at=datetime.now(UTC),
            edge_seq=n,
            outcome="granted",
        )
        acked.clear()
        started = time.perf_counter()
        link.send_events(EventBatch(edge_id="bench", events=[event]))
        if acked.wait(5):
            samples.append(time.perf_counter() - started)
    link.stop()

    # Throughput through the whole edge: decide, outbox commit, uplink batches, hub acks.
    gate = Gate(site, workdir / "mqtt", link=EdgeMqttLink(BROKER, site.site_id, site.gate_id))
    gate.controller.start()
    gate.controller.apply_snapshot(site.full_snapshot())
    outbox = gate.controller.outbox
    assert outbox is not None
    wait(lambda: outbox.depth() == 0, 10)
    started = time.perf_counter()
    for _ in range(burst):
        gate.controller.handle_input(ReaderInput("r1", "card", card=CardData(*CARD)))
    decided = time.perf_counter() - started
    drained = wait(lambda: outbox.depth() == 0, 120)
    total = time.perf_counter() - started
    gate.controller.stop()
    bridge.stop()
    return {
        "edge_to_hub_ack": summary(samples),
        "baseline_raw_paho_echo": bench_raw_paho(round_trips),
        "burst_events": burst,
        "burst_decided_per_s": burst / decided,
        "burst_acked_per_s": burst / total if drained else None,
    }


def bench_raw_paho(round_trips: int) -> dict[str, float]:
    prefix = f"bench/{secrets.token_hex(4)}"
    got = threading.Event()
    echo = paho.Client(CallbackAPIVersion.VERSION2)
    sender = paho.Client(CallbackAPIVersion.VERSION2)
    echo.on_message = lambda c, u, m: c.publish(f"{prefix}/back", m.payload, qos=1)
    sender.on_message = lambda c, u, m: got.set()
    for client in (echo, sender):
        client.connect("127.0.0.1", 1883)
        client.loop_start()
    echo.subscribe(f"{prefix}/out", qos=1)
    sender.subscribe(f"{prefix}/back", qos=1)
    time.sleep(0.3)
    samples = []
    payload = b"x" * 300  # about one serialized event
    for _ in range(round_trips):
        got.clear()
        started = time.perf_counter()
        sender.publish(f"{prefix}/out", payload, qos=1)
        if got.wait(5):
            samples.append(time.perf_counter() - started)
    for client in (echo, sender):
        client.disconnect()
        client.loop_stop()
    return summary(samples)


def daemon_rss(workdir: Path, entry: list[str]) -> float:
    """RSS in MiB of a real edge daemon (simulated reader, MQTT link) 3 s after start."""
    command = [
        sys.executable,
        *entry,
        "--gate",
        "rss",
        "--hub",
        BROKER,
        "--data-dir",
        str(workdir / "daemon"),
        "--site",
        f"bench-{secrets.token_hex(3)}",
    ]
    env = {**os.environ, "DOORWARD_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        time.sleep(3)
        rss = psutil.Process(proc.pid).memory_info().rss / 2**20
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
    return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=60)
    parser.add_argument("--round-trips", type=int, default=200)
    parser.add_argument("--burst", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        osdp_result = bench_osdp(args.reads, workdir)
        osdp_result["reconnect"] = bench_reconnect(workdir)
        mqtt_result = bench_mqtt(args.round_trips, args.burst, workdir)
        rss = {
            "python_m_doorward_edge_rss_mb": daemon_rss(workdir, ["-m", "doorward.edge"]),
            "doorward_edge_cli_rss_mb": daemon_rss(
                workdir, ["-c", "from doorward.cli import main; main()", "edge"]
            ),
            "target_mb": 80.0,
        }
    result = {
        "benchmark": "edge",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "card_to_strike_osdp": osdp_result,
        "event_round_trip_mqtt": mqtt_result,
        "edge_daemon": rss,
        "bench_process_rss_mb": psutil.Process().memory_info().rss / 2**20,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    o, q = osdp_result, mqtt_result
    print("card read -> strike command over OSDP (secure channel), ms")
    print(
        f"  edge              median {o['edge']['median_ms']:7.1f}  p99 {o['edge']['p99_ms']:7.1f}"
    )
    b = o["baseline_bare_control_panel"]
    print(f"  bare CP baseline  median {b['median_ms']:7.1f}  p99 {b['p99_ms']:7.1f}")
    rc = o["reconnect"]
    print(
        f"  reader drop noticed after {rc['drop_noticed_s']:.1f} s; back online "
        f"{rc['back_online_s']} s after it returned (libosdp alone: 300 s)"
    )
    e, r = q["edge_to_hub_ack"], q["baseline_raw_paho_echo"]
    print("event -> Mosquitto -> hub bridge -> ack back at the edge, ms")
    print(f"  edge link         median {e['median_ms']:7.2f}  p99 {e['p99_ms']:7.2f}")
    print(f"  raw paho echo     median {r['median_ms']:7.2f}  p99 {r['p99_ms']:7.2f}")
    print(
        f"burst of {q['burst_events']}: decided {q['burst_decided_per_s']:.0f}/s, "
        f"acked by the hub {q['burst_acked_per_s'] or 0:.0f}/s"
    )
    print(
        f"edge daemon RSS: python -m doorward.edge {rss['python_m_doorward_edge_rss_mb']:.1f} MB, "
        f"doorward edge (whole CLI imported) {rss['doorward_edge_cli_rss_mb']:.1f} MB "
        "(target <= 80 MB)"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
