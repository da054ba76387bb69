"""Data-subject export, audited staff reads the resident can see, and no per-resident entry
report for staff."""

from __future__ import annotations

import json

from sqlalchemy import select

from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.common import subject_of
from doorward.privacy.export import export_subject_data
from doorward.store.face_models import FaceConsentRow, FaceTemplateRow
from doorward.store.models import AuditEntry

from .conftest import Neighbour, World, append_events, days_ago

PERSONAL_FILTERS = {"subject", "person_id", "person", "resident", "user_id", "credential_id"}


def _subject(world: World, person_id: str) -> str:
    with world.ctx.db.read() as session:
        subject = subject_of(session, person_id)
    assert subject is not None
    return subject


def _ana(world: World) -> AuthUser:
    return AuthUser(id="u-ana", username="ana", role="resident",
                    person_id=world.resident_person_id)


def test_export_has_consent_history_template_metadata_and_audit_but_no_secrets(
    world: World,
) -> None:
    subject = _subject(world, world.resident_person_id)
    world.client.post("/api/v1/credentials", headers=world.auth("admin"), json={
        "person_id": world.resident_person_id, "kind": "pin", "pin": "482910"})
    secret_blob = b"\xde\xad\xbe\xef" * 16
    with world.ctx.db.write() as session:
        session.add(FaceConsentRow(subject=subject, purpose="second factor",
                                   policy_version="dpia-1", retention_days=365,
                                   granted_at=days_ago(20), withdrawn_at=days_ago(10)))
        session.add(FaceConsentRow(subject=subject, purpose="second factor",
                                   policy_version="dpia-2", retention_days=365,
                                   granted_at=days_ago(5), withdrawn_at=None))
        session.add(FaceTemplateRow(subject=subject, credential_id="cred-face",
                                    ciphertext=secret_blob, salt=b"S" * 16, nonce=b"N" * 12,
                                    created_at=days_ago(5), last_used_at=days_ago(1)))
    append_events(world, subject, 2, days_ago(1))
    world.client.get(f"/api/v1/people/{world.resident_person_id}", headers=world.auth("admin"))

    data = export_subject_data(world.ctx, _ana(world))
    assert data["person"]["name"] == "Ana Example"
    assert [c["policy_version"] for c in data["face_consent_history"]] == ["dpia-1", "dpia-2"]
    assert data["face_consent_history"][0]["withdrawn_at"] is not None
    assert [t["credential_id"] for t in data["face_templates"]] == ["cred-face"]
    assert len(data["entries"]) == 2
    about_me = [(a["by"], a["action"]) for a in data["audit_entries_about_me"]]
    assert ("admin", "person.read") in about_me
    text = json.dumps(data)
    for secret in (secret_blob.hex(), "3q2+7w", "argon2", "482910", "ciphertext", "nonce"):
        assert secret not in text, secret


def test_every_staff_read_is_audited_and_shown_to_the_resident(world: World) -> None:
    subject = _subject(world, world.resident_person_id)
    admin = world.auth("admin")
    world.client.get(f"/api/v1/people/{world.resident_person_id}", headers=admin)
    world.client.post("/api/v1/people/resolve", headers=admin,
                      json={"subject": subject, "purpose": "door forced at 02:10, incident 7"})
    with world.ctx.db.read() as session:
        rows = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.purpose)
                               .where(AuditEntry.subject == subject)
                               .order_by(AuditEntry.id)).all()
    assert ("admin", "person.read", "") in rows
    assert ("admin", "subject.resolve", "door forced at 02:10, incident 7") in rows
    seen = export_subject_data(world.ctx, _ana(world))["staff_reads"]
    assert {(r["by"], r["action"]) for r in seen} >= {("admin", "person.read"),
                                                      ("admin", "subject.resolve")}
    assert any(r["purpose"] == "door forced at 02:10, incident 7" for r in seen)


def test_staff_cannot_get_a_per_resident_report_of_entry_times(
    world: World, bruno: Neighbour
) -> None:
    ana_subject = _subject(world, world.resident_person_id)
    append_events(world, ana_subject, 3, days_ago(0.1))
    append_events(world, _subject(world, bruno.person_id), 4, days_ago(0.1))
    # No API route offers a person, pseudonym or credential filter on events or stats.
    schema = world.client.get("/api/v1/openapi.json").json()
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            names = {p["name"] for p in operation.get("parameters", [])}
            if "event" in path or "stats" in path or "log" in path:
                assert not names & PERSONAL_FILTERS, (path, names)
    for role in ("guard", "admin"):
        headers = world.auth(role)
        for query in (f"subject={ana_subject}", f"person_id={world.resident_person_id}"):
            response = world.client.get(f"/api/v1/events?{query}", headers=headers)
            # The filter is not honoured: staff get every event, none of them attributable.
            assert response.status_code == 200
            events = response.json()
            assert len(events) == 7
            assert all("subject" not in e and "person_id" not in e for e in events)
            assert ana_subject not in response.text
        stats = world.client.get(f"/api/v1/stats/hourly?subject={ana_subject}", headers=headers)
        assert sum(s["granted"] for s in stats.json()) == 7
        # The resident's own page and export are the resident's alone.
        world.client.cookies.clear()
        for path in ("/portal/my-data", "/portal/export.json"):
            page = world.client.get(path, headers=headers, follow_redirects=False)
            assert page.status_code in {303, 401, 403}, (role, path, page.status_code)
        # Break-glass resolves a pseudonym to a person, never to their entries.
        resolved = world.client.post("/api/v1/people/resolve", headers=headers,
                                     json={"subject": ana_subject, "purpose": "incident 9 check"})
        assert "occurred_at" not in resolved.text and "entries" not in resolved.text


def test_the_subject_map_is_reachable_only_through_the_audited_resolve(world: World) -> None:
    schema = world.client.get("/api/v1/openapi.json").json()
    carrying: dict[str, set[str]] = {}
    for name, component in schema["components"]["schemas"].items():
        fields = set(component.get("properties", {}))
        assert "salt" not in fields, name
        if fields & {"subject", "host_subject"}:
            carrying[name] = fields & {"subject", "host_subject"}
    # Pseudonyms travel only in the edge's own wire messages and in the break-glass request.
    assert set(carrying) <= {"ResolveIn", "EventMessage", "CredentialWire", "PassWire"}
    for role in ("resident", "guard", "admin"):
        snapshot = world.client.get("/api/v1/edge/snapshot", headers=world.auth(role))
        assert snapshot.status_code in {401, 403}, role
    subject = _subject(world, world.resident_person_id)
    for probe in (subject, "0" * 32):
        world.client.post("/api/v1/people/resolve", headers=world.auth("admin"),
                          json={"subject": probe, "purpose": "tailgating alarm, incident 3"})
    with world.ctx.db.read() as session:
        resolves = session.scalars(select(AuditEntry.subject).where(
            AuditEntry.action == "subject.resolve").order_by(AuditEntry.id)).all()
    assert resolves == [subject, "0" * 32]  # even a failed lookup is on the record
