"""Retention: each kind of personal data is purged on time, every purge is logged, the event
log still verifies, and only a legal hold that names its basis keeps events longer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from doorward.errors import InvalidInput, PrivacyViolation
from doorward.hub.services.common import subject_of
from doorward.privacy.legal_hold import active_holds, place_hold, release_hold
from doorward.privacy.retention import access_event_cutoff, run_retention, visitor_cutoff
from doorward.store.eventlog_models import EventLogCheckpoint
from doorward.store.face_models import FaceConsentRow, FaceTemplateRow
from doorward.store.models import AuditEntry, PassRow, PersonRow, SnapshotTombstone
from doorward.store.privacy_models import PurgeRecordRow

from .conftest import World, append_events, days_ago

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_cutoff_is_now_minus_retention_and_never_past_the_hard_cap() -> None:
    assert access_event_cutoff(NOW, 30) == NOW - timedelta(days=30)
    assert access_event_cutoff(NOW, 90) == NOW - timedelta(days=90)
    with pytest.raises(PrivacyViolation, match="at most 90 days"):
        access_event_cutoff(NOW, 91)
    with pytest.raises(InvalidInput):
        access_event_cutoff(NOW, 0)
    hold_start = NOW - timedelta(days=200)
    assert access_event_cutoff(NOW, 30, [hold_start]) == hold_start
    assert visitor_cutoff(NOW, 7) == NOW - timedelta(days=7)
    with pytest.raises(PrivacyViolation):
        visitor_cutoff(NOW, 365)


def test_old_access_events_are_purged_behind_a_checkpoint_and_the_log_verifies(
    world: World,
) -> None:
    subject = _subject(world)
    append_events(world, subject, 3, days_ago(45))
    append_events(world, subject, 2, days_ago(31))
    append_events(world, subject, 4, days_ago(2))
    report = run_retention(world.ctx)
    assert report.access_events[world.ctx.site_id] == 5
    assert world.ctx.eventlog.count() == 4
    assert world.ctx.eventlog.verify().ok
    with world.ctx.db.read() as session:
        record = session.scalars(select(PurgeRecordRow).where(
            PurgeRecordRow.target == "access_events")).one()
        checkpoint = session.scalars(select(EventLogCheckpoint)).one()
        logged = session.scalars(select(AuditEntry.detail).where(
            AuditEntry.action == "retention.access_events")).all()
    assert record.count == 5 and record.actor == "retention"
    assert record.detail == f"checkpoint={checkpoint.id}" and checkpoint.purged_count == 5
    assert logged == ["deleted=5 checkpoint=" + str(checkpoint.id)]
    # A second run finds nothing more, and says so.
    assert run_retention(world.ctx).access_events[world.ctx.site_id] == 0
    assert world.ctx.eventlog.verify().ok


def test_a_legal_hold_keeps_events_past_the_cap_until_released(world: World) -> None:
    append_events(world, None, 3, days_ago(120))
    append_events(world, None, 2, days_ago(60))
    append_events(world, None, 1, days_ago(1))
    with pytest.raises(InvalidInput, match="legal basis"):
        place_hold(world.ctx.db, site_id=world.ctx.site_id, basis="  because ",
                   preserve_from=days_ago(100), actor="admin")
    hold = place_hold(world.ctx.db, site_id=world.ctx.site_id,
                      basis="Court order 2026/114, district court, theft at main gate",
                      preserve_from=days_ago(100), actor="admin")
    report = run_retention(world.ctx)
    assert report.access_events[world.ctx.site_id] == 3  # older than the hold's date
    assert world.ctx.eventlog.count() == 3  # 60 days old: past the cap, kept by the hold
    release_hold(world.ctx.db, hold.id, actor="admin")
    assert active_holds(world.ctx.db) == []
    assert run_retention(world.ctx).access_events[world.ctx.site_id] == 2
    assert world.ctx.eventlog.count() == 1 and world.ctx.eventlog.verify().ok
    with world.ctx.db.read() as session:
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("legal_hold.%")).order_by(AuditEntry.id)).all()
        details = session.scalars(select(PurgeRecordRow.detail).where(
            PurgeRecordRow.target == "access_events").order_by(PurgeRecordRow.id)).all()
    assert actions == ["legal_hold.place", "legal_hold.release"]
    assert details[0].endswith(f"holds={hold.id}") and "holds" not in details[1]


def _issue_pass(world: World, valid_from: datetime, valid_until: datetime) -> str:
    response = world.client.post(
        "/api/v1/passes",
        json={"kind": "visitor", "visitor_name": "Carla Visitor",
              "valid_from": valid_from.isoformat(), "valid_until": valid_until.isoformat(),
              "max_uses": 2},
        headers=world.auth("resident"),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["pass"]["id"])


def test_visitor_passes_go_seven_days_after_the_visit(world: World) -> None:
    start = datetime.now(UTC) + timedelta(minutes=1)
    pass_id = _issue_pass(world, start, start + timedelta(hours=3))
    end = start + timedelta(hours=3)
    assert run_retention(world.ctx, now=end + timedelta(days=6)).visitor_passes == 0
    with world.ctx.db.read() as session:
        assert session.get(PassRow, pass_id) is not None
    assert run_retention(world.ctx, now=end + timedelta(days=7, minutes=1)).visitor_passes == 1
    with world.ctx.db.read() as session:
        assert session.get(PassRow, pass_id) is None
        stones = session.scalars(select(SnapshotTombstone.item_id).where(
            SnapshotTombstone.item_kind == "pass")).all()
        records = session.scalars(select(PurgeRecordRow.count).where(
            PurgeRecordRow.target == "visitor_passes").order_by(PurgeRecordRow.id)).all()
    assert stones == [pass_id]  # edges drop it from their snapshots too
    assert records == [0, 1]


def _template(session: object, subject: str, created: datetime, used: datetime | None) -> None:
    session.add(FaceTemplateRow(  # type: ignore[attr-defined]
        subject=subject, credential_id=f"cred-{subject[:6]}-{created.timestamp():.0f}",
        ciphertext=b"\x01" * 64, salt=b"\x02" * 16, nonce=b"\x03" * 12,
        created_at=created, last_used_at=used))


def _consent(session: object, subject: str, withdrawn: datetime | None) -> None:
    session.add(FaceConsentRow(  # type: ignore[attr-defined]
        subject=subject, purpose="second factor", policy_version="dpia-1",
        retention_days=365, granted_at=days_ago(400), withdrawn_at=withdrawn))


def test_face_templates_go_on_withdrawal_move_out_and_a_year_unused(world: World) -> None:
    from doorward.hub.schemas import PersonCreate
    from doorward.hub.services import people

    from .conftest import SYSTEM

    subjects = {}
    for label in ("kept", "withdrawn", "moved", "idle", "moved_recently"):
        person = people.create_person(world.ctx, SYSTEM, PersonCreate(
            name=f"Person {label}", role="resident", unit_id=world.unit_id))
        subjects[label] = (person.id, _subject(world, person.id))
    with world.ctx.db.write() as session:
        for label, (person_id, subject) in subjects.items():
            _consent(session, subject, days_ago(1) if label == "withdrawn" else None)
            used = days_ago(400) if label == "idle" else days_ago(3)
            _template(session, subject, days_ago(500), used)
            if label.startswith("moved"):
                row = session.get(PersonRow, person_id)
                assert row is not None
                row.moved_out_at = days_ago(31 if label == "moved" else 20)
        _template(session, "f" * 32, days_ago(5), None)  # its person was erased
    report = run_retention(world.ctx)
    assert report.face_templates == {"no_consent": 1, "moved_out": 1, "unused": 1, "erased": 1}
    with world.ctx.db.read() as session:
        left = set(session.scalars(select(FaceTemplateRow.subject)))
        record = session.scalars(select(PurgeRecordRow).where(
            PurgeRecordRow.target == "face_templates")).one()
    assert left == {subjects["kept"][1], subjects["moved_recently"][1]}
    assert (record.count, record.detail) == (4, "erased=1,moved_out=1,no_consent=1,unused=1")


def _subject(world: World, person_id: str | None = None) -> str:
    with world.ctx.db.read() as session:
        subject = subject_of(session, person_id or world.resident_person_id)
    assert subject is not None
    return subject
