"""Anti-passback: one credential must not let two people through in the same direction.

Modes (``Gate.antipassback``), judged against the subject's last passage at any gate that
enforces anti-passback (the memory keeps only that last passage):

- ``soft``: a repeated direction is granted, with ``decision.alarm = "anti_passback"``;
- ``hard``: a repeated direction is denied until the subject passes the other way;
- ``timed``: a repeated direction is denied within ``gate.antipassback_seconds`` of the last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from doorward.domain.memory import Passage
from doorward.domain.model import AntiPassbackMode, Direction, Gate

__all__ = ["ANTI_PASSBACK_ALARM", "AntiPassbackVerdict", "check_antipassback"]

ANTI_PASSBACK_ALARM = "anti_passback"

_PAST = {Direction.ENTRY: "entered", Direction.EXIT: "left"}


@dataclass(frozen=True, slots=True)
class AntiPassbackVerdict:
    deny: bool
    alarm: str | None
    reason: str


def check_antipassback(
    gate: Gate, last: Passage | None, now: datetime
) -> AntiPassbackVerdict | None:
    """None when the passage is fine; otherwise what to do about it."""
    mode = gate.antipassback
    if mode is AntiPassbackMode.OFF or last is None or last.direction is not gate.direction:
        return None
    done = _PAST[gate.direction]
    if mode is AntiPassbackMode.HARD:
        return AntiPassbackVerdict(
            deny=True,
            alarm=None,
            reason=f"anti-passback: this credential already {done} (gate {last.gate_id}) "
            f"and has not passed the other way since",
        )
    if mode is AntiPassbackMode.TIMED:
        elapsed = now.timestamp() - last.at
        if elapsed >= gate.antipassback_seconds:
            return None
        return AntiPassbackVerdict(
            deny=True,
            alarm=None,
            reason=f"anti-passback: this credential already {done} {int(elapsed)} s ago; "
            f"wait {gate.antipassback_seconds} s between uses in the same direction",
        )
    return AntiPassbackVerdict(
        deny=False,
        alarm=ANTI_PASSBACK_ALARM,
        reason=f"granted, but this credential already {done} (gate {last.gate_id}) "
        f"without passing the other way: anti-passback alarm raised",
    )
