"""Gate hardware seams: the strike relay and the binary inputs beside a gate.

``Relay`` drives a door strike or turnstile release; ``BinaryInput`` is a door contact,
request-to-exit button or fire-alarm input; ``PassageCounter`` is a beam counter that reports
each person passing. The simulated implementations in :mod:`.simulated` stand in for the
hardware in the demo and tests; :class:`OsdpOutputRelay` drives the output of an OSDP reader.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["BinaryInput", "OsdpOutputRelay", "PassageCounter", "Relay"]


@runtime_checkable
class Relay(Protocol):
    """A strike or turnstile release. Unpowered means locked (fail-secure)."""

    def pulse(self, seconds: float) -> None:
        """Release for ``seconds``, then lock again by itself."""
        ...

    def hold_open(self) -> None:
        """Release until :meth:`release_hold` (fire egress, manual override)."""
        ...

    def release_hold(self) -> None: ...


@runtime_checkable
class BinaryInput(Protocol):
    """A contact, button or alarm line. ``active`` is True for open / pressed / alarm."""

    @property
    def active(self) -> bool: ...

    def subscribe(self, callback: Callable[[bool], None]) -> None: ...


@runtime_checkable
class PassageCounter(Protocol):
    """A beam counter: calls back once per person that passed."""

    def subscribe(self, callback: Callable[[], None]) -> None: ...


class OsdpOutputRelay:
    """The strike wired to an OSDP reader's output, commanded over the secure channel."""

    def __init__(self, reader: object, output_no: int = 0) -> None:
        from doorward.edge.readers.osdp import OsdpReader

        if not isinstance(reader, OsdpReader):
            raise TypeError("OsdpOutputRelay needs an OsdpReader")
        self._reader = reader
        self.output_no = output_no

    def pulse(self, seconds: float) -> None:
        self._reader.set_output(self.output_no, True, seconds)

    def hold_open(self) -> None:
        self._reader.set_output(self.output_no, True)

    def release_hold(self) -> None:
        self._reader.set_output(self.output_no, False)
