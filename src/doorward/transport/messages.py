"""The typed messages between edges and the hub. MQTT and HTTPS carry exactly these.

Edge -> hub: :class:`EventBatch` (answered by :class:`IngestAck`), :class:`Heartbeat`.
Hub -> edge: :class:`SnapshotMessage` (full, or a delta over ``base_version``),
:class:`Command` (lockdown, manual open, fire); over HTTPS, :class:`CommandList` fetched
and :class:`CommandAck` returned.

Events carry a pseudonymous subject id, never a name: there is no field for one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from doorward.domain import model as m
from doorward.validation import RejectsControlCharacters

__all__ = [
    "Command",
    "CommandAck",
    "CommandList",
    "CredentialWire",
    "EventBatch",
    "EventMessage",
    "FaceTemplateWire",
    "GateWire",
    "Heartbeat",
    "IngestAck",
    "PassWire",
    "ScheduleWire",
    "SnapshotMessage",
]

EventKind = Literal["access", "alarm", "door", "system"]


class _Wire(RejectsControlCharacters):
    model_config = ConfigDict(extra="forbid")


class EventMessage(_Wire):
    event_id: str = Field(min_length=8, max_length=64)
    site_id: str = Field(min_length=1, max_length=64)
    gate_id: str = Field(min_length=1, max_length=64)
    kind: EventKind
    occurred_at: datetime
    edge_seq: int = Field(ge=0, description="order the edge recorded it in")
    outcome: str = ""
    reason: str = ""
    credential_kind: str = ""
    subject: str | None = Field(default=None, max_length=64, description="pseudonym")
    pass_id: str | None = None
    alarm: str | None = None
    detail: dict[str, str] = Field(default_factory=dict)


class EventBatch(_Wire):
    edge_id: str = Field(min_length=1, max_length=64)
    events: list[EventMessage] = Field(max_length=5000)


class IngestAck(_Wire):
    accepted: list[str]
    duplicates: list[str]


class Heartbeat(_Wire):
    edge_id: str
    gate_id: str
    sent_at: datetime
    snapshot_version: int
    outbox_depth: int
    readers_online: dict[str, bool] = Field(default_factory=dict)
    # What the gate is doing, for the console (optional: older edges leave the defaults).
    door: Literal["open", "closed", "unknown"] = "unknown"
    lockdown: bool = False
    fire: bool = False


class GateWire(_Wire):
    id: str
    site_id: str
    name: str
    kind: m.GateKind = m.GateKind.DOOR
    direction: m.Direction = m.Direction.ENTRY
    antipassback: m.AntiPassbackMode = m.AntiPassbackMode.OFF
    antipassback_seconds: int = 0
    requires_face: bool = False
    held_open_seconds: int = 30
    tailgate_window_seconds: int = 5

    def to_domain(self) -> m.Gate:
        return m.Gate(**self.model_dump())


class ScheduleWire(_Wire):
    id: str
    windows: list[tuple[int, int, int]]  # (weekday, start minute, end minute)
    holidays: list[str] = Field(default_factory=list)  # ISO dates
    timezone: str = "UTC"

    def to_domain(self) -> m.Schedule:
        from datetime import date

        return m.Schedule(
            id=self.id,
            windows=tuple(m.WeeklyWindow(*w) for w in self.windows),
            holidays=frozenset(date.fromisoformat(d) for d in self.holidays),
            timezone=self.timezone,
        )


class CredentialWire(_Wire):
    id: str
    kind: m.CredentialKind
    subject: str
    role: m.Role = m.Role.RESIDENT
    card_format: str = ""
    card_number: str = ""
    pin_id: str = ""
    pin_hash: str = ""
    gates: list[str] = Field(default_factory=list)
    schedule_id: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    revoked: bool = False
    responder: bool = False
    face_second_factor: bool = False

    def to_domain(self) -> m.Credential:
        data = self.model_dump(exclude={"card_format", "card_number", "gates"})
        card = m.CardData(self.card_format, self.card_number) if self.card_number else None
        return m.Credential(**data, card=card, gates=frozenset(self.gates))


class PassWire(_Wire):
    id: str
    kind: m.PassKind
    host_unit: str
    host_subject: str
    valid_from: datetime
    valid_until: datetime
    max_uses: int
    gates: list[str] = Field(default_factory=list)
    revoked: bool = False
    code_digest: str = ""

    def to_domain(self) -> m.PassGrant:
        data = self.model_dump(exclude={"gates", "code_digest"})
        return m.PassGrant(**data, gates=frozenset(self.gates))


class FaceTemplateWire(_Wire):
    """One resident's sealed face template for one credential (AEAD ciphertext, base64).

    Useless without the unlock secret that the resident's phone or card presents at the gate;
    the hub never holds that secret after enrolment.
    """

    # No subject field: the ciphertext authenticates the holder's pseudonym (AEAD associated
    # data), and the edge takes it from the credential it just accepted.
    credential_id: str = Field(min_length=1, max_length=128)
    ciphertext: str = Field(max_length=2048)
    hkdf_salt: str = Field(max_length=64, description="HKDF salt of the template key")
    nonce: str = Field(max_length=64)


class SnapshotMessage(_Wire):
    """A full snapshot (``full=True``) or a delta from ``base_version`` to ``version``."""

    site_id: str
    version: int = Field(ge=0)
    base_version: int = Field(default=0, ge=0)
    full: bool = True
    hub_public_key: str  # hex Ed25519 public key
    lockdown: bool = False
    # Hex key of the typed pass codes' HMAC (doorward.domain.passes.pass_code_digest);
    # empty means typed codes are refused at the edge and QR passes still work.
    pass_code_key: str = ""
    gates: list[GateWire] = Field(default_factory=list)
    schedules: list[ScheduleWire] = Field(default_factory=list)
    credentials: list[CredentialWire] = Field(default_factory=list)
    passes: list[PassWire] = Field(default_factory=list)
    removed_credentials: list[str] = Field(default_factory=list)
    removed_passes: list[str] = Field(default_factory=list)
    # Face verification (opt-in): sealed templates of the residents whose credential is valid
    # here and who chose face (or the gate requires it); a delta lists by credential id the
    # templates the edge must delete (consent withdrawn, credential revoked or moved).
    face_templates: list[FaceTemplateWire] = Field(default_factory=list)
    removed_face_templates: list[str] = Field(default_factory=list)


class Command(_Wire):
    command: Literal["lockdown", "release_lockdown", "manual_open", "fire", "fire_clear", "resync"]
    gate_id: str | None = None
    issued_at: datetime
    reason: str = ""
    #: Set by the hub when an HTTPS edge must acknowledge the command (``CommandAck``).
    command_id: str = Field(default="", max_length=64)


class CommandList(_Wire):
    """Commands waiting for an HTTPS edge (``GET /api/v1/edge/commands``), oldest first."""

    commands: list[Command] = Field(default_factory=list)


class CommandAck(_Wire):
    """The command ids an HTTPS edge has carried out (``POST /api/v1/edge/commands/ack``)."""

    command_ids: list[str] = Field(default_factory=list, max_length=1000)
