"""Keypad lockout: 5 wrong entries within 5 minutes at one reader lock it for 5 minutes."""

from __future__ import annotations

from datetime import datetime, timedelta

from doorward.domain.decide import decide
from doorward.domain.memory import AccessMemory, AccessPolicy
from doorward.domain.model import AccessRequest, CredentialKind, Outcome, Snapshot
from doorward.domain.passes import pass_code_digest

from .conftest import NOW, PASS_CODE_KEY, PIN, pass_grant, pin_credential, snapshot_of


def pin_at(reader: str, pin: str) -> AccessRequest:
    return AccessRequest("g1", reader, CredentialKind.PIN, pin_id="0401", pin=pin)


def attempt(
    memory: AccessMemory, snapshot: Snapshot, request: AccessRequest, at: datetime
) -> Outcome:
    decision = decide(request, snapshot, at, memory)
    memory.remember(request, decision, at)
    return decision.outcome


def test_fifth_failure_locks_the_reader_for_five_minutes() -> None:
    snapshot = snapshot_of(credentials=[pin_credential()])
    memory = AccessMemory()
    for i in range(4):
        assert attempt(memory, snapshot, pin_at("r1", "0000"), NOW + timedelta(seconds=i)) is (
            Outcome.WRONG_PIN
        )
    # Four failures: the right PIN still works.
    assert decide(pin_at("r1", PIN), snapshot, NOW + timedelta(seconds=5), memory).granted
    fifth = NOW + timedelta(seconds=10)
    assert attempt(memory, snapshot, pin_at("r1", "0000"), fifth) is Outcome.WRONG_PIN
    locked = decide(pin_at("r1", PIN), snapshot, fifth, memory)
    assert locked.outcome is Outcome.PIN_LOCKED_OUT and "try again" in locked.reason
    last_locked = fifth + timedelta(seconds=300) - timedelta(microseconds=1)
    assert decide(pin_at("r1", PIN), snapshot, last_locked, memory).outcome is (
        Outcome.PIN_LOCKED_OUT
    )
    assert decide(pin_at("r1", PIN), snapshot, fifth + timedelta(seconds=300), memory).granted


def test_lockout_is_per_reader() -> None:
    snapshot = snapshot_of(credentials=[pin_credential()])
    memory = AccessMemory()
    for i in range(5):
        attempt(memory, snapshot, pin_at("r1", "0000"), NOW + timedelta(seconds=i))
    assert decide(pin_at("r1", PIN), snapshot, NOW, memory).outcome is Outcome.PIN_LOCKED_OUT
    assert decide(pin_at("r2", PIN), snapshot, NOW, memory).granted


def test_failures_older_than_the_window_do_not_count() -> None:
    snapshot = snapshot_of(credentials=[pin_credential()])
    memory = AccessMemory()
    for i in range(4):
        attempt(memory, snapshot, pin_at("r1", "0000"), NOW + timedelta(seconds=i))
    # The first failure (at NOW) leaves the window at exactly NOW + 300 s.
    at = NOW + timedelta(seconds=300)
    assert attempt(memory, snapshot, pin_at("r1", "0000"), at) is Outcome.WRONG_PIN
    assert decide(pin_at("r1", PIN), snapshot, at, memory).granted
    # One second earlier it would have been the fifth failure within the window.
    memory2 = AccessMemory()
    for i in range(4):
        attempt(memory2, snapshot, pin_at("r1", "0000"), NOW + timedelta(seconds=i))
    attempt(memory2, snapshot, pin_at("r1", "0000"), at - timedelta(seconds=1))
    assert decide(pin_at("r1", PIN), snapshot, at, memory2).outcome is Outcome.PIN_LOCKED_OUT


def test_unknown_pin_ids_and_typed_pass_codes_count_as_keypad_guesses() -> None:
    grant = pass_grant()
    digest = pass_code_digest("K7M2QX9P", PASS_CODE_KEY)
    snapshot = snapshot_of(
        credentials=[pin_credential()], passes=[grant], pass_code_digests={"v1": digest}
    )
    memory = AccessMemory()
    for i in range(3):
        unknown = AccessRequest("g1", "kp", CredentialKind.PIN, pin_id=f"99{i}", pin="1234")
        attempt(memory, snapshot, unknown, NOW)
    for code in ("AAAAAAAA", "BBBBBBBB"):
        guess = AccessRequest("g1", "kp", CredentialKind.VISITOR_PASS, pass_code=code)
        assert attempt(memory, snapshot, guess, NOW) is Outcome.UNKNOWN_CREDENTIAL
    right_code = AccessRequest("g1", "kp", CredentialKind.VISITOR_PASS, pass_code="K7M2QX9P")
    assert decide(right_code, snapshot, NOW, memory).outcome is Outcome.PIN_LOCKED_OUT
    assert decide(pin_at("kp", PIN), snapshot, NOW, memory).outcome is Outcome.PIN_LOCKED_OUT


def test_lockout_thresholds_are_configurable() -> None:
    snapshot = snapshot_of(credentials=[pin_credential()])
    policy = AccessPolicy(pin_max_failures=2, pin_failure_window_seconds=60, pin_lockout_seconds=10)
    memory = AccessMemory(policy=policy)
    attempt(memory, snapshot, pin_at("r1", "0000"), NOW)
    attempt(memory, snapshot, pin_at("r1", "0000"), NOW)
    assert decide(pin_at("r1", PIN), snapshot, NOW, memory).outcome is Outcome.PIN_LOCKED_OUT
    assert decide(pin_at("r1", PIN), snapshot, NOW + timedelta(seconds=10), memory).granted
