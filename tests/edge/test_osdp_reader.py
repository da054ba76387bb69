"""A real OSDP peer: libosdp's PeripheralDevice as a virtual reader over a socketpair.

The secure channel is enforced on both sides with a per-reader key from ``secrets``.
"""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import osdp
import pytest

from doorward.edge.actuators import OsdpOutputRelay
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware
from doorward.edge.readers.osdp import (
    OsdpReader,
    SerialChannel,
    SocketChannel,
    load_or_create_scbk,
)

from .conftest import CARD, PIN, PIN_ID, Site

ADDRESS = 101


class VirtualReader:
    """The reader side of the link: a libosdp PD on one end of a socketpair."""

    def __init__(self, sock: socket.socket, scbk: bytes) -> None:
        caps = osdp.PDCapabilities(
            [
                (osdp.Capability.OutputControl, 1, 1),
                (osdp.Capability.LEDControl, 1, 1),
                (osdp.Capability.AudibleControl, 1, 1),
            ]
        )
        info = osdp.PDInfo(
            ADDRESS, SocketChannel(sock), scbk=scbk, flags=[osdp.LibFlag.EnforceSecure]
        )
        self.pd = osdp.PeripheralDevice(info, caps, log_level=osdp.LogLevel.Emergency)
        self.pd.start()

    def wait_secure(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pd.is_online() and self.pd.is_sc_active():
                return True
            time.sleep(0.05)
        return False

    def swipe(self, number: int, bits: int = 26) -> None:
        data = (number << (32 - bits)).to_bytes(4, "big")
        self.pd.submit_event(
            {
                "event": osdp.Event.CardRead,
                "reader_no": 0,
                "format": osdp.CardFormat.Wiegand,
                "direction": 0,
                "length": bits,
                "data": data,
            }
        )

    def press(self, keys: bytes) -> None:
        self.pd.submit_event({"event": osdp.Event.KeyPress, "reader_no": 0, "data": keys})

    def commands(self, timeout: float) -> list[dict[str, object]]:
        received = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            command = self.pd.get_command(timeout=0.1)
            if command is not None:
                received.append(command)
        return received

    def stop(self) -> None:
        self.pd.stop()


class Link:
    def __init__(self, tmp_path: Path, pd_key: bytes | None = None) -> None:
        self.cp_sock, self.pd_sock = socket.socketpair()
        self.scbk = load_or_create_scbk(tmp_path / "readers" / "r1.scbk")
        self.virtual = VirtualReader(self.pd_sock, pd_key or self.scbk)
        self.reader = OsdpReader("r1", lambda: SocketChannel(self.cp_sock), self.scbk)

    def close(self) -> None:
        self.virtual.stop()
        self.cp_sock.close()
        self.pd_sock.close()


@pytest.fixture
def link(tmp_path: Path) -> Iterator[Link]:
    made = Link(tmp_path)
    try:
        yield made
    finally:
        made.close()


def start_edge(site: Site, tmp_path: Path, reader: OsdpReader) -> EdgeController:
    config = EdgeConfig(
        site_id=site.site_id,
        gate_id=site.gate_id,
        data_dir=tmp_path / "edge",
        reader_offline_alarm_seconds=1.5,
    )
    controller = EdgeController(config, [reader], GateHardware(OsdpOutputRelay(reader)))
    controller.start()
    controller.apply_snapshot(site.full_snapshot())
    return controller


def wait_online(reader: OsdpReader, timeout: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if reader.online:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def test_scbk_is_random_per_reader_and_private(tmp_path: Path) -> None:
    first = load_or_create_scbk(tmp_path / "a.scbk")
    assert load_or_create_scbk(tmp_path / "a.scbk") == first
    assert load_or_create_scbk(tmp_path / "b.scbk") != first
    assert len(first) == 16
    assert (tmp_path / "a.scbk").stat().st_mode & 0o077 == 0


def test_card_read_drives_the_strike_over_the_secure_channel(
    link: Link, site: Site, tmp_path: Path
) -> None:
    controller = start_edge(site, tmp_path, link.reader)
    try:
        assert wait_online(link.reader, 5) is not None
        assert link.virtual.wait_secure()
        link.virtual.swipe(int(CARD[1]))
        received = link.virtual.commands(timeout=1.5)
        outputs = [c for c in received if c["command"] == osdp.Command.Output]
        leds = [c for c in received if c["command"] == osdp.Command.LED]
        assert outputs and outputs[0]["control_code"] == 2 and outputs[0]["timer_count"] == 50
        assert leds and leds[0]["on_color"] == osdp.CommandLEDColor.Green
        link.virtual.swipe(7654321)  # not enrolled: red LED, no strike
        received = link.virtual.commands(timeout=1.0)
        assert not [c for c in received if c["command"] == osdp.Command.Output]
        assert [c["on_color"] for c in received if c["command"] == osdp.Command.LED] == [
            osdp.CommandLEDColor.Red
        ]
    finally:
        controller.stop()
    assert link.reader.online is False


def test_keypad_pin_over_osdp(link: Link, site: Site, tmp_path: Path) -> None:
    controller = start_edge(site, tmp_path, link.reader)
    try:
        assert wait_online(link.reader, 5) is not None
        link.virtual.press(PIN_ID.encode() + b"\x7f")
        link.virtual.press(PIN.encode() + b"\x0d")
        received = link.virtual.commands(timeout=2.0)
        assert [c for c in received if c["command"] == osdp.Command.Output]
        assert controller.outbox is not None
        outcomes = [e.outcome for e in controller.outbox.pending() if e.kind == "access"]
        assert outcomes == ["granted"]
    finally:
        controller.stop()


def test_wrong_key_never_comes_online_and_alarms(site: Site, tmp_path: Path) -> None:
    wrong = Link(tmp_path, pd_key=secrets.token_bytes(16))
    controller = start_edge(site, tmp_path, wrong.reader)
    try:
        wrong.virtual.swipe(int(CARD[1]))
        assert wait_online(wrong.reader, 3.0) is None
        assert controller.outbox is not None
        events = controller.outbox.pending()
        assert [e.alarm for e in events if e.kind == "alarm"] == ["reader_offline"]
        assert not [e for e in events if e.kind == "access"]
    finally:
        controller.stop()
        wrong.close()


@pytest.mark.slow
def test_dropped_reader_is_back_within_5_seconds(link: Link, site: Site, tmp_path: Path) -> None:
    link.reader.start()
    try:
        assert wait_online(link.reader, 5) is not None
        link.virtual.stop()  # power cut at the reader
        deadline = time.monotonic() + 15
        while link.reader.online and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not link.reader.online, "the control panel never noticed the drop"
        link.virtual = VirtualReader(link.pd_sock, link.scbk)  # power back
        back_after = wait_online(link.reader, 5.0)
        assert back_after is not None, "the reader did not return within 5 s"
        assert link.reader.panels_created >= 2
    finally:
        link.reader.stop()


def test_missing_serial_port_starts_offline_and_alarms(site: Site, tmp_path: Path) -> None:
    scbk = load_or_create_scbk(tmp_path / "k.scbk")
    reader = OsdpReader(
        "ttyGONE", lambda: SerialChannel("/dev/does-not-exist"), scbk, retry_seconds=0.3
    )
    controller = start_edge(site, tmp_path, reader)
    try:
        time.sleep(2.0)
        assert not reader.online
        assert controller.outbox is not None
        alarms = [e for e in controller.outbox.pending() if e.kind == "alarm"]
        assert [(e.alarm, e.detail) for e in alarms] == [("reader_offline", {"reader": "ttyGONE"})]
    finally:
        controller.stop()


def test_serial_channel_talks_osdp_over_a_pty(site: Site, tmp_path: Path) -> None:
    """A pseudo-terminal stands in for the RS-485 adapter: the real termios code path."""
    import os

    master, slave = os.openpty()
    slave_path = os.ttyname(slave)
    scbk = load_or_create_scbk(tmp_path / "pty.scbk")

    class MasterChannel(osdp.Channel):
        def read(self, max_bytes: int) -> bytes:
            try:
                return os.read(master, max_bytes)
            except (BlockingIOError, OSError):
                return b""

        def write(self, buf: bytes) -> int:
            return os.write(master, buf)

        def flush(self) -> None:
            pass

    os.set_blocking(master, False)
    caps = osdp.PDCapabilities([(osdp.Capability.OutputControl, 1, 1)])
    info = osdp.PDInfo(ADDRESS, MasterChannel(), scbk=scbk, flags=[osdp.LibFlag.EnforceSecure])
    pd = osdp.PeripheralDevice(info, caps, log_level=osdp.LogLevel.Emergency)
    pd.start()
    reader = OsdpReader("pty", lambda: SerialChannel(slave_path, 115200), scbk)
    reader.start()
    try:
        assert wait_online(reader, 5) is not None
        OsdpOutputRelay(reader).pulse(2.0)
        command = pd.get_command(timeout=2)
        assert command is not None and command["command"] == osdp.Command.Output
        assert command["timer_count"] == 20
    finally:
        reader.stop()
        pd.stop()
        os.close(master)
        os.close(slave)
