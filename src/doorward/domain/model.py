"""Plain data of the access-control domain: gates, credentials, passes, snapshots, decisions.

Everything here is immutable data with no I/O. The same values are built by the hub from
its database and by an edge from its local snapshot cache, then handed to
:func:`doorward.domain.decide.decide`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

__all__ = [
    "AccessRequest",
    "AntiPassbackMode",
    "CardData",
    "Credential",
    "CredentialKind",
    "Decision",
    "Direction",
    "Gate",
    "GateKind",
    "Outcome",
    "PassGrant",
    "PassKind",
    "Role",
    "Schedule",
    "Snapshot",
    "WeeklyWindow",
]


class GateKind(StrEnum):
    DOOR = "door"
    TURNSTILE = "turnstile"


class Direction(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class Role(StrEnum):
    """The only categories of people Doorward knows. There is no other list of people."""

    RESIDENT = "resident"
    STAFF = "staff"
    GUARD = "guard"
    ADMIN = "admin"
    VISITOR = "visitor"


class CredentialKind(StrEnum):
    CARD = "card"
    PIN = "pin"
    MOBILE = "mobile"
    VISITOR_PASS = "visitor_pass"  # noqa: S105 (a name, not a secret)
    DELIVERY_PASS = "delivery_pass"  # noqa: S105 (a name, not a secret)


class PassKind(StrEnum):
    VISITOR = "visitor"
    DELIVERY = "delivery"


class AntiPassbackMode(StrEnum):
    OFF = "off"
    SOFT = "soft"  # grant, but raise an alarm
    HARD = "hard"  # deny
    TIMED = "timed"  # deny a second use in the same direction within `antipassback_seconds`


class Outcome(StrEnum):
    """Every possible result of an access decision. Each has a reason text in Decision."""

    GRANTED = "granted"
    UNKNOWN_CREDENTIAL = "unknown_credential"
    REVOKED = "revoked"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    OUTSIDE_SCHEDULE = "outside_schedule"
    WRONG_GATE = "wrong_gate"
    PASS_USED_UP = "pass_used_up"  # noqa: S105 (a name, not a secret)
    ANTI_PASSBACK = "anti_passback"
    LOCKDOWN = "lockdown"
    PIN_LOCKED_OUT = "pin_locked_out"
    WRONG_PIN = "wrong_pin"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 - forged, malformed or signed by another key
    REPLAYED_TOKEN = "replayed_token"  # noqa: S105 - a mobile-key time step already used
    # Set by the edge's face step (doorward.edge.face_check), never by decide() itself.
    FACE_NOT_VERIFIED = "face_not_verified"


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """Open on ``weekday`` (0 = Monday) from ``start_minute`` to ``end_minute`` (local time)."""

    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True, slots=True)
class Schedule:
    id: str
    windows: tuple[WeeklyWindow, ...]
    holidays: frozenset[date] = frozenset()
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Gate:
    id: str
    site_id: str
    name: str
    kind: GateKind = GateKind.DOOR
    direction: Direction = Direction.ENTRY
    antipassback: AntiPassbackMode = AntiPassbackMode.OFF
    antipassback_seconds: int = 0
    requires_face: bool = False
    held_open_seconds: int = 30
    tailgate_window_seconds: int = 5


@dataclass(frozen=True, slots=True)
class CardData:
    """A card read as OSDP reports it: the Wiegand format name and the number."""

    format: str
    number: str


@dataclass(frozen=True, slots=True)
class Credential:
    """A resident's, staff member's or guard's credential, as the edge holds it.

    ``subject`` is the pseudonymous subject id, never a name. ``gates`` empty means every
    gate of the site. ``secret`` is the card number, the PIN's argon2id hash or, for a mobile
    key, nothing (tokens are verified with the hub's public key).
    """

    id: str
    kind: CredentialKind
    subject: str
    role: Role = Role.RESIDENT
    card: CardData | None = None
    pin_id: str = ""
    pin_hash: str = ""
    gates: frozenset[str] = frozenset()
    schedule_id: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    revoked: bool = False
    responder: bool = False
    face_second_factor: bool = False


@dataclass(frozen=True, slots=True)
class PassGrant:
    """A visitor or delivery pass: a signed, time-boxed, use-limited grant from a host."""

    id: str
    kind: PassKind
    host_unit: str
    host_subject: str
    valid_from: datetime
    valid_until: datetime
    max_uses: int
    gates: frozenset[str] = frozenset()
    revoked: bool = False
    # Signed into the QR payload; when set, the pass works only at gates of this site.
    site_id: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one gate (or the hub, for all gates) needs to decide offline.

    Indexes are built once (see ``doorward.domain.snapshot.build_snapshot``) so that a
    card decision is one dict lookup.
    """

    version: int
    site_id: str
    gates: dict[str, Gate]
    credentials: dict[str, Credential]
    cards: dict[tuple[str, str], str]  # (format, number) -> credential id
    pins: dict[str, str]  # pin id -> credential id
    schedules: dict[str, Schedule]
    passes: dict[str, PassGrant]
    pass_codes: dict[str, str]  # short-code digest -> pass id
    hub_public_key: bytes
    lockdown: bool = False
    # Key of the typed pass codes' HMAC (see doorward.domain.passes.pass_code_digest).
    # Empty: typed codes are refused as unknown; QR passes still work.
    pass_code_key: bytes = b""


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """One presentation at a reader. Exactly one of the credential fields is set."""

    gate_id: str
    reader_id: str
    kind: CredentialKind
    card: CardData | None = None
    pin_id: str = ""
    pin: str = ""
    token: str = ""  # mobile-key token, or a pass QR payload
    pass_code: str = ""  # short typed pass code


@dataclass(frozen=True, slots=True)
class Decision:
    granted: bool
    outcome: Outcome
    reason: str
    gate_id: str
    credential_kind: CredentialKind
    credential_id: str | None = None
    subject: str | None = None
    pass_id: str | None = None
    alarm: str | None = None  # e.g. "anti_passback" for soft anti-passback
    needs_face: bool = False
    token_step: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # Set on decisions at gates that enforce anti-passback, so memory records the passage.
    antipassback_direction: Direction | None = None
    # Set on granted pass decisions, so memory can forget a pass's use count once it ends.
    pass_valid_until: datetime | None = None
