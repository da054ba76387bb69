"""AccessMemory persistence and pruning."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from doorward.domain.decide import decide
from doorward.domain.keys import HubKeys
from doorward.domain.memory import AccessMemory, AccessPolicy
from doorward.domain.mobile_key import current_step, issue_mobile_token
from doorward.domain.model import (
    AccessRequest,
    AntiPassbackMode,
    CardData,
    CredentialKind,
    Gate,
    Outcome,
)
from doorward.domain.passes import issue_pass
from doorward.errors import InvalidInput

from .conftest import (
    NOW,
    card_credential,
    mobile_credential,
    pass_grant,
    pin_credential,
    snapshot_of,
)


def busy_memory(keys: HubKeys) -> tuple[AccessMemory, list[AccessRequest]]:
    gate = Gate("g1", "site-1", "Main", antipassback=AntiPassbackMode.HARD)
    snapshot = snapshot_of(
        gates=[gate],
        credentials=[card_credential(), mobile_credential(), pin_credential()],
        passes=[pass_grant(max_uses=1)],
    )
    memory = AccessMemory(policy=AccessPolicy(pin_max_failures=3))
    requests = [
        AccessRequest("g1", "r1", CredentialKind.CARD, card=CardData("h10301", "1001")),
        AccessRequest(
            "g1",
            "r1",
            CredentialKind.MOBILE,
            token=issue_mobile_token(keys, "m1", current_step(NOW)),
        ),
        AccessRequest(
            "g1", "r1", CredentialKind.VISITOR_PASS, token=issue_pass(keys, pass_grant(max_uses=1))
        ),
        AccessRequest("g1", "kp", CredentialKind.PIN, pin_id="0401", pin="0000"),
    ]
    for request in requests:
        memory.remember(request, decide(request, snapshot, NOW, memory), NOW)
    return memory, requests


def test_memory_round_trips_through_json(keys: HubKeys) -> None:
    memory, _ = busy_memory(keys)
    restored = AccessMemory.from_dict(json.loads(json.dumps(memory.to_dict())))
    assert restored == memory
    assert restored.pass_uses == {"v1": 1}
    assert restored.pass_expiry == {"v1": (NOW + timedelta(hours=3)).timestamp()}
    assert restored.mobile_steps == {"m1": current_step(NOW)}
    assert set(restored.passages) == {"subj-c1", "subj-m1", "pass:v1"}
    assert list(restored.keypad_failures["kp"]) == [NOW.timestamp()]
    assert restored.policy.pin_max_failures == 3


def test_restored_memory_still_refuses_replays_and_used_passes(keys: HubKeys) -> None:
    memory, requests = busy_memory(keys)
    restored = AccessMemory.from_dict(memory.to_dict())
    snapshot = snapshot_of(credentials=[mobile_credential()], passes=[pass_grant(max_uses=1)])
    assert decide(requests[1], snapshot, NOW, restored).outcome is Outcome.REPLAYED_TOKEN
    assert decide(requests[2], snapshot, NOW, restored).outcome is Outcome.PASS_USED_UP


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("passages"),
        lambda d: d.update(format=99),
        lambda d: d.update(mobile_steps={"m1": "soon"}),
        lambda d: d.update(passages={"s": {"direction": "sideways", "at": 1, "gate_id": "g"}}),
        lambda d: d["policy"].update(pin_max_failures=0),
    ],
)
def test_damaged_memory_is_refused_with_a_fix(keys: HubKeys, damage: object) -> None:
    data = busy_memory(keys)[0].to_dict()
    damage(data)  # type: ignore[operator]
    with pytest.raises(InvalidInput) as info:
        AccessMemory.from_dict(data)
    assert info.value.hint


def test_prune_forgets_only_what_cannot_matter(keys: HubKeys) -> None:
    memory, _ = busy_memory(keys)
    memory.keypad_locked_until["r9"] = (NOW + timedelta(seconds=10)).timestamp()
    memory.prune(NOW + timedelta(seconds=5))
    assert "kp" in memory.keypad_failures and "r9" in memory.keypad_locked_until
    assert "m1" in memory.mobile_steps
    memory.prune(NOW + timedelta(minutes=10))
    assert memory.keypad_failures == {} and memory.keypad_locked_until == {}
    assert memory.mobile_steps == {}
    assert memory.pass_uses == {"v1": 1} and len(memory.passages) == 3
    # The pass ends 3 hours after NOW: only then may its use count and passage go.
    memory.prune(NOW + timedelta(hours=3) - timedelta(seconds=1))
    assert memory.pass_uses == {"v1": 1}
    memory.prune(NOW + timedelta(hours=3))
    assert memory.pass_uses == {} and memory.pass_expiry == {}
    assert set(memory.passages) == {"subj-c1", "subj-m1"}


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(InvalidInput, match="pin_lockout_seconds"):
        AccessPolicy(pin_lockout_seconds=0)
    assert AccessPolicy(token_skew_steps=0).token_skew_steps == 0


def test_prune_keeps_the_count_of_a_pass_the_hub_extended(keys: HubKeys) -> None:
    memory, _ = busy_memory(keys)
    extended = pass_grant(max_uses=1, valid_until=NOW + timedelta(days=2))
    later = NOW + timedelta(days=1)
    memory.prune(later, snapshot_of(passes=[extended]))
    assert memory.pass_uses == {"v1": 1}
    memory.prune(NOW + timedelta(days=2), snapshot_of(passes=[extended]))
    assert memory.pass_uses == {}
