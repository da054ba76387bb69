"""From the database to a snapshot: the domain Snapshot for the hub's own decisions, and a
SnapshotMessage (full, or a delta since a version) for one gate's edge.
"""

from __future__ import annotations

import base64
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorward.domain import model as m
from doorward.domain.snapshot import build_snapshot
from doorward.hub.services.common import get_or_404
from doorward.hub.services.context import HubContext
from doorward.hub.services.passes import pass_grant
from doorward.store.face_models import FaceConsentRow, FaceTemplateRow
from doorward.store.models import (
    CredentialRow,
    GateRow,
    PassRow,
    PersonRow,
    ScheduleRow,
    SiteRow,
    SnapshotTombstone,
    SubjectMapRow,
    utcnow,
)
from doorward.transport.messages import (
    CredentialWire,
    FaceTemplateWire,
    GateWire,
    PassWire,
    ScheduleWire,
    SnapshotMessage,
)

__all__ = ["current_version", "domain_snapshot", "snapshot_message"]


def _gate(row: GateRow) -> m.Gate:
    return m.Gate(
        id=row.id, site_id=row.site_id, name=row.name, kind=m.GateKind(row.kind),
        direction=m.Direction(row.direction), antipassback=m.AntiPassbackMode(row.antipassback),
        antipassback_seconds=row.antipassback_seconds, requires_face=row.requires_face,
        held_open_seconds=row.held_open_seconds,
        tailgate_window_seconds=row.tailgate_window_seconds,
    )


def _schedule_wire(row: ScheduleRow) -> ScheduleWire:
    return ScheduleWire(
        id=row.id, windows=[tuple(w) for w in row.windows], holidays=list(row.holidays),
        timezone=row.timezone,
    )


def _credential_wire(row: CredentialRow, subject: str, role: str = "resident") -> CredentialWire:
    return CredentialWire(
        id=row.id, kind=m.CredentialKind(row.kind), subject=subject, role=m.Role(role),
        card_format=row.card_format or "", card_number=row.card_number or "",
        pin_id=row.pin_id or "", pin_hash=row.pin_hash or "", gates=list(row.gates),
        schedule_id=row.schedule_id, valid_from=row.valid_from, valid_until=row.valid_until,
        revoked=row.revoked, responder=row.responder, face_second_factor=row.face_second_factor,
    )


def _pass_wire(row: PassRow, host_subject: str) -> PassWire:
    return PassWire(
        id=row.id, kind=m.PassKind(row.kind), host_unit=row.host_unit_id,
        host_subject=host_subject, valid_from=row.valid_from, valid_until=row.valid_until,
        max_uses=row.max_uses, gates=list(row.gates), revoked=row.revoked,
        code_digest=row.code_digest,
    )


def current_version(ctx: HubContext) -> int:
    with ctx.db.read() as session:
        site = session.get(SiteRow, ctx.site_id)
        return 0 if site is None else site.snapshot_version


_CredentialRows = list[tuple[CredentialRow, str, str]]


def _credential_rows(session: Session, site_id: str, since: int) -> _CredentialRows:
    """Credentials changed after ``since``, with their holder's pseudonym and role."""
    query = (
        select(CredentialRow, SubjectMapRow.subject, PersonRow.role)
        .join(SubjectMapRow, SubjectMapRow.person_id == CredentialRow.person_id)
        .join(PersonRow, PersonRow.id == CredentialRow.person_id)
        .where(CredentialRow.site_id == site_id, CredentialRow.version > since)
    )
    return [(row, subject, role) for row, subject, role in session.execute(query)]


def _pass_rows(session: Session, site_id: str, since: int) -> list[tuple[PassRow, str]]:
    query = (
        select(PassRow, SubjectMapRow.subject)
        .outerjoin(SubjectMapRow, SubjectMapRow.person_id == PassRow.host_person_id)
        .where(PassRow.site_id == site_id, PassRow.version > since)
    )
    return [(row, subject or "") for row, subject in session.execute(query)]


def domain_snapshot(ctx: HubContext) -> m.Snapshot:
    """The whole site's snapshot, rebuilt only when the site's version has moved."""
    version = current_version(ctx)
    cached = ctx.snapshot_cache.get(ctx.site_id)
    if cached is not None and cached.version == version:
        return cached
    with ctx.db.read() as session:
        site = session.get(SiteRow, ctx.site_id)
        gates = session.scalars(select(GateRow).where(GateRow.site_id == ctx.site_id)).all()
        schedules = session.scalars(
            select(ScheduleRow).where(ScheduleRow.site_id == ctx.site_id)
        ).all()
        credentials = _credential_rows(session, ctx.site_id, -1)
        passes = _pass_rows(session, ctx.site_id, -1)
    snapshot = build_snapshot(
        version=version,
        site_id=ctx.site_id,
        gates=[_gate(g) for g in gates],
        credentials=[_credential_wire(c, s, r).to_domain() for c, s, r in credentials],
        schedules=[_schedule_wire(s).to_domain() for s in schedules],
        passes=[pass_grant(p, s) for p, s in passes],
        pass_code_digests={p.id: p.code_digest for p, _ in passes},
        hub_public_key=ctx.keys.public_bytes(),
        lockdown=bool(site and site.lockdown),
        pass_code_key=ctx.pass_code_key,
    )
    ctx.snapshot_cache[ctx.site_id] = snapshot
    return snapshot


def _applies(gates: list[str], gate_id: str) -> bool:
    return not gates or gate_id in gates


def _b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def _face_templates(
    session: Session, gate: GateRow, candidates: _CredentialRows
) -> tuple[list[FaceTemplateWire], list[str]]:
    """Sealed templates this gate must hold among ``candidates``, and the ids it must drop.

    A template ships only for a credential that applies to the gate, is not revoked or
    expired, whose holder's consent is in force, and that has face on (the resident chose it)
    or sits at a gate that requires face. Every other candidate's template is removed.
    """
    now = utcnow()
    eligible = {
        row.id: subject
        for row, subject, _ in candidates
        if _applies(row.gates, gate.id) and not row.revoked
        and (row.valid_until is None or _aware(row.valid_until) > now)
        and (row.face_second_factor or gate.requires_face)
    }
    shipped: list[FaceTemplateWire] = []
    if eligible:
        consenting = select(FaceConsentRow.subject).where(FaceConsentRow.withdrawn_at.is_(None))
        rows = session.scalars(
            select(FaceTemplateRow).where(
                FaceTemplateRow.credential_id.in_(list(eligible)),
                FaceTemplateRow.subject.in_(consenting),
            )
        )
        shipped = [
            FaceTemplateWire(
                credential_id=t.credential_id, ciphertext=_b64(t.ciphertext),
                hkdf_salt=_b64(t.salt), nonce=_b64(t.nonce),
            )
            for t in rows
            if eligible.get(t.credential_id) == t.subject
        ]
    kept = {t.credential_id for t in shipped}
    return shipped, sorted({row.id for row, _, _ in candidates} - kept)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def snapshot_message(ctx: HubContext, gate_id: str, since: int = 0) -> SnapshotMessage:
    """What the edge at ``gate_id`` needs: everything (since=0) or what changed since ``since``.

    A credential or pass that changed so that it no longer applies to this gate, or that was
    deleted, is listed as removed.
    """
    with ctx.db.read() as session:
        gate = get_or_404(session, GateRow, gate_id, "gate")
        site = session.get(SiteRow, ctx.site_id)  # created at start-up by build_context
        version = site.snapshot_version if site else 0
        lockdown = bool(site and site.lockdown)
        full = since <= 0 or since > version
        base = 0 if full else since
        schedules = session.scalars(
            select(ScheduleRow).where(ScheduleRow.site_id == ctx.site_id,
                                      ScheduleRow.version > base)
        ).all()
        credentials = _credential_rows(session, ctx.site_id, base)
        passes = _pass_rows(session, ctx.site_id, base)
        tombs = [] if full else [
            (kind, item)
            for kind, item in session.execute(
                select(SnapshotTombstone.item_kind, SnapshotTombstone.item_id).where(
                    SnapshotTombstone.site_id == ctx.site_id, SnapshotTombstone.version > base
                )
            )
        ]
        gate_changed = full or gate.version > base
        # A changed gate may have turned "requires face" on or off: re-judge every template.
        face_candidates = _credential_rows(session, ctx.site_id, -1) if (
            gate_changed and not full) else credentials
        face_templates, removed_faces = _face_templates(session, gate, face_candidates)
    removed_creds = [i for k, i in tombs if k == "credential"]
    removed_passes = [i for k, i in tombs if k == "pass"]
    if not full:
        removed_creds += [c.id for c, _, _ in credentials if not _applies(c.gates, gate_id)]
        removed_passes += [p.id for p, _ in passes if not _applies(p.gates, gate_id)]
    return SnapshotMessage(
        site_id=ctx.site_id,
        version=version,
        base_version=base,
        full=full,
        hub_public_key=ctx.keys.public_bytes().hex(),
        pass_code_key=ctx.pass_code_key.hex(),
        lockdown=lockdown,
        gates=[GateWire(**asdict(_gate(gate)))] if gate_changed else [],
        schedules=[_schedule_wire(s) for s in schedules],
        credentials=[
            _credential_wire(c, s, r) for c, s, r in credentials if _applies(c.gates, gate_id)
        ],
        passes=[_pass_wire(p, s) for p, s in passes if _applies(p.gates, gate_id)],
        removed_credentials=sorted(set(removed_creds)),
        removed_passes=sorted(set(removed_passes)),
        face_templates=face_templates,
        removed_face_templates=[] if full else sorted(set(removed_faces) | set(removed_creds)),
    )
