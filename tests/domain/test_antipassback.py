"""Anti-passback in its three modes, for credentials and for passes."""

from __future__ import annotations

from datetime import datetime, timedelta

from doorward.domain.decide import decide
from doorward.domain.keys import HubKeys
from doorward.domain.memory import AccessMemory
from doorward.domain.model import (
    AccessRequest,
    AntiPassbackMode,
    CardData,
    CredentialKind,
    Decision,
    Direction,
    Gate,
    Snapshot,
)
from doorward.domain.passes import issue_pass

from .conftest import NOW, card_credential, pass_grant, snapshot_of

CARD = AccessRequest("in", "r1", CredentialKind.CARD, card=CardData("h10301", "1001"))


def site(mode: AntiPassbackMode, seconds: int = 0) -> Snapshot:
    gates = [
        Gate("in", "site-1", "Entry", antipassback=mode, antipassback_seconds=seconds),
        Gate("out", "site-1", "Exit", direction=Direction.EXIT, antipassback=mode),
    ]
    return snapshot_of(
        gates=gates, credentials=[card_credential()], passes=[pass_grant(max_uses=9)]
    )


def use(memory: AccessMemory, snapshot: Snapshot, request: AccessRequest, at: datetime) -> Decision:
    decision = decide(request, snapshot, at, memory)
    memory.remember(request, decision, at)
    return decision


def exit_request(request: AccessRequest) -> AccessRequest:
    return AccessRequest("out", "r2", request.kind, card=request.card, token=request.token)


def test_hard_denies_a_second_entry_until_an_exit() -> None:
    snapshot, memory = site(AntiPassbackMode.HARD), AccessMemory()
    assert use(memory, snapshot, CARD, NOW).granted
    second = use(memory, snapshot, CARD, NOW + timedelta(hours=5))
    assert second.outcome == "anti_passback" and not second.granted
    assert "not passed the other way" in second.reason
    assert use(memory, snapshot, exit_request(CARD), NOW + timedelta(hours=6)).granted
    assert use(memory, snapshot, CARD, NOW + timedelta(hours=7)).granted


def test_soft_grants_with_an_alarm() -> None:
    snapshot, memory = site(AntiPassbackMode.SOFT), AccessMemory()
    first = use(memory, snapshot, CARD, NOW)
    assert first.granted and first.alarm is None
    second = use(memory, snapshot, CARD, NOW + timedelta(seconds=1))
    assert second.granted and second.alarm == "anti_passback" and "alarm" in second.reason


def test_timed_denies_same_direction_only_within_the_interval() -> None:
    snapshot, memory = site(AntiPassbackMode.TIMED, seconds=60), AccessMemory()
    assert use(memory, snapshot, CARD, NOW).granted
    within = use(memory, snapshot, CARD, NOW + timedelta(seconds=59))
    assert within.outcome == "anti_passback" and "wait 60 s" in within.reason
    assert use(memory, snapshot, CARD, NOW + timedelta(seconds=60)).granted


def test_off_keeps_no_passage_state_at_all() -> None:
    snapshot, memory = site(AntiPassbackMode.OFF), AccessMemory()
    for _ in range(3):
        assert use(memory, snapshot, CARD, NOW).granted
    assert memory.passages == {}


def test_a_pass_is_tracked_by_pass_not_by_its_host(keys: HubKeys) -> None:
    snapshot, memory = site(AntiPassbackMode.HARD), AccessMemory()
    token = issue_pass(keys, pass_grant(max_uses=9))
    visitor = AccessRequest("in", "r1", CredentialKind.VISITOR_PASS, token=token)
    assert use(memory, snapshot, visitor, NOW).granted
    assert use(memory, snapshot, visitor, NOW).outcome == "anti_passback"
    assert set(memory.passages) == {"pass:v1"}
    assert use(memory, snapshot, exit_request(visitor), NOW).granted
