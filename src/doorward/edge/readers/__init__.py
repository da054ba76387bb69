"""Readers: the seam between a gate's credential reader and the edge controller.

A reader hands the controller one :class:`ReaderInput` at a time (a card, a finished keypad
entry, or a scanned token) through :meth:`Reader.read`, and takes :class:`Feedback` back
(LED and buzzer). ``osdp.OsdpReader`` drives a real OSDP reader through libosdp;
``simulated.SimulatedReader`` is the fake for the demo and tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable

from doorward.domain import model as m
from doorward.domain.model import CardData

__all__ = ["Feedback", "KeypadBuffer", "Reader", "ReaderInput", "to_access_request"]

_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=")

InputKind = Literal["card", "keypad", "token"]


@dataclass(frozen=True, slots=True)
class ReaderInput:
    """One presentation at a reader.

    ``card`` for a card or fob; ``keys`` for a finished keypad entry (``"<pin id>*<pin>"``
    for a PIN, digits alone for a pass short code); ``token`` for a scanned mobile key or
    pass QR payload.
    """

    reader_id: str
    kind: InputKind
    card: CardData | None = None
    keys: str = ""
    token: str = ""
    # Face unlock secret the phone or card hands over with the credential (face gates only);
    # it opens that credential's sealed template and is never stored or logged.
    face_secret: bytes = field(default=b"", repr=False)


class Feedback(StrEnum):
    GRANTED = "granted"  # green LED, short beep
    DENIED = "denied"  # red LED, long beep
    ALARM = "alarm"  # red flashing, repeated beeps


@runtime_checkable
class Reader(Protocol):
    """What the controller needs from a reader. ``read`` is the one call it loops on."""

    reader_id: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def read(self, timeout: float) -> ReaderInput | None:
        """Wait up to ``timeout`` seconds for the next presentation."""
        ...

    def feedback(self, signal: Feedback) -> None: ...

    @property
    def online(self) -> bool: ...


class KeypadBuffer:
    """Collects keystrokes until ``#``; ``*`` separates a PIN id from the PIN.

    Letters are kept for keyboards that can type a visitor's pass code.

    A half-typed entry is dropped after ``idle_seconds`` so the next person starts clean.
    """

    def __init__(self, idle_seconds: float = 10.0) -> None:
        self.idle_seconds = idle_seconds
        self._keys: list[str] = []
        self._last = 0.0

    def feed(self, keys: str, now: float) -> list[str]:
        """Add keystrokes seen at monotonic time ``now``; return the entries they finished."""
        if self._keys and now - self._last > self.idle_seconds:
            self._keys.clear()
        self._last = now
        finished: list[str] = []
        for key in keys:
            if key == "#":
                if self._keys:
                    finished.append("".join(self._keys))
                self._keys.clear()
            elif key.isalnum() or key == "*":
                self._keys.append(key)
        return finished


def to_access_request(gate_id: str, presented: ReaderInput) -> m.AccessRequest:
    """Map a reader's input onto the domain's request. Keypad: ``id*pin`` or a pass code."""
    gate, reader = gate_id, presented.reader_id
    kinds = m.CredentialKind
    if presented.kind == "card":
        return m.AccessRequest(gate, reader, kinds.CARD, card=presented.card)
    if presented.kind == "keypad":
        if "*" in presented.keys:
            pin_id, _, pin = presented.keys.partition("*")
            return m.AccessRequest(gate, reader, kinds.PIN, pin_id=pin_id, pin=pin)
        return m.AccessRequest(gate, reader, kinds.VISITOR_PASS, pass_code=presented.keys)
    # Pass QR payloads are base32 (upper case); mobile keys are base64url (mixed case).
    if presented.token and set(presented.token) <= _BASE32:
        return m.AccessRequest(gate, reader, kinds.VISITOR_PASS, token=presented.token)
    return m.AccessRequest(gate, reader, kinds.MOBILE, token=presented.token)
