"""Consent and enrolment through the resident's API, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from doorward.store.face_models import FaceConsentRow, FaceTemplateRow
from doorward.store.models import AuditEntry, CredentialRow, SubjectMapRow

from .conftest import ANA_ENROL, FACES, World, photo_b64

pytestmark = pytest.mark.face


def _subject(world: World, person_id: str) -> str:
    with world.ctx.db.read() as session:
        subject = session.scalar(
            select(SubjectMapRow.subject).where(SubjectMapRow.person_id == person_id)
        )
    assert subject
    return subject


def _every_stored_value(world: World) -> list[bytes]:
    """Every cell of every table, as bytes, for searching."""
    values: list[bytes] = []
    engine = world.ctx.db.engine
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for cell in row:
                    if cell is None:
                        continue
                    if isinstance(cell, bytes | bytearray | memoryview):
                        values.append(bytes(cell))
                    else:
                        values.append(str(cell).encode())
    return values


def test_consent_is_recorded_with_purpose_policy_retention_and_time(world: World) -> None:
    response = world.client.post("/api/v1/face/consent", json={"retention_days": 180},
                                 headers=world.auth("ana"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["policy_version"] == "DPIA-2026-07"  # the site's DPIA reference by default
    assert body["retention_days"] == 180 and body["withdrawn_at"] is None
    assert "1:1" in body["purpose"] or "second factor" in body["purpose"]
    with world.ctx.db.read() as session:
        row = session.scalars(select(FaceConsentRow)).one()
        assert row.subject == _subject(world, world.ana)  # the pseudonym, never a name
        assert row.granted_at is not None
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "consent.face.grant" in actions
    mine = world.client.get("/api/v1/face/consent", headers=world.auth("ana"))
    assert mine.status_code == 200 and mine.json()["retention_days"] == 180
    assert world.client.get("/api/v1/face/consent", headers=world.auth("ben")).status_code == 404


def test_enrolment_stores_only_the_sealed_template_never_the_secret_or_photos(
    world: World, secret: bytes, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    world.consent()
    body = world.enrol(world.card, secret)
    assert base64.b64encode(secret).decode() not in caplog.text and secret.hex() not in caplog.text
    on_disk = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert secret not in on_disk and b"JFIF" not in on_disk  # no photo, no secret in any file
    assert body["credential_id"] == world.card and set(body) == {"credential_id", "enrolled_at"}
    with world.ctx.db.read() as session:
        template = session.scalars(select(FaceTemplateRow)).one()
        assert template.credential_id == world.card
        assert template.subject == _subject(world, world.ana)
        card = session.get(CredentialRow, world.card)
        assert card is not None and card.face_second_factor  # Ana chose face for this card
    stored = b"\n".join(_every_stored_value(world))
    for needle in (secret, base64.b64encode(secret), secret.hex().encode(),
                   base64.b64decode(photo_b64(ANA_ENROL[0]))[:64], b"\xff\xd8\xff", b"JFIF"):
        assert needle not in stored


def test_enrolment_is_refused_without_consent_and_when_the_site_has_face_off(
    world: World, secret: bytes
) -> None:
    body = {"credential_id": world.card, "unlock_secret": base64.b64encode(secret).decode(),
            "captures": [photo_b64(p) for p in ANA_ENROL]}
    response = world.client.post("/api/v1/face/enrolment", json=body, headers=world.auth("ana"))
    assert response.status_code == 409 and "consent" in response.json()["detail"]
    from doorward.hub.web import policy
    from doorward.hub.web.rendering import PageUser

    policy.set_face_switch(world.ctx, PageUser("s", "admin", "admin", None, ""), False, "", "")
    refused = world.client.post("/api/v1/face/consent", json={}, headers=world.auth("ana"))
    assert refused.status_code == 409 and "switched off" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"captures": ["bm90IGFuIGltYWdl"] * 3}, 422, "not a readable image"),
        ({"captures": ["***"] * 3}, 422, "not base64"),
        ({"unlock_secret": base64.b64encode(b"x" * 33).decode()}, 422, "32 bytes"),
        ({"captures": [photo_b64(ANA_ENROL[0])] * 2}, 422, "captures"),
        ({"credential_id": "cred_nonexistent"}, 404, "no credential"),
    ],
)
def test_bad_enrolments_say_what_was_wrong(
    world: World, secret: bytes, change: dict[str, object], status: int, words: str
) -> None:
    world.consent()
    body: dict[str, object] = {
        "credential_id": world.card, "unlock_secret": base64.b64encode(secret).decode(),
        "captures": [photo_b64(p) for p in ANA_ENROL],
    }
    body.update(change)
    response = world.client.post("/api/v1/face/enrolment", json=body, headers=world.auth("ana"))
    assert response.status_code == status, response.text
    assert words in response.text
    with world.ctx.db.read() as session:
        assert session.scalars(select(FaceTemplateRow)).all() == []


def test_a_resident_cannot_enrol_on_someone_elses_card_or_on_a_pin(
    world: World, secret: bytes
) -> None:
    world.consent("ben")
    body = {"credential_id": world.card, "unlock_secret": base64.b64encode(secret).decode(),
            "captures": [photo_b64(p) for p in ANA_ENROL]}
    other = world.client.post("/api/v1/face/enrolment", json=body, headers=world.auth("ben"))
    assert other.status_code == 404
    world.consent("ana")
    on_pin = world.client.post("/api/v1/face/enrolment", json={**body, "credential_id": world.pin},
                               headers=world.auth("ana"))
    assert on_pin.status_code == 422 and "PIN stays the fallback" in on_pin.text


def test_a_photo_with_two_faces_is_refused_with_a_hint(world: World, secret: bytes) -> None:
    world.consent()
    couple = base64.b64encode((FACES.parent / "scenes" / "couple.jpg").read_bytes()).decode()
    body = {"credential_id": world.card, "unlock_secret": base64.b64encode(secret).decode(),
            "captures": [photo_b64(ANA_ENROL[0]), couple, photo_b64(ANA_ENROL[2])]}
    response = world.client.post("/api/v1/face/enrolment", json=body, headers=world.auth("ana"))
    assert response.status_code == 422
    assert "frame 2" in response.json()["detail"] and "faces" in response.json()["detail"]


def test_withdrawal_deletes_templates_and_clears_the_face_factor(
    world: World, secret: bytes
) -> None:
    world.consent()
    world.enrol(world.card, secret)
    world.enrol(world.mobile, secret)
    response = world.client.delete("/api/v1/face/consent", headers=world.auth("ana"))
    assert response.status_code == 200 and response.json() == {"templates_deleted": 2}
    with world.ctx.db.read() as session:
        assert session.scalars(select(FaceTemplateRow)).all() == []
        consent = session.scalars(select(FaceConsentRow)).one()
        assert consent.withdrawn_at is not None
        flags = session.scalars(select(CredentialRow.face_second_factor).where(
            CredentialRow.person_id == world.ana)).all()
    assert not any(flags)
    assert world.client.get("/api/v1/face/consent", headers=world.auth("ana")).status_code == 404
    again = world.client.delete("/api/v1/face/consent", headers=world.auth("ana"))
    assert again.status_code == 409


def test_face_routes_are_for_residents_only(world: World) -> None:
    assert world.client.post("/api/v1/face/consent", json={}).status_code == 401
    world.client.cookies.clear()
