"""From enrolment at the hub to a decision at an edge: 1:1 after the credential, never before.

Every test enrols Ana through the hub's API (real photos, real embedding, sealed template),
syncs a real EdgeController from the hub's snapshot, and presents her credential with the
secret her card or phone holds. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from doorward.domain.mobile_key import current_step, issue_mobile_token
from doorward.domain.model import Outcome
from doorward.edge.face_check import EdgeFaceCheck, SimulatedCamera
from doorward.edge.readers import ReaderInput
from doorward.face import LivenessCheck, new_unlock_secret
from doorward.store.models import utcnow

from .conftest import ANA_AT_GATE, IMPOSTOR, ContentCachingEngine, World, photo
from .edges import AnsweredChallenge, Edge

pytestmark = pytest.mark.face

MakeEdge = Callable[..., Edge]


@pytest.fixture
def make_edge(
    world: World, tmp_path: Path, engine: ContentCachingEngine
) -> Iterator[MakeEdge]:
    running: list[Edge] = []
    counter = itertools.count()

    def make(gate_id: str = "main", *, camera: bool = True,
             liveness: LivenessCheck | None = None, **face_options: object) -> Edge:
        face = None
        if camera:
            face = EdgeFaceCheck(SimulatedCamera(), engine=engine,
                                 liveness=liveness or AnsweredChallenge(),
                                 **face_options)  # type: ignore[arg-type]
        edge = Edge(world, gate_id, tmp_path / f"edge-{next(counter)}", face)
        edge.controller.start()
        running.append(edge)
        edge.sync()
        return edge

    yield make
    for edge in running:
        edge.controller.stop()


@pytest.fixture
def enrolled(world: World, secret: bytes) -> bytes:
    world.consent()
    world.enrol(world.card, secret)
    return secret


def test_genuine_resident_passes_and_an_impostor_is_refused_at_the_gate(
    world: World, enrolled: bytes, make_edge: MakeEdge
) -> None:
    liveness = AnsweredChallenge()
    gate = make_edge("main", liveness=liveness)
    gate.film([photo(p) for p in ANA_AT_GATE])
    granted = gate.card(enrolled)
    assert granted.granted and granted.outcome is Outcome.GRANTED, granted.reason
    assert "face verified" in granted.reason
    assert gate.relay.actions and gate.relay.actions[-1].action == "pulse"
    gate.film([photo(p) for p in IMPOSTOR])  # someone else holding Ana's card and phone
    refused = gate.card(enrolled)
    assert not refused.granted and refused.outcome is Outcome.FACE_NOT_VERIFIED
    assert "did not match" in refused.reason and "PIN" in refused.reason
    assert liveness.seen == [3, 3] and gate.reads == 2
    assert len(gate.relay.actions) == 1  # the impostor got no pulse
    outcomes = [e["outcome"] for e in _events(gate) if e["kind"] == "access"]
    assert outcomes == ["granted", "face_not_verified"]


def test_the_camera_is_never_read_unless_a_credential_was_accepted(
    world: World, enrolled: bytes, make_edge: MakeEdge
) -> None:
    main, pool = make_edge("main"), make_edge("pool")
    main.film([photo(p) for p in ANA_AT_GATE])
    assert main.card(enrolled, number="DEADBEEF").outcome is Outcome.UNKNOWN_CREDENTIAL
    ben = main.card(b"", number="00B0B0B0")  # valid, but Ben enrolled no face
    assert not ben.granted and "no face template" in ben.reason
    assert main.controller.handle_input(ReaderInput("r1", "keypad", keys="1*0000")).decision \
        .outcome in (Outcome.UNKNOWN_CREDENTIAL, Outcome.WRONG_PIN)
    time.sleep(0.3)  # the reader and monitor threads run with nobody presenting anything
    assert main.reads == 0
    assert pool.card(b"", number="00B0B0B0").granted  # a gate without a face rule: no film
    assert pool.reads == 0


def test_a_still_photo_fails_the_real_liveness_challenge(
    world: World, enrolled: bytes, make_edge: MakeEdge
) -> None:
    from doorward.face import ChallengeResponseLiveness

    gate = make_edge("main", liveness=ChallengeResponseLiveness())
    gate.film([photo(ANA_AT_GATE[0])] * 8)  # Ana's own photo, held up to the camera
    decision = gate.card(enrolled)
    assert not decision.granted and "liveness failed" in decision.reason


def test_another_phones_secret_or_no_secret_is_refused(
    world: World, enrolled: bytes, make_edge: MakeEdge
) -> None:
    gate = make_edge("main")
    gate.film([photo(p) for p in ANA_AT_GATE])
    wrong = gate.card(new_unlock_secret())
    assert not wrong.granted and "face check failed" in wrong.reason
    missing = gate.card(b"")
    assert not missing.granted and "did not present its face secret" in missing.reason


def test_the_pin_completes_the_entry_after_a_failed_face_check_never_alone(
    world: World, enrolled: bytes, make_edge: MakeEdge
) -> None:
    now = [1000.0]
    gate = make_edge("main", fallback_seconds=60, monotonic=lambda: now[0])
    alone = gate.pin()
    assert not alone.granted and alone.outcome is Outcome.FACE_NOT_VERIFIED
    gate.film([photo(p) for p in IMPOSTOR])
    assert not gate.card(enrolled).granted
    fallback = gate.pin()
    assert fallback.granted and "PIN accepted as the second factor" in fallback.reason
    assert not gate.pin().granted  # one fallback per failed face check
    gate.film([photo(p) for p in IMPOSTOR])
    assert not gate.card(enrolled).granted
    now[0] += 61
    late = gate.pin()
    assert not late.granted and late.outcome is Outcome.FACE_NOT_VERIFIED


def test_a_face_gate_without_a_camera_refuses_instead_of_skipping_the_face(
    world: World, enrolled: bytes, make_edge: MakeEdge
) -> None:
    gate = make_edge("main", camera=False)
    decision = gate.card(enrolled)
    assert not decision.granted and "has no camera" in decision.reason
    assert gate.relay.actions == []


def test_a_phone_presents_its_mobile_key_with_the_secret_through_the_simulated_reader(
    world: World, secret: bytes, make_edge: MakeEdge
) -> None:
    world.consent()
    world.enrol(world.mobile, secret)
    gate = make_edge("main")
    gate.film([photo(p) for p in ANA_AT_GATE])
    token = issue_mobile_token(world.ctx.keys, world.mobile, current_step(utcnow()))
    gate.reader.scan_token(token, face_secret=secret)
    assert gate.relay.opened.wait(10)
    assert gate.reads == 1
    access = [e for e in _events(gate) if e["kind"] == "access"]
    assert access[-1]["outcome"] == "granted" and access[-1]["credential_kind"] == "mobile"


def test_withdrawal_deletes_the_template_on_every_edge_and_other_credentials_keep_working(
    world: World, enrolled: bytes, make_edge: MakeEdge
) -> None:
    main, pool = make_edge("main"), make_edge("pool")
    held = main.controller.cache.face_template(world.card) if main.controller.cache else None
    assert held is not None
    assert pool.controller.cache and pool.controller.cache.face_template(world.card)
    response = world.client.delete("/api/v1/face/consent", headers=world.auth("ana"))
    assert response.status_code == 200
    for edge in (main, pool):
        edge.sync()
        cache = edge.controller.cache
        assert cache is not None and cache.face_template(world.card) is None
        assert cache.message is not None and cache.message.face_templates == []
        on_disk = b"".join(p.read_bytes() for p in edge.data_dir.glob("snapshot.sqlite3*"))
        assert held.ciphertext.encode() not in on_disk
        assert held.ciphertext[:40].encode() not in on_disk
    reads = pool.reads
    plain = pool.card()  # no face any more where the gate does not require one
    assert plain.granted and not plain.needs_face and pool.reads == reads
    assert pool.pin().granted
    at_main = main.card(enrolled)  # the face gate still wants a face: the PIN completes it
    assert not at_main.granted and "no face template" in at_main.reason
    assert main.pin().granted


def test_withdrawal_from_the_portal_also_reaches_the_edges(
    world: World, enrolled: bytes, make_edge: MakeEdge
) -> None:
    from doorward.hub.web import policy
    from doorward.hub.web.rendering import PageUser

    from .test_enrolment_api import _subject

    gate = make_edge("pool")
    assert gate.controller.cache and gate.controller.cache.face_template(world.card)
    ana = PageUser("u", "ana", "resident", world.ana, "")
    policy.record_consent(world.ctx, ana, _subject(world, world.ana), False)
    gate.sync()
    assert gate.controller.cache.face_template(world.card) is None
    assert gate.card().granted


def _events(edge: Edge) -> list[dict[str, object]]:
    assert edge.controller.outbox is not None
    return [e.model_dump() for e in edge.controller.outbox.pending(1000)]
