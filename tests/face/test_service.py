"""FaceService over SQLite and PostgreSQL: consent, enrolment, 1:1 verification, withdrawal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from doorward.errors import CaptureRejected, FaceError, InvalidInput
from doorward.face.service import FaceService, verify_sealed
from doorward.face.template import (
    SealedTemplate,
    build_template,
    new_unlock_secret,
    open_template,
    seal_template,
)
from doorward.store.db import Database
from doorward.store.face_models import FaceConsentRow, FaceTemplateRow

from .helpers import CachingFaceEngine, plausible_float_fraction

pytestmark = pytest.mark.face

Photo = Callable[[str], object]
ENROL = ["person01/img1.jpg", "person01/img2.jpg", "person01/img6.jpg"]
GENUINE = ["person01/img7.jpg", "person01/img10.jpg", "person01/img5.jpg"]
IMPOSTOR = ["person03/img8.jpg", "person03/img9.jpg", "person03/img47.jpg"]


@pytest.fixture
def service(db: Database, engine: CachingFaceEngine) -> FaceService:
    return FaceService(db, engine)


@pytest.fixture
def enrolled(service: FaceService, photo: Photo) -> bytes:
    secret = new_unlock_secret()
    service.record_consent("subj-a", policy_version="2026-01")
    service.enrol("subj-a", "card-1", [photo(n) for n in ENROL], secret)
    return secret


def test_enrolment_is_refused_without_consent(service: FaceService, photo: Photo) -> None:
    with pytest.raises(FaceError, match="no active consent"):
        service.enrol("subj-a", "card-1", [photo(n) for n in ENROL], new_unlock_secret())


def test_genuine_probe_is_accepted_and_impostor_refused(
    service: FaceService, enrolled: bytes, photo: Photo
) -> None:
    genuine = service.verify("subj-a", "card-1", [photo(n) for n in GENUINE], enrolled)
    impostor = service.verify("subj-a", "card-1", [photo(n) for n in IMPOSTOR], enrolled)
    assert genuine.matched and genuine.matching_frames == 3
    assert not impostor.matched and impostor.matching_frames == 0
    assert max(genuine.distances) < service.threshold < min(impostor.distances)


def test_consensus_needs_a_majority_of_frames(
    service: FaceService, enrolled: bytes, photo: Photo
) -> None:
    one_of_three = [photo(GENUINE[0]), photo(IMPOSTOR[0]), photo(IMPOSTOR[1])]
    result = service.verify("subj-a", "card-1", one_of_three, enrolled)
    assert not result.matched and result.matching_frames == 1 and result.min_matches == 2
    lenient = service.verify("subj-a", "card-1", one_of_three, enrolled, min_matches=1)
    assert lenient.matched


def test_frames_failing_capture_never_match(
    service: FaceService, enrolled: bytes, photo: Photo
) -> None:
    result = service.verify("subj-a", "card-1", [photo("scenes/couple.jpg")], enrolled)
    assert not result.matched and result.rejected_frames == 1
    assert "faces in the frame" in result.reason


def test_enrolment_refuses_a_bad_frame_and_names_it(service: FaceService, photo: Photo) -> None:
    service.record_consent("subj-b", policy_version="2026-01")
    frames = [photo(ENROL[0]), photo("scenes/couple.jpg"), photo(ENROL[1])]
    with pytest.raises(CaptureRejected, match="frame 2: 2 faces"):
        service.enrol("subj-b", "card-1", frames, new_unlock_secret())
    with pytest.raises(InvalidInput, match="3–5 frames"):
        service.enrol("subj-b", "card-1", frames[:1], new_unlock_secret())


def test_wrong_secret_cannot_verify(service: FaceService, enrolled: bytes, photo: Photo) -> None:
    with pytest.raises(FaceError, match="cannot be opened"):
        service.verify("subj-a", "card-1", [photo(GENUINE[0])], new_unlock_secret())


def test_the_template_is_per_credential(
    service: FaceService, enrolled: bytes, photo: Photo
) -> None:
    with pytest.raises(FaceError, match="no face template is enrolled"):
        service.verify("subj-a", "card-2", [photo(GENUINE[0])], enrolled)


def test_a_stolen_database_yields_no_usable_template(db: Database, enrolled: bytes) -> None:
    with db.read() as session:
        row = session.scalars(select(FaceTemplateRow)).one()
        stolen = SealedTemplate(bytes(row.ciphertext), bytes(row.salt), bytes(row.nonce))
    assert plausible_float_fraction(stolen.ciphertext) < 0.5
    for guess in (bytes(32), b"subj-a".ljust(32, b"\0"), new_unlock_secret()):
        with pytest.raises(FaceError):
            open_template(stolen, guess, subject="subj-a", credential_id="card-1")
    # The legitimate secret still opens it: the failure above is the key, not the data.
    assert open_template(stolen, enrolled, subject="subj-a", credential_id="card-1").shape == (128,)


def test_withdrawal_deletes_the_template_and_blocks_enrolment(
    service: FaceService, db: Database, enrolled: bytes, photo: Photo
) -> None:
    assert service.withdraw_consent("subj-a") == 1
    with db.read() as session:
        assert session.scalars(select(FaceTemplateRow)).all() == []
        consent = session.scalars(select(FaceConsentRow)).one()
        assert consent.withdrawn_at is not None
    with pytest.raises(FaceError, match="no face template"):
        service.verify("subj-a", "card-1", [photo(GENUINE[0])], enrolled)
    with pytest.raises(FaceError, match="no active consent"):
        service.enrol("subj-a", "card-1", [photo(n) for n in ENROL], enrolled)


def test_verification_marks_use_and_idle_templates_are_purged(
    service: FaceService, db: Database, enrolled: bytes, photo: Photo
) -> None:
    now = datetime.now(UTC)
    assert service.verify("subj-a", "card-1", [photo(GENUINE[0])], enrolled, now=now).matched
    with db.read() as session:
        used = session.scalars(select(FaceTemplateRow.last_used_at)).one()
    assert used is not None
    assert service.purge_unused(now=now + timedelta(days=300)) == 0
    assert service.purge_unused(now=now + timedelta(days=366)) == 1


def test_retention_follows_the_consent(service: FaceService, photo: Photo) -> None:
    now = datetime.now(UTC)
    frames = [photo(n) for n in ENROL]
    service.record_consent("short", policy_version="2026-01", retention_days=30, now=now)
    service.enrol("short", "card-1", frames, new_unlock_secret(), now=now)
    service.record_consent("long", policy_version="2026-01", now=now)
    service.enrol("long", "card-1", frames, new_unlock_secret(), now=now)
    assert service.purge_unused(now=now + timedelta(days=29)) == 0
    assert service.purge_unused(now=now + timedelta(days=31)) == 1  # only "short"
    assert service.delete_template("long", "card-1")
    assert not service.delete_template("short", "card-1")


def test_consent_is_recorded_with_its_terms(service: FaceService) -> None:
    record = service.record_consent("subj-c", policy_version="2026-02", retention_days=90)
    active = service.active_consent("subj-c")
    assert active is not None and active.policy_version == "2026-02"
    assert active.retention_days == 90 and active.purpose == record.purpose
    with pytest.raises(InvalidInput, match="retention_days"):
        service.record_consent("subj-c", policy_version="2026-02", retention_days=1000)
    long_reference = "DPIA-2026/" + "x" * 180  # the hub's policy page passes DPIA references
    assert service.record_consent("subj-d", policy_version=long_reference).policy_version
    with pytest.raises(InvalidInput, match="policy version"):
        service.record_consent("subj-d", policy_version="")


def test_the_service_offers_no_one_to_many_api() -> None:
    public = {name for name in dir(FaceService) if not name.startswith("_")}
    forbidden = ("identify", "search", "list", "all", "match_any", "nearest", "find")
    assert not [name for name in public if any(word in name for word in forbidden)]
    assert public == {
        "active_consent",
        "delete_template",
        "enrol",
        "purge_unused",
        "record_consent",
        "verify",
        "withdraw_consent",
    }


def test_an_edge_can_verify_a_sealed_template_without_a_database(
    engine: CachingFaceEngine, photo: Photo
) -> None:
    secret = new_unlock_secret()
    template = build_template([engine.embed_frame(photo(n)) for n in ENROL])
    sealed = seal_template(template, secret, subject="subj-e", credential_id="key-1")
    ids = {"subject": "subj-e", "credential_id": "key-1", "threshold": 0.3731}
    genuine = verify_sealed(engine, sealed, secret, [photo(n) for n in GENUINE], **ids)
    impostor = verify_sealed(engine, sealed, secret, [photo(n) for n in IMPOSTOR], **ids)
    assert genuine.matched and not impostor.matched
    with pytest.raises(FaceError, match="cannot be opened"):
        verify_sealed(engine, sealed, new_unlock_secret(), [photo(GENUINE[0])], **ids)
