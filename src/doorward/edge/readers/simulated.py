"""A simulated reader: the demo and the tests present cards, keys and tokens to it."""

from __future__ import annotations

import queue
import threading
import time

from doorward.domain.model import CardData
from doorward.edge.readers import Feedback, KeypadBuffer, ReaderInput

__all__ = ["SimulatedReader"]


class SimulatedReader:
    """An in-memory reader. ``feedback_given`` records what the gate showed, in order."""

    def __init__(self, reader_id: str = "sim-1") -> None:
        self.reader_id = reader_id
        self.feedback_given: list[Feedback] = []
        self.is_connected = True  # tests flip this to simulate a dead reader
        self._inputs: queue.Queue[ReaderInput] = queue.Queue()
        self._keypad = KeypadBuffer()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Nothing to open: the simulated reader is always there."""

    def stop(self) -> None:
        """Nothing to close."""

    @property
    def online(self) -> bool:
        return self.is_connected

    def present_card(self, card_format: str, number: str, *, face_secret: bytes = b"") -> None:
        """``face_secret``: what a card personalised for face verification hands over."""
        card = CardData(card_format, number)
        self._inputs.put(ReaderInput(self.reader_id, "card", card=card, face_secret=face_secret))

    def type_keys(self, keys: str) -> None:
        with self._lock:
            finished = self._keypad.feed(keys, time.monotonic())
        for entry in finished:
            self._inputs.put(ReaderInput(self.reader_id, "keypad", keys=entry))

    def scan_token(self, token: str, *, face_secret: bytes = b"") -> None:
        """``face_secret``: the phone's face unlock secret, sent with its mobile-key token."""
        self._inputs.put(
            ReaderInput(self.reader_id, "token", token=token, face_secret=face_secret)
        )

    def read(self, timeout: float) -> ReaderInput | None:
        try:
            return self._inputs.get(timeout=timeout)
        except queue.Empty:
            return None

    def feedback(self, signal: Feedback) -> None:
        with self._lock:
            self.feedback_given.append(signal)
