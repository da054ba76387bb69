"""API schemas, one per direction: ``XCreate`` / ``XUpdate`` in, ``XPublic`` out.

Public models list their fields explicitly, so a hash, key or salt can never serialise by
accident: there is simply no field for one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from doorward.domain.model import AntiPassbackMode, CredentialKind, Direction, GateKind, PassKind
from doorward.validation import RejectsControlCharacters

__all__ = [
    "AccessRequestIn", "CredentialIssue", "CredentialPublic", "DecisionPublic", "EventPublic",
    "GateCreate", "GatePublic", "GateUpdate", "HourlyCount", "LoginIn", "LoginOut",
    "MobileTokenOut", "PassCreate", "PassIssued", "PassPublic", "PersonCreate", "PersonPublic",
    "PersonUpdate", "ResolveIn", "ScheduleCreate", "SchedulePublic", "UnitCreate", "UnitPublic",
    "UserPublic", "VerifyOut", "WindowIn",
]

PersonRoleName = Literal["resident", "staff", "guard", "admin"]
LoginRoleName = Literal["admin", "guard", "resident"]
Id = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")


class In(RejectsControlCharacters):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginIn(In):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserPublic(BaseModel):
    id: str
    username: str
    role: LoginRoleName
    person_id: str | None = None


class LoginOut(BaseModel):
    token: str = Field(description="bearer token for API clients; browsers use the cookie")
    user: UserPublic


class UnitCreate(In):
    label: str = Field(min_length=1, max_length=64)


class UnitPublic(BaseModel):
    id: str
    label: str
    residents: int = 0


class PersonCreate(In):
    name: str = Field(min_length=1, max_length=200)
    role: PersonRoleName = "resident"
    unit_id: str | None = None


class PersonUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: PersonRoleName | None = None
    unit_id: str | None = None
    moved_out_at: datetime | None = None


class PersonPublic(BaseModel):
    id: str
    name: str
    role: PersonRoleName
    unit_id: str | None
    moved_out_at: datetime | None = None


class ResolveIn(In):
    subject: str = Field(min_length=8, max_length=64)
    purpose: str = Field(min_length=10, max_length=500, description="why; it is audited")


class GateCreate(In):
    id: str = Id
    name: str = Field(min_length=1, max_length=200)
    kind: GateKind = GateKind.DOOR
    direction: Direction = Direction.ENTRY
    antipassback: AntiPassbackMode = AntiPassbackMode.OFF
    antipassback_seconds: int = Field(default=0, ge=0, le=86400)
    requires_face: bool = False
    held_open_seconds: int = Field(default=30, ge=1, le=3600)
    tailgate_window_seconds: int = Field(default=5, ge=0, le=600)


class GateUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    antipassback: AntiPassbackMode | None = None
    antipassback_seconds: int | None = Field(default=None, ge=0, le=86400)
    requires_face: bool | None = None
    held_open_seconds: int | None = Field(default=None, ge=1, le=3600)
    tailgate_window_seconds: int | None = Field(default=None, ge=0, le=600)


class GatePublic(BaseModel):
    id: str
    name: str
    kind: GateKind
    direction: Direction
    antipassback: AntiPassbackMode
    antipassback_seconds: int
    requires_face: bool
    held_open_seconds: int
    tailgate_window_seconds: int


class EdgeTokenOut(BaseModel):
    edge_id: str
    gate_id: str
    token: str = Field(description="shown once; the hub keeps only its digest")


class WindowIn(In):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    start_minute: int = Field(ge=0, le=1440)
    end_minute: int = Field(ge=0, le=1440)


class ScheduleCreate(In):
    name: str = Field(min_length=1, max_length=200)
    windows: list[WindowIn] = Field(min_length=1, max_length=100)
    holidays: list[date] = Field(default_factory=list, max_length=400)
    timezone: str = "UTC"


class SchedulePublic(BaseModel):
    id: str
    name: str
    windows: list[WindowIn]
    holidays: list[date]
    timezone: str


class CredentialIssue(In):
    person_id: str
    kind: Literal["card", "pin", "mobile"]
    card_format: str = Field(default="", max_length=32)
    card_number: str = Field(default="", max_length=64, pattern=r"^[0-9A-Fa-f]*$")
    pin: str = Field(default="", max_length=8)
    gates: list[str] = Field(default_factory=list, max_length=100)
    schedule_id: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    responder: bool = False


class CredentialPublic(BaseModel):
    id: str
    person_id: str
    kind: CredentialKind
    card_format: str | None = None
    card_number_last4: str | None = None
    pin_id: str | None = None
    gates: list[str]
    schedule_id: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    revoked: bool
    responder: bool


class MobileTokenOut(BaseModel):
    credential_id: str
    step: int
    token: str
    valid_for_seconds: int


class PassCreate(In):
    kind: PassKind = PassKind.VISITOR
    visitor_name: str = Field(min_length=1, max_length=100, description="given name only")
    valid_from: datetime
    valid_until: datetime
    max_uses: int = Field(default=2, ge=1, le=20)
    gates: list[str] = Field(default_factory=list, max_length=100)


class PassPublic(BaseModel):
    id: str
    kind: PassKind
    host_unit_id: str
    visitor_name: str
    valid_from: datetime
    valid_until: datetime
    max_uses: int
    uses: int
    gates: list[str]
    revoked: bool


class PassIssued(BaseModel):
    pass_: PassPublic = Field(alias="pass")
    qr_payload: str
    short_code: str
    share_link: str
    qr_svg: str = Field(description="the QR code as an SVG document")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class AccessRequestIn(In):
    reader_id: str = Field(default="hub", max_length=64)
    kind: CredentialKind
    card_format: str = Field(default="", max_length=32)
    card_number: str = Field(default="", max_length=64)
    pin_id: str = Field(default="", max_length=32)
    pin: str = Field(default="", max_length=8)
    token: str = Field(default="", max_length=2048)
    pass_code: str = Field(default="", max_length=32)


class DecisionPublic(BaseModel):
    granted: bool
    outcome: str
    reason: str
    gate_id: str
    credential_kind: str
    credential_id: str | None = None
    pass_id: str | None = None
    alarm: str | None = None
    needs_face: bool = False


class EventPublic(BaseModel):
    """An event as staff see it: gate, time, outcome and credential kind. No names."""

    event_id: str
    occurred_at: datetime
    gate_id: str
    kind: str
    outcome: str
    reason: str
    credential_kind: str
    alarm: str | None = None


class HourlyCount(BaseModel):
    gate_id: str
    hour: datetime
    granted: int
    denied: int


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    message: str = ""
