"""Which sealed templates a gate's snapshot carries, and how deltas take them away."""

from __future__ import annotations

import pytest

from doorward.hub.schemas import CredentialIssue, GateUpdate
from doorward.hub.services import credentials, gates
from doorward.hub.services.common import bump_version
from doorward.hub.services.snapshots import snapshot_message
from doorward.store.models import CredentialRow
from doorward.transport.messages import SnapshotMessage

from .conftest import SYSTEM, World

pytestmark = pytest.mark.face


def _held(message: SnapshotMessage) -> set[str]:
    return {t.credential_id for t in message.face_templates}


def test_a_gate_gets_exactly_the_templates_of_credentials_valid_there(
    world: World, secret: bytes
) -> None:
    pool_only = credentials.issue_credential(world.ctx, SYSTEM, CredentialIssue(
        person_id=world.ben, kind="card", card_format="wiegand26", card_number="00C0C0C0",
        gates=["pool"]))
    assert _held(snapshot_message(world.ctx, "main")) == set()
    world.consent("ana")
    world.enrol(world.card, secret)
    world.consent("ben")
    world.enrol(pool_only.id, secret, who="ben")
    main, pool = snapshot_message(world.ctx, "main"), snapshot_message(world.ctx, "pool")
    assert _held(main) == {world.card}  # Ben's pool-only card never reaches the main gate
    assert _held(pool) == {world.card, pool_only.id}
    shipped = next(t for t in main.face_templates if t.credential_id == world.card)
    assert len(shipped.ciphertext) > 600  # sealed; the holder is bound inside, not named
    assert set(shipped.model_dump()) == {"credential_id", "ciphertext", "hkdf_salt", "nonce"}
    # Revoking Ben's card: the pool's next delta removes its template.
    since = pool.version
    credentials.revoke_credential(world.ctx, SYSTEM, pool_only.id)
    delta = snapshot_message(world.ctx, "pool", since)
    assert not delta.full and pool_only.id in delta.removed_face_templates
    assert _held(delta) == set()
    assert _held(snapshot_message(world.ctx, "pool")) == {world.card}


def test_withdrawal_delta_lists_the_removal_and_nothing_else_is_shipped(
    world: World, secret: bytes
) -> None:
    world.consent("ana")
    world.enrol(world.card, secret)
    since = snapshot_message(world.ctx, "main").version
    world.client.delete("/api/v1/face/consent", headers=world.auth("ana"))
    delta = snapshot_message(world.ctx, "main", since)
    assert not delta.full and delta.version > since
    assert world.card in delta.removed_face_templates and delta.face_templates == []
    assert {c.id for c in delta.credentials} >= {world.card, world.mobile, world.pin}
    assert not any(c.face_second_factor for c in delta.credentials)


def test_a_gate_that_requires_face_carries_templates_and_a_rule_change_re_judges_them(
    world: World, secret: bytes
) -> None:
    world.consent("ana")
    world.enrol(world.card, secret)
    with world.ctx.db.write() as session:  # face off on the card, template kept (e.g. paused)
        card = session.get(CredentialRow, world.card)
        assert card is not None
        card.face_second_factor = False
        card.version = bump_version(session, world.ctx.site_id)
    main, pool = snapshot_message(world.ctx, "main"), snapshot_message(world.ctx, "pool")
    assert _held(main) == {world.card}  # "main" requires face of everyone
    assert _held(pool) == set()  # "pool" does not, and Ana's card no longer asks for it
    gates.update_gate(world.ctx, SYSTEM, "main", GateUpdate(requires_face=False))
    delta = snapshot_message(world.ctx, "main", main.version)
    assert _held(delta) == set() and world.card in delta.removed_face_templates
    gates.update_gate(world.ctx, SYSTEM, "main", GateUpdate(requires_face=True))
    again = snapshot_message(world.ctx, "main", delta.version)
    assert _held(again) == {world.card}
