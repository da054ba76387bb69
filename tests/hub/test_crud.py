"""Create, read, update and delete through the API, with audit entries where people are read."""

from __future__ import annotations

from sqlalchemy import select

from doorward.store.models import AuditEntry, PersonRow, SubjectMapRow

from .conftest import World


def test_units_and_people_lifecycle(world: World) -> None:
    admin = world.auth("admin")
    client = world.client
    unit = client.post("/api/v1/units", json={"label": "7C"}, headers=admin)
    assert unit.status_code == 201
    unit_id = unit.json()["id"]
    assert client.post("/api/v1/units", json={"label": "7C"}, headers=admin).status_code == 409

    created = client.post("/api/v1/people", json={"name": "Caio", "unit_id": unit_id},
                          headers=admin)
    assert created.status_code == 201 and created.json()["role"] == "resident"
    person_id = created.json()["id"]
    listed = client.get(f"/api/v1/people?unit_id={unit_id}", headers=admin).json()
    assert [p["name"] for p in listed] == ["Caio"]
    units = {u["label"]: u["residents"] for u in client.get("/api/v1/units", headers=admin).json()}
    assert units == {"4B": 1, "7C": 1}

    patched = client.patch(f"/api/v1/people/{person_id}", json={"role": "staff"}, headers=admin)
    assert patched.json()["role"] == "staff"
    assert client.delete(f"/api/v1/units/{unit_id}", headers=admin).status_code == 409

    assert client.delete(f"/api/v1/people/{person_id}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/people/{person_id}", headers=admin).status_code == 404
    assert client.delete(f"/api/v1/units/{unit_id}", headers=admin).status_code == 204


def test_reading_a_person_is_audited_with_their_pseudonym(world: World) -> None:
    admin = world.auth("admin")
    world.client.get(f"/api/v1/people/{world.resident_person_id}", headers=admin)
    with world.ctx.db.read() as session:
        subject = session.scalar(select(SubjectMapRow.subject).where(
            SubjectMapRow.person_id == world.resident_person_id))
        reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "person.read")).all()
    assert [(a.actor, a.subject) for a in reads] == [("admin", subject)]


def test_erasure_shreds_the_pseudonym_and_break_glass_then_finds_nobody(world: World) -> None:
    admin = world.auth("admin")
    with world.ctx.db.read() as session:
        subject = session.scalar(select(SubjectMapRow.subject).where(
            SubjectMapRow.person_id == world.resident_person_id))
    purpose = "incident 42: door forced at 03:10"
    found = world.client.post("/api/v1/people/resolve",
                              json={"subject": subject, "purpose": purpose}, headers=admin)
    assert found.status_code == 200 and found.json()["name"] == "Ana Example"

    world.client.delete(f"/api/v1/people/{world.resident_person_id}", headers=admin)
    gone = world.client.post("/api/v1/people/resolve",
                             json={"subject": subject, "purpose": purpose}, headers=admin)
    assert gone.status_code == 404
    with world.ctx.db.read() as session:
        assert session.scalar(select(SubjectMapRow).where(SubjectMapRow.subject == subject)) is None
        assert session.get(PersonRow, world.resident_person_id) is None
        purposes = session.scalars(select(AuditEntry.purpose).where(
            AuditEntry.action == "subject.resolve")).all()
    assert purposes == [purpose, purpose]
    # The erased resident's login is gone with them.
    assert world.client.get("/api/v1/auth/me", headers=world.auth("resident")).status_code == 401


def test_gates_and_schedules(world: World) -> None:
    admin = world.auth("admin")
    client = world.client
    gate = client.post("/api/v1/gates", json={"id": "garage", "name": "Garage", "kind": "door",
                                              "antipassback": "hard"}, headers=admin)
    assert gate.status_code == 201 and gate.json()["antipassback"] == "hard"
    assert client.post("/api/v1/gates", json={"id": "garage", "name": "X"},
                       headers=admin).status_code == 409
    renamed = client.patch("/api/v1/gates/garage", json={"name": "Garage ramp"}, headers=admin)
    assert renamed.json()["name"] == "Garage ramp"
    ids = [g["id"] for g in client.get("/api/v1/gates", headers=world.auth("guard")).json()]
    assert ids == ["garage", "main", "pool"]

    body = {"name": "Staff", "windows": [{"weekday": 0, "start_minute": 420, "end_minute": 1140}],
            "holidays": ["2026-12-25"], "timezone": "Europe/Lisbon"}
    schedule = client.post("/api/v1/schedules", json=body, headers=admin)
    assert schedule.status_code == 201
    sid = schedule.json()["id"]
    body["windows"].append({"weekday": 1, "start_minute": 420, "end_minute": 1140})  # type: ignore[attr-defined]
    replaced = client.put(f"/api/v1/schedules/{sid}", json=body, headers=admin)
    assert len(replaced.json()["windows"]) == 2
    assert client.get("/api/v1/schedules", headers=admin).json()[0]["holidays"] == ["2026-12-25"]
    assert client.delete(f"/api/v1/schedules/{sid}", headers=admin).status_code == 204
    assert client.get("/api/v1/schedules", headers=admin).json() == []


def test_credentials_listing_masks_card_numbers(world: World) -> None:
    admin = world.auth("admin")
    body = {"person_id": world.resident_person_id, "kind": "card", "card_format": "wiegand26",
            "card_number": "00DEADBEEF"}
    assert world.client.post("/api/v1/credentials", json=body, headers=admin).status_code == 201
    assert world.client.post("/api/v1/credentials", json=body, headers=admin).status_code == 409
    listed = world.client.get(f"/api/v1/credentials?person_id={world.resident_person_id}",
                              headers=admin).json()
    assert [c["card_number_last4"] for c in listed] == ["BEEF"]
    assert "00DEADBEEF" not in str(listed)


def test_a_resident_sees_and_revokes_only_their_own_units_passes(world: World) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    body = {"visitor_name": "Dora", "valid_from": now.isoformat(),
            "valid_until": (now + timedelta(hours=1)).isoformat(), "kind": "delivery"}
    issued = world.client.post("/api/v1/passes", json=body, headers=world.auth("resident"))
    assert issued.status_code == 201
    data = issued.json()
    assert data["share_link"].endswith(data["qr_payload"]) and "/visit/" in data["share_link"]
    assert data["qr_svg"].startswith("<svg") and len(data["short_code"]) == 8

    # A second resident in another unit sees nothing and cannot revoke it.
    from doorward.hub.schemas import PersonCreate, UnitCreate
    from doorward.hub.services import accounts, people

    from .conftest import PASSWORD, SYSTEM

    unit = people.create_unit(world.ctx, SYSTEM, UnitCreate(label="9Z"))
    other = people.create_person(world.ctx, SYSTEM, PersonCreate(name="Eva", unit_id=unit.id))
    accounts.create_user(world.ctx, "eva", PASSWORD, "resident", other.id)
    token = world.client.post("/api/v1/auth/login",
                              json={"username": "eva", "password": PASSWORD}).json()["token"]
    eva = {"Authorization": f"Bearer {token}"}
    assert world.client.get("/api/v1/passes", headers=eva).json() == []
    pass_id = data["pass"]["id"]
    assert world.client.post(f"/api/v1/passes/{pass_id}/revoke", headers=eva).status_code == 404
    all_passes = world.client.get("/api/v1/passes", headers=world.auth("admin")).json()
    assert [p["id"] for p in all_passes] == [pass_id]
