"""What an edge (or the hub) remembers between access decisions.

:func:`doorward.domain.decide.decide` only reads an :class:`AccessMemory`; the caller then
calls :meth:`AccessMemory.remember` with the decision. Keeping the two apart keeps ``decide``
pure and lets an edge persist this state (``to_dict``/``from_dict``) across restarts.

What is kept, and nothing more: keypad failures per reader (PIN lockout), the last accepted
mobile-key step per credential (replay), use counts and end times per pass, and for gates that
enforce anti-passback the *last* direction and time per subject (no history). ``prune(now)``
drops whatever can no longer change a decision.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from doorward.domain.model import (
    AccessRequest,
    CredentialKind,
    Decision,
    Direction,
    Outcome,
    Snapshot,
)
from doorward.errors import InvalidInput

__all__ = ["MEMORY_FORMAT", "AccessMemory", "AccessPolicy", "Passage"]

MEMORY_FORMAT = 1


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """Tunables of the decision that are not part of the snapshot."""

    pin_max_failures: int = 5
    pin_failure_window_seconds: int = 300
    pin_lockout_seconds: int = 300
    token_step_seconds: int = 30
    token_skew_steps: int = 1

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            minimum = 0 if name == "token_skew_steps" else 1
            if not isinstance(value, int) or value < minimum:
                raise InvalidInput(
                    f"access policy {name}={value!r} is invalid",
                    hint=f"use a whole number of at least {minimum}",
                )


@dataclass(frozen=True, slots=True)
class Passage:
    """The last granted passage of one subject at an anti-passback gate."""

    direction: Direction
    at: float  # Unix seconds
    gate_id: str


@dataclass
class AccessMemory:
    policy: AccessPolicy = field(default_factory=AccessPolicy)
    keypad_failures: dict[str, deque[float]] = field(default_factory=dict)
    keypad_locked_until: dict[str, float] = field(default_factory=dict)
    mobile_steps: dict[str, int] = field(default_factory=dict)
    pass_uses: dict[str, int] = field(default_factory=dict)
    passages: dict[str, Passage] = field(default_factory=dict)
    pass_expiry: dict[str, float] = field(default_factory=dict)  # pass id -> valid_until

    # -- reads (used by decide) -------------------------------------------------------

    def keypad_locked(self, reader_id: str, now: datetime) -> bool:
        until = self.keypad_locked_until.get(reader_id)
        return until is not None and now.timestamp() < until

    def last_mobile_step(self, credential_id: str) -> int | None:
        return self.mobile_steps.get(credential_id)

    def uses_of(self, pass_id: str) -> int:
        return self.pass_uses.get(pass_id, 0)

    def last_passage(self, subject_key: str) -> Passage | None:
        return self.passages.get(subject_key)

    # -- writes ---------------------------------------------------------------------

    def remember(self, request: AccessRequest, decision: Decision, now: datetime) -> None:
        """Record what ``decision`` changes: failures, used steps, pass uses, passages."""
        at = now.timestamp()
        if _is_keypad_failure(request, decision):
            self._keypad_failed(request.reader_id, at)
        if not decision.granted:
            return
        if decision.token_step is not None and decision.credential_id is not None:
            previous = self.mobile_steps.get(decision.credential_id, -1)
            self.mobile_steps[decision.credential_id] = max(previous, decision.token_step)
        if decision.pass_id is not None:
            self.pass_uses[decision.pass_id] = self.pass_uses.get(decision.pass_id, 0) + 1
            if decision.pass_valid_until is not None:
                self.pass_expiry[decision.pass_id] = decision.pass_valid_until.timestamp()
        if decision.antipassback_direction is not None:
            key = passage_key(decision)
            if key is not None:
                self.passages[key] = Passage(decision.antipassback_direction, at, decision.gate_id)

    def _keypad_failed(self, reader_id: str, at: float) -> None:
        window = self.policy.pin_failure_window_seconds
        failures = self.keypad_failures.setdefault(reader_id, deque())
        failures.append(at)
        while failures and failures[0] <= at - window:
            failures.popleft()
        if len(failures) >= self.policy.pin_max_failures:
            self.keypad_locked_until[reader_id] = at + self.policy.pin_lockout_seconds
            failures.clear()

    def prune(self, now: datetime, snapshot: Snapshot | None = None) -> None:
        """Forget what can no longer matter: old failures, ended lockouts, stale steps,
        ended passes. Pass the current snapshot so a pass the hub has since extended keeps
        its use count."""
        at = now.timestamp()
        window = self.policy.pin_failure_window_seconds
        for reader_id in list(self.keypad_failures):
            failures = self.keypad_failures[reader_id]
            while failures and failures[0] <= at - window:
                failures.popleft()
            if not failures:
                del self.keypad_failures[reader_id]
        for reader_id, until in list(self.keypad_locked_until.items()):
            if until <= at:
                del self.keypad_locked_until[reader_id]
        # An ended pass is refused by its window, so its use count and passage can go.
        for pass_id, until in list(self.pass_expiry.items()):
            latest = snapshot.passes.get(pass_id) if snapshot is not None else None
            if latest is not None:
                until = max(until, latest.valid_until.timestamp())
                self.pass_expiry[pass_id] = until
            if until <= at:
                del self.pass_expiry[pass_id]
                self.pass_uses.pop(pass_id, None)
                self.passages.pop(f"pass:{pass_id}", None)
        # A step this old is outside the skew window anyway, so it cannot be replayed.
        oldest = int(at) // self.policy.token_step_seconds - self.policy.token_skew_steps
        for credential_id, step in list(self.mobile_steps.items()):
            if step < oldest:
                del self.mobile_steps[credential_id]

    # -- persistence ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state for an edge to persist."""
        return {
            "format": MEMORY_FORMAT,
            "policy": asdict(self.policy),
            "keypad_failures": {r: list(f) for r, f in self.keypad_failures.items()},
            "keypad_locked_until": dict(self.keypad_locked_until),
            "mobile_steps": dict(self.mobile_steps),
            "pass_uses": dict(self.pass_uses),
            "pass_expiry": dict(self.pass_expiry),
            "passages": {
                key: {"direction": p.direction.value, "at": p.at, "gate_id": p.gate_id}
                for key, p in self.passages.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccessMemory:
        """Rebuild memory saved by :meth:`to_dict`; InvalidInput if it is not such a dict."""
        try:
            if data["format"] != MEMORY_FORMAT:
                raise InvalidInput(
                    f"access memory format {data['format']!r} is not {MEMORY_FORMAT}",
                    hint="delete the edge's memory file; it is rebuilt as people pass",
                )
            return cls(
                policy=AccessPolicy(**data["policy"]),
                keypad_failures={
                    str(r): deque(float(t) for t in f) for r, f in data["keypad_failures"].items()
                },
                keypad_locked_until={
                    str(r): float(t) for r, t in data["keypad_locked_until"].items()
                },
                mobile_steps={str(c): int(s) for c, s in data["mobile_steps"].items()},
                pass_uses={str(p): int(n) for p, n in data["pass_uses"].items()},
                pass_expiry={str(p): float(t) for p, t in data.get("pass_expiry", {}).items()},
                passages={
                    str(k): Passage(Direction(v["direction"]), float(v["at"]), str(v["gate_id"]))
                    for k, v in data["passages"].items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(
                "the saved access memory is damaged",
                hint="delete the edge's memory file; it is rebuilt as people pass",
            ) from exc


def passage_key(decision: Decision) -> str | None:
    """Whose passage a decision is: the subject, or the pass for visitors."""
    if decision.subject is not None:
        return decision.subject
    if decision.pass_id is not None:
        return f"pass:{decision.pass_id}"
    return None


def _is_keypad_failure(request: AccessRequest, decision: Decision) -> bool:
    # A wrong PIN, an unknown PIN id and an unknown typed pass code are all keypad guesses.
    if decision.outcome is Outcome.WRONG_PIN:
        return True
    if decision.outcome is Outcome.UNKNOWN_CREDENTIAL:
        return request.kind is CredentialKind.PIN or bool(request.pass_code)
    return False
