"""Run one gate's edge daemon until a signal: shared by ``doorward edge`` and
``python -m doorward.edge`` (the lean entry point, which skips the hub's imports)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

from doorward.edge.actuators import OsdpOutputRelay, Relay
from doorward.edge.actuators.simulated import SimulatedRelay
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware
from doorward.edge.readers import Reader
from doorward.edge.readers.osdp import OsdpReader, SerialChannel, load_or_create_scbk
from doorward.edge.readers.simulated import SimulatedReader
from doorward.errors import ConfigError
from doorward.settings import Settings
from doorward.transport.http import HttpEdgeLink
from doorward.transport.link import EdgeLink
from doorward.transport.mqtt import EdgeMqttLink

__all__ = ["build_link", "build_reader", "run_edge"]


def build_reader(spec: str, data_dir: Path) -> tuple[Reader, Relay]:
    """``sim`` or ``osdp:/dev/ttyUSB0[@baud]``: the reader and the strike relay it drives."""
    if spec == "sim":
        return SimulatedReader("sim-1"), SimulatedRelay()
    if spec.startswith("osdp:"):
        device, _, baud = spec[len("osdp:") :].partition("@")
        if not device:
            raise ConfigError("--reader osdp: needs a serial device", hint="osdp:/dev/ttyUSB0")
        reader_id = Path(device).name
        scbk = load_or_create_scbk(data_dir / "readers" / f"{reader_id}.scbk")
        speed = int(baud) if baud.isdigit() else 9600
        reader = OsdpReader(reader_id, lambda: SerialChannel(device, speed), scbk)
        return reader, OsdpOutputRelay(reader)
    raise ConfigError(
        f"unknown reader {spec!r}", hint="use --reader sim or --reader osdp:/dev/ttyX"
    )


def build_link(hub: str, site_id: str, gate_id: str, token: str) -> EdgeLink:
    """An MQTT link for ``mqtt(s)://``, an HTTPS link for ``http(s)://``."""
    if hub.startswith(("mqtt://", "mqtts://")):
        return EdgeMqttLink(hub, site_id, gate_id)
    if hub.startswith(("https://", "http://")):
        if not token:
            raise ConfigError(
                "an HTTPS hub needs this edge's token",
                hint="issue one on the hub, then pass --token or set DOORWARD_EDGE_TOKEN",
            )
        return HttpEdgeLink(hub, gate_id, token)
    raise ConfigError(
        f"{hub!r} is neither an MQTT nor an HTTPS URL",
        hint="use --hub mqtt://broker:1883 or --hub https://hub.example",
    )


def run_edge(
    *,
    gate: str,
    hub: str,
    data_dir: Path | None = None,
    reader: str = "sim",
    site: str | None = None,
    token: str = "",
    echo: Callable[[str], None] = print,
) -> None:
    """Start the controller, wait for SIGINT/SIGTERM, stop it cleanly."""
    logging.basicConfig(level=os.environ.get("DOORWARD_LOG_LEVEL", "INFO"))
    settings = Settings.from_env(data_dir=data_dir, site_id=site)
    edge_dir = settings.data_dir / "edge" / gate
    the_reader, relay = build_reader(reader, edge_dir)
    link = build_link(hub, settings.site_id, gate, token)
    config = EdgeConfig(site_id=settings.site_id, gate_id=gate, data_dir=edge_dir)
    controller = EdgeController(config, [the_reader], GateHardware(relay), link=link)
    stop = threading.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in signals}
    try:
        controller.start()
        echo(
            f"edge for gate {gate} running (snapshot v{controller.snapshot_version}, "
            f"reader {reader}, hub {hub}); Ctrl-C stops it"
        )
        stop.wait()
    finally:
        controller.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    echo("edge stopped")
