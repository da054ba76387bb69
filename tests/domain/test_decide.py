"""Every outcome of decide(), each with the reason a person at the gate would read."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from doorward.domain.decide import decide
from doorward.domain.keys import HubKeys
from doorward.domain.memory import AccessMemory
from doorward.domain.mobile_key import current_step, issue_mobile_token
from doorward.domain.model import (
    AccessRequest,
    CardData,
    CredentialKind,
    Gate,
    Outcome,
    Schedule,
    WeeklyWindow,
)
from doorward.domain.passes import issue_pass, pass_code_digest
from doorward.errors import InvalidInput

from .conftest import (
    NOW,
    PASS_CODE_KEY,
    PIN,
    card_credential,
    mobile_credential,
    pass_grant,
    pin_credential,
    snapshot_of,
)


def card_request(number: str = "1001", gate_id: str = "g1") -> AccessRequest:
    return AccessRequest(gate_id, "r1", CredentialKind.CARD, card=CardData("h10301", number))


def mobile_request(keys: HubKeys, cred_id: str = "m1", step_offset: int = 0) -> AccessRequest:
    token = issue_mobile_token(keys, cred_id, current_step(NOW) + step_offset)
    return AccessRequest("g1", "r1", CredentialKind.MOBILE, token=token)


def test_enrolled_card_is_granted_with_its_subject_and_no_name() -> None:
    snapshot = snapshot_of(credentials=[card_credential()])
    decision = decide(card_request(), snapshot, NOW, AccessMemory())
    assert decision.granted and decision.outcome is Outcome.GRANTED
    assert decision.reason == "card accepted"
    assert (decision.credential_id, decision.subject) == ("c1", "subj-c1")
    assert not decision.needs_face and decision.alarm is None


def test_unknown_card_and_card_read_without_data_are_unknown_credentials() -> None:
    snapshot = snapshot_of(credentials=[card_credential()])
    unknown = decide(card_request("9999"), snapshot, NOW, AccessMemory())
    assert unknown.outcome is Outcome.UNKNOWN_CREDENTIAL and not unknown.granted
    assert "not enrolled" in unknown.reason
    empty = decide(AccessRequest("g1", "r1", CredentialKind.CARD), snapshot, NOW, AccessMemory())
    assert empty.outcome is Outcome.UNKNOWN_CREDENTIAL


def test_same_number_in_another_wiegand_format_is_a_different_card() -> None:
    snapshot = snapshot_of(credentials=[card_credential()])
    request = AccessRequest("g1", "r1", CredentialKind.CARD, card=CardData("h10304", "1001"))
    assert decide(request, snapshot, NOW, AccessMemory()).outcome is Outcome.UNKNOWN_CREDENTIAL


def test_revoked_card_is_denied_as_revoked() -> None:
    snapshot = snapshot_of(credentials=[card_credential(revoked=True)])
    decision = decide(card_request(), snapshot, NOW, AccessMemory())
    assert decision.outcome is Outcome.REVOKED and decision.reason == "this credential was revoked"
    assert decision.subject == "subj-c1"  # the denial event still carries the pseudonym


def test_validity_window_edges() -> None:
    cred = card_credential(valid_from=NOW, valid_until=NOW + timedelta(days=1))
    snapshot = snapshot_of(credentials=[cred])
    memory = AccessMemory()
    before = decide(card_request(), snapshot, NOW - timedelta(seconds=1), memory)
    assert before.outcome is Outcome.NOT_YET_VALID
    assert decide(card_request(), snapshot, NOW, memory).granted
    last = NOW + timedelta(days=1) - timedelta(microseconds=1)
    assert decide(card_request(), snapshot, last, memory).granted
    after = decide(card_request(), snapshot, NOW + timedelta(days=1), memory)
    assert after.outcome is Outcome.EXPIRED and "expired" in after.reason


def test_credential_limited_to_other_gates_is_wrong_gate() -> None:
    gates = [Gate("g1", "site-1", "Main"), Gate("g2", "site-1", "Garage")]
    snapshot = snapshot_of(gates=gates, credentials=[card_credential(gates=frozenset({"g2"}))])
    assert decide(card_request(), snapshot, NOW, AccessMemory()).outcome is Outcome.WRONG_GATE
    assert decide(card_request(gate_id="g2"), snapshot, NOW, AccessMemory()).granted


def test_gate_missing_from_snapshot_is_wrong_gate_with_a_fix() -> None:
    snapshot = snapshot_of(credentials=[card_credential()])
    decision = decide(card_request(gate_id="gX"), snapshot, NOW, AccessMemory())
    assert decision.outcome is Outcome.WRONG_GATE and "push a fresh snapshot" in decision.reason


def test_schedule_closed_denies_and_open_grants() -> None:
    # Wednesday (weekday 2) 08:00-11:00 UTC; NOW is Wednesday 12:00 UTC.
    morning = Schedule("s1", (WeeklyWindow(2, 8 * 60, 11 * 60),))
    all_day = Schedule("s2", (WeeklyWindow(2, 0, 1440),))
    creds = [card_credential(schedule_id="s1"), card_credential("c2", "1002", schedule_id="s2")]
    snapshot = snapshot_of(credentials=creds, schedules=[morning, all_day])
    closed = decide(card_request(), snapshot, NOW, AccessMemory())
    assert closed.outcome is Outcome.OUTSIDE_SCHEDULE and "schedule" in closed.reason
    assert decide(card_request("1002"), snapshot, NOW, AccessMemory()).granted


def test_lockdown_admits_only_responders() -> None:
    creds = [card_credential(), card_credential("c2", "1002", responder=True)]
    snapshot = snapshot_of(credentials=creds, lockdown=True)
    resident = decide(card_request(), snapshot, NOW, AccessMemory())
    assert resident.outcome is Outcome.LOCKDOWN and "lockdown" in resident.reason
    responder = decide(card_request("1002"), snapshot, NOW, AccessMemory())
    assert responder.granted and "lockdown" in responder.reason


def test_face_is_required_by_gate_or_by_credential() -> None:
    face_gate = Gate("g1", "site-1", "Lobby", requires_face=True)
    plain_gate = Gate("g2", "site-1", "Garage")
    creds = [card_credential(), card_credential("c2", "1002", face_second_factor=True)]
    snapshot = snapshot_of(gates=[face_gate, plain_gate], credentials=creds)
    assert decide(card_request(), snapshot, NOW, AccessMemory()).needs_face
    assert not decide(card_request(gate_id="g2"), snapshot, NOW, AccessMemory()).needs_face
    assert decide(card_request("1002", gate_id="g2"), snapshot, NOW, AccessMemory()).needs_face


def test_face_is_never_asked_for_on_a_denial() -> None:
    gate = Gate("g1", "site-1", "Lobby", requires_face=True)
    snapshot = snapshot_of(gates=[gate], credentials=[card_credential(revoked=True)])
    assert not decide(card_request(), snapshot, NOW, AccessMemory()).needs_face


def test_pin_right_wrong_and_unknown() -> None:
    snapshot = snapshot_of(credentials=[pin_credential()])

    def pin_request(pin_id: str, pin: str) -> AccessRequest:
        return AccessRequest("g1", "r1", CredentialKind.PIN, pin_id=pin_id, pin=pin)

    granted = decide(pin_request("0401", PIN), snapshot, NOW, AccessMemory())
    assert granted.granted and granted.reason == "PIN accepted"
    wrong = decide(pin_request("0401", "0000"), snapshot, NOW, AccessMemory())
    assert wrong.outcome is Outcome.WRONG_PIN and wrong.reason == "wrong PIN"
    malformed = decide(pin_request("0401", "12ab"), snapshot, NOW, AccessMemory())
    assert malformed.outcome is Outcome.WRONG_PIN
    unknown = decide(pin_request("7777", PIN), snapshot, NOW, AccessMemory())
    assert unknown.outcome is Outcome.UNKNOWN_CREDENTIAL


def test_wrong_pin_on_a_revoked_credential_reveals_nothing_about_its_status() -> None:
    snapshot = snapshot_of(credentials=[pin_credential(revoked=True)])
    request = AccessRequest("g1", "r1", CredentialKind.PIN, pin_id="0401", pin="0000")
    assert decide(request, snapshot, NOW, AccessMemory()).outcome is Outcome.WRONG_PIN
    right = replace(request, pin=PIN)
    assert decide(right, snapshot, NOW, AccessMemory()).outcome is Outcome.REVOKED


def test_corrupt_pin_hash_is_denied_not_raised() -> None:
    snapshot = snapshot_of(credentials=[replace(pin_credential(), pin_hash="not-an-argon2-hash")])
    request = AccessRequest("g1", "r1", CredentialKind.PIN, pin_id="0401", pin=PIN)
    decision = decide(request, snapshot, NOW, AccessMemory())
    assert decision.outcome is Outcome.WRONG_PIN and "reset this PIN" not in decision.reason
    assert "argon2" in decision.reason


def test_mobile_key_granted_then_replayed(keys: HubKeys) -> None:
    snapshot = snapshot_of(credentials=[mobile_credential()])
    memory = AccessMemory()
    request = mobile_request(keys)
    first = decide(request, snapshot, NOW, memory)
    assert first.granted and first.token_step == current_step(NOW)
    memory.remember(request, first, NOW)
    again = decide(request, snapshot, NOW + timedelta(seconds=5), memory)
    assert again.outcome is Outcome.REPLAYED_TOKEN and "already used" in again.reason
    older = mobile_request(keys, step_offset=-1)
    assert decide(older, snapshot, NOW, memory).outcome is Outcome.REPLAYED_TOKEN
    # The phone may move to the next step straight away (within the skew window).
    newer = mobile_request(keys, step_offset=1)
    assert decide(newer, snapshot, NOW, memory).granted


def test_mobile_key_outside_skew_window_is_invalid(keys: HubKeys) -> None:
    snapshot = snapshot_of(credentials=[mobile_credential()])
    for offset in (-1, 1):
        assert decide(
            mobile_request(keys, step_offset=offset), snapshot, NOW, AccessMemory()
        ).granted
    for offset in (-2, 2, 1000):
        decision = decide(mobile_request(keys, step_offset=offset), snapshot, NOW, AccessMemory())
        assert decision.outcome is Outcome.INVALID_TOKEN and "clock" in decision.reason


def test_mobile_key_signed_by_another_hub_is_invalid(keys: HubKeys) -> None:
    snapshot = snapshot_of(credentials=[mobile_credential()])
    forged = mobile_request(HubKeys.generate())
    decision = decide(forged, snapshot, NOW, AccessMemory())
    assert decision.outcome is Outcome.INVALID_TOKEN and "signature" in decision.reason
    assert decision.credential_id is None


def test_mobile_token_for_a_card_credential_is_unknown(keys: HubKeys) -> None:
    snapshot = snapshot_of(credentials=[card_credential(), mobile_credential()])
    decision = decide(mobile_request(keys, "c1"), snapshot, NOW, AccessMemory())
    assert decision.outcome is Outcome.UNKNOWN_CREDENTIAL


def test_denied_mobile_key_does_not_consume_its_step(keys: HubKeys) -> None:
    cred = mobile_credential(valid_from=NOW + timedelta(seconds=10))
    snapshot = snapshot_of(credentials=[cred])
    memory = AccessMemory()
    request = mobile_request(keys)
    early = decide(request, snapshot, NOW, memory)
    memory.remember(request, early, NOW)
    assert early.outcome is Outcome.NOT_YET_VALID
    assert decide(request, snapshot, NOW + timedelta(seconds=10), memory).granted


def test_visitor_pass_qr_granted_until_used_up(keys: HubKeys) -> None:
    grant = pass_grant(max_uses=2)
    snapshot = snapshot_of(passes=[grant])
    memory = AccessMemory()
    request = AccessRequest("g1", "r1", CredentialKind.VISITOR_PASS, token=issue_pass(keys, grant))
    for _ in range(2):
        decision = decide(request, snapshot, NOW, memory)
        assert decision.granted and decision.pass_id == "v1" and decision.subject is None
        memory.remember(request, decision, NOW)
    used_up = decide(request, snapshot, NOW, memory)
    assert used_up.outcome is Outcome.PASS_USED_UP and "2 time" in used_up.reason


def test_pass_issued_after_the_snapshot_is_verified_by_signature_alone(keys: HubKeys) -> None:
    snapshot = snapshot_of()  # the pass is not in it
    grant = pass_grant(kind="delivery", max_uses=1)
    request = AccessRequest("g1", "r1", CredentialKind.DELIVERY_PASS, token=issue_pass(keys, grant))
    decision = decide(request, snapshot, NOW, AccessMemory())
    assert decision.granted and decision.reason == "delivery pass accepted"


def test_pass_revoked_in_snapshot_is_refused_even_with_a_valid_signature(keys: HubKeys) -> None:
    grant = pass_grant()
    snapshot = snapshot_of(passes=[replace(grant, revoked=True)])
    request = AccessRequest("g1", "r1", CredentialKind.VISITOR_PASS, token=issue_pass(keys, grant))
    assert decide(request, snapshot, NOW, AccessMemory()).outcome is Outcome.REVOKED


def test_pass_window_gates_and_site(keys: HubKeys) -> None:
    gates = [Gate("g1", "site-1", "Main"), Gate("g2", "site-1", "Pool")]
    snapshot = snapshot_of(gates=gates)

    def outcome(**kw: object) -> Outcome:
        token = issue_pass(keys, pass_grant(**kw))  # type: ignore[arg-type]
        request = AccessRequest("g1", "r1", CredentialKind.VISITOR_PASS, token=token)
        return decide(request, snapshot, NOW, AccessMemory()).outcome

    assert outcome(valid_from=NOW + timedelta(minutes=5)) is Outcome.NOT_YET_VALID
    assert outcome(valid_until=NOW, valid_from=NOW - timedelta(hours=2)) is Outcome.EXPIRED
    assert outcome(gates=frozenset({"g2"})) is Outcome.WRONG_GATE
    assert outcome(site_id="site-2") is Outcome.WRONG_GATE
    assert outcome(gates=frozenset({"g1"})) is Outcome.GRANTED


def test_pass_in_lockdown_is_refused(keys: HubKeys) -> None:
    grant = pass_grant()
    snapshot = snapshot_of(passes=[grant], lockdown=True)
    request = AccessRequest("g1", "r1", CredentialKind.VISITOR_PASS, token=issue_pass(keys, grant))
    assert decide(request, snapshot, NOW, AccessMemory()).outcome is Outcome.LOCKDOWN


def test_typed_pass_code_is_found_by_digest() -> None:
    grant = pass_grant()
    digest = pass_code_digest("K7M2-QX9P", PASS_CODE_KEY)
    snapshot = snapshot_of(passes=[grant], pass_code_digests={"v1": digest})
    assert "K7M2QX9P" not in repr(snapshot)

    def typed(code: str) -> AccessRequest:
        return AccessRequest("g1", "kp", CredentialKind.VISITOR_PASS, pass_code=code)

    decision = decide(typed("k7m2 qx9p"), snapshot, NOW, AccessMemory())
    assert decision.granted and decision.pass_id == "v1"
    assert decide(typed("K7M2QX9Q"), snapshot, NOW, AccessMemory()).outcome is (
        Outcome.UNKNOWN_CREDENTIAL
    )
    assert decide(typed("not a code"), snapshot, NOW, AccessMemory()).outcome is (
        Outcome.UNKNOWN_CREDENTIAL
    )
    empty = AccessRequest("g1", "kp", CredentialKind.VISITOR_PASS)
    assert decide(empty, snapshot, NOW, AccessMemory()).outcome is Outcome.UNKNOWN_CREDENTIAL


def test_garbled_pass_qr_is_invalid_token(keys: HubKeys) -> None:
    token = issue_pass(keys, pass_grant())
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    request = AccessRequest("g1", "r1", CredentialKind.VISITOR_PASS, token=flipped)
    decision = decide(request, snapshot_of(), NOW, AccessMemory())
    assert decision.outcome is Outcome.INVALID_TOKEN and decision.reason


def test_every_outcome_is_reachable_and_explained() -> None:
    # The tests above each assert one outcome; this guards against a new Outcome without a test.
    covered = {
        Outcome.GRANTED,
        Outcome.UNKNOWN_CREDENTIAL,
        Outcome.REVOKED,
        Outcome.NOT_YET_VALID,
        Outcome.EXPIRED,
        Outcome.OUTSIDE_SCHEDULE,
        Outcome.WRONG_GATE,
        Outcome.PASS_USED_UP,
        Outcome.ANTI_PASSBACK,
        Outcome.LOCKDOWN,
        Outcome.PIN_LOCKED_OUT,
        Outcome.WRONG_PIN,
        Outcome.INVALID_TOKEN,
        Outcome.REPLAYED_TOKEN,
        Outcome.FACE_NOT_VERIFIED,
    }  # ANTI_PASSBACK: test_antipassback.py, PIN_LOCKED_OUT: test_pin_lockout.py,
    # FACE_NOT_VERIFIED: tests/face_integration (the edge's face step sets it)
    assert covered == set(Outcome)


def test_the_signed_grant_not_the_reader_says_visitor_or_delivery(keys: HubKeys) -> None:
    grant = pass_grant(kind="delivery")
    request = AccessRequest("g1", "r1", CredentialKind.VISITOR_PASS, token=issue_pass(keys, grant))
    decision = decide(request, snapshot_of(), NOW, AccessMemory())
    assert decision.credential_kind is CredentialKind.DELIVERY_PASS
    assert decision.reason == "delivery pass accepted"
    assert decision.pass_valid_until == grant.valid_until


def test_naive_time_is_a_programming_error() -> None:
    snapshot = snapshot_of(credentials=[card_credential()])
    with pytest.raises(InvalidInput, match="timezone-aware"):
        decide(card_request(), snapshot, NOW.replace(tzinfo=None), AccessMemory())
