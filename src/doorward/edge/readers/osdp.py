"""An OSDP reader driven through libosdp's control panel, secure channel enforced.

Each reader has its own 16-byte secure-channel base key (SCBK) made with
``secrets.token_bytes`` (libosdp's ``KeyStore.gen_key`` uses ``random``; never call it).
libosdp 3.2.9 waits 300 s, compiled in, before retrying a reader that dropped; this adapter
instead rebuilds the ``ControlPanel`` every ``retry_seconds`` while the reader is offline, so
a reader that comes back is online again within a few seconds. A reader with the wrong key
never comes online; the controller turns that into a ``reader_offline`` alarm.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import osdp

from doorward.domain.model import CardData
from doorward.edge.readers import Feedback, KeypadBuffer, ReaderInput
from doorward.errors import DeviceError, InvalidInput

__all__ = [
    "OsdpReader",
    "SerialChannel",
    "SocketChannel",
    "card_from_osdp",
    "load_or_create_scbk",
]

log = logging.getLogger(__name__)
SCBK_BYTES = 16
# OSDP keypad codes: '*' is 0x7F and '#' is 0x0D; digits are ASCII.
_KEY_CODES = {0x7F: "*", 0x0D: "#"}
_LED_COLOURS = {
    Feedback.GRANTED: osdp.CommandLEDColor.Green,
    Feedback.DENIED: osdp.CommandLEDColor.Red,
    Feedback.ALARM: osdp.CommandLEDColor.Red,
}


def load_or_create_scbk(path: Path) -> bytes:
    """The reader's SCBK, made once with ``secrets`` and kept owner-readable only."""
    if path.exists():
        key = bytes.fromhex(path.read_text().strip())
        if len(key) != SCBK_BYTES:
            raise DeviceError(
                f"the reader key in {path} is not {SCBK_BYTES} bytes",
                hint="delete the file to make a new key, then re-pair the reader in install mode",
            )
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(SCBK_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    return key


#: Longest card read accepted: 256 bits covers every Wiegand and 128-bit card format in use.
MAX_CARD_BITS = 256


def card_from_osdp(event: dict[str, Any]) -> CardData:
    """A Wiegand read becomes ``wiegand<bits>`` and the bits as a decimal number.

    The read comes from a device on the wire, so it is untrusted: an empty, negative or
    oversized read is refused with InvalidInput rather than becoming a card number.
    """
    try:
        data = bytes(event.get("data", b""))
        bits = int(event.get("length", 0)) or len(data) * 8
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"unreadable card data from the reader: {exc}") from exc
    if not data or bits <= 0 or bits > len(data) * 8 or bits > MAX_CARD_BITS:
        raise InvalidInput(
            f"refused a card read of {bits} bits in {len(data)} bytes",
            hint=f"a card read carries 1 to {MAX_CARD_BITS} bits; check the reader's wiring",
        )
    value = int.from_bytes(data, "big") >> (len(data) * 8 - bits)
    return CardData(f"wiegand{bits}", str(value))


class SocketChannel(osdp.Channel):  # type: ignore[misc]
    """A non-blocking OSDP channel over a socket (a socketpair in tests, or a TCP bridge)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self.sock = sock
        sock.setblocking(False)

    def read(self, max_bytes: int) -> bytes:
        try:
            return self.sock.recv(max_bytes)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            return b""

    def write(self, buf: bytes) -> int:
        try:
            return self.sock.send(buf)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            return 0

    def flush(self) -> None:
        """Sockets have nothing to flush."""


class SerialChannel(osdp.Channel):  # type: ignore[misc]
    """A non-blocking RS-485 serial port (8N1) opened with the standard library."""

    def __init__(self, device: str, baud: int = 9600) -> None:
        super().__init__()
        speed = getattr(termios, f"B{baud}", None)
        if speed is None:
            raise DeviceError(f"unsupported baud rate {baud}", hint="use 9600, 19200 or 115200")
        try:
            self.fd = os.open(device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            attrs = termios.tcgetattr(self.fd)
        except OSError as exc:
            raise DeviceError(
                f"cannot open the reader's serial port {device}: {exc.strerror}",
                hint="check the device path and that this user is in the 'dialout' group",
            ) from exc
        except termios.error as exc:
            os.close(self.fd)
            raise DeviceError(
                f"{device} is not a serial port", hint="use /dev/ttyUSB0 or similar"
            ) from exc
        attrs[0] = 0  # iflag: raw
        attrs[1] = 0  # oflag: raw
        attrs[2] = termios.CS8 | termios.CREAD | termios.CLOCAL
        attrs[3] = 0  # lflag: raw
        attrs[4] = attrs[5] = speed
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)

    def read(self, max_bytes: int) -> bytes:
        try:
            return os.read(self.fd, max_bytes)
        except (BlockingIOError, InterruptedError):
            return b""

    def write(self, buf: bytes) -> int:
        try:
            return os.write(self.fd, buf)
        except (BlockingIOError, InterruptedError):
            return 0

    def flush(self) -> None:
        termios.tcdrain(self.fd)

    def close(self) -> None:
        os.close(self.fd)


class OsdpReader:
    """One OSDP reader (a PD) behind its own control panel, supervised for reconnection."""

    def __init__(
        self,
        reader_id: str,
        channel_factory: Callable[[], osdp.Channel],
        scbk: bytes,
        *,
        address: int = 101,
        retry_seconds: float = 2.0,
        log_level: int = osdp.LogLevel.Emergency,
    ) -> None:
        if len(scbk) != SCBK_BYTES:
            raise DeviceError(f"an OSDP secure-channel key is {SCBK_BYTES} bytes, got {len(scbk)}")
        self.reader_id = reader_id
        self.address = address
        self.retry_seconds = retry_seconds
        self.panels_created = 0
        self._channel_factory = channel_factory
        self._scbk = scbk
        self._log_level = log_level
        self._cp: osdp.ControlPanel | None = None
        self._cp_created = 0.0
        self._channel: osdp.Channel | None = None
        self._cp_lock = threading.Lock()
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._online = False
        self._keypad = KeypadBuffer()
        self._pending: list[ReaderInput] = []

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        try:
            self._open_panel()
        except DeviceError as exc:
            # Start anyway: the gate keeps its other readers, and the supervisor retries
            # (the controller raises reader_offline if this one never comes up).
            log.warning(
                "reader %s: %s; retrying every %.0f s", self.reader_id, exc, self.retry_seconds
            )
            self._cp_created = time.monotonic()
        self._supervisor = threading.Thread(
            target=self._supervise, name=f"osdp-{self.reader_id}", daemon=True
        )
        self._supervisor.start()

    def stop(self) -> None:
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(5)
            self._supervisor = None
        with self._cp_lock:
            self._close_panel()
        self._online = False

    @property
    def online(self) -> bool:
        """True once the secure channel is up; a plain-text link never counts."""
        return self._online

    # -- input ---------------------------------------------------------------------------
    def read(self, timeout: float) -> ReaderInput | None:
        deadline = time.monotonic() + timeout
        while True:
            if self._pending:
                return self._pending.pop(0)
            cp = self._cp
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if cp is None:
                time.sleep(min(remaining, 0.05))
                continue
            event = cp.get_event(self.address, timeout=min(remaining, 0.2))
            if event is not None:
                self._pending.extend(self._translate(event))

    def _translate(self, event: dict[str, Any]) -> list[ReaderInput]:
        kind = event.get("event")
        if kind == osdp.Event.CardRead:
            if event.get("format") == osdp.CardFormat.ASCII:
                token = bytes(event.get("data", b"")).decode("ascii", "replace").strip()
                return [ReaderInput(self.reader_id, "token", token=token)]
            try:
                card = card_from_osdp(event)
            except InvalidInput as exc:  # garbage on the wire: ignore the read, keep the reader
                log.warning("reader %s: %s", self.reader_id, exc.message)
                return []
            return [ReaderInput(self.reader_id, "card", card=card)]
        if kind == osdp.Event.KeyPress:
            keys = "".join(_KEY_CODES.get(b, chr(b)) for b in bytes(event.get("data", b"")))
            finished = self._keypad.feed(keys, time.monotonic())
            return [ReaderInput(self.reader_id, "keypad", keys=entry) for entry in finished]
        return []

    # -- output --------------------------------------------------------------------------
    def feedback(self, signal: Feedback) -> None:
        colour = _LED_COLOURS[signal]
        self._submit(
            {
                "command": osdp.Command.LED,
                "reader": 0,
                "led_number": 0,
                "control_code": 2,
                "on_count": 5 if signal is Feedback.ALARM else 10,
                "off_count": 5 if signal is Feedback.ALARM else 0,
                "on_color": colour,
                "off_color": osdp.CommandLEDColor.Black,
                "timer_count": 20,
                "temporary": True,
            }
        )
        beeps = {Feedback.GRANTED: (1, 1, 1), Feedback.DENIED: (5, 1, 1), Feedback.ALARM: (2, 2, 5)}
        on, off, repeat = beeps[signal]
        self._submit(
            {
                "command": osdp.Command.Buzzer,
                "reader": 0,
                "control_code": 2,
                "on_count": on,
                "off_count": off,
                "rep_count": repeat,
            }
        )

    def set_output(self, output_no: int, on: bool, seconds: float = 0.0) -> None:
        """Drive the reader's output (door strike): timed pulse, permanent on, or off."""
        if on and seconds > 0:
            command = {"control_code": 2, "timer_count": max(1, round(seconds * 10))}
        else:
            command = {"control_code": 4 if on else 3, "timer_count": 0}
        self._submit({"command": osdp.Command.Output, "output_no": output_no, **command})

    def _submit(self, command: dict[str, Any]) -> None:
        with self._cp_lock:
            cp = self._cp
            if cp is None or not self._online:
                raise DeviceError(
                    f"reader {self.reader_id} is offline; command not sent",
                    hint="check the reader's wiring, power and secure-channel key",
                )
            try:
                ok = cp.submit_command(self.address, command)
            except (RuntimeError, ValueError, TypeError, KeyError) as exc:
                raise DeviceError(f"reader {self.reader_id} refused a command: {exc}") from exc
        if ok is False:
            raise DeviceError(f"reader {self.reader_id} did not queue the command")

    # -- supervision ---------------------------------------------------------------------
    def _open_panel(self) -> None:
        channel = self._channel_factory()  # raises DeviceError if the port cannot open
        info = osdp.PDInfo(
            self.address,
            channel,
            scbk=self._scbk,
            name=self.reader_id,
            flags=[osdp.LibFlag.EnforceSecure],
        )
        try:
            cp = osdp.ControlPanel([info], log_level=self._log_level)
            cp.start()
        except (RuntimeError, ValueError, TypeError) as exc:
            raise DeviceError(f"cannot start the OSDP control panel: {exc}") from exc
        self._cp = cp
        self._cp_created = time.monotonic()
        self.panels_created += 1
        self._channel = channel

    def _close_panel(self) -> None:
        cp, self._cp = self._cp, None
        if cp is not None:
            cp.stop()
        channel, self._channel = self._channel, None
        close = getattr(channel, "close", None)
        if callable(close):  # a serial port is reopened with the next panel
            close()

    def _supervise(self) -> None:
        while not self._stop.wait(0.1):
            with self._cp_lock:
                cp = self._cp
                online = bool(
                    cp is not None and cp.is_online(self.address) and cp.is_sc_active(self.address)
                )
                self._online = online
                if online:
                    continue
                if time.monotonic() - self._cp_created >= self.retry_seconds:
                    # libosdp would wait 300 s before polling a dropped reader again.
                    self._close_panel()
                    try:
                        self._open_panel()
                    except DeviceError as exc:  # e.g. the serial adapter was unplugged
                        log.warning("reader %s: %s; retrying", self.reader_id, exc)
                        self._cp_created = time.monotonic()
