"""Mobile-key tokens and pass payloads: round trips, forgeries, garbage."""

from __future__ import annotations

import base64
import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorward.domain.decide import decide
from doorward.domain.keys import HubKeys, verify_signature
from doorward.domain.memory import AccessMemory
from doorward.domain.mobile_key import (
    current_step,
    issue_mobile_batch,
    issue_mobile_token,
    parse_mobile_token,
)
from doorward.domain.model import AccessRequest, CredentialKind, Outcome
from doorward.domain.passes import (
    PASS_CODE_ALPHABET,
    issue_pass,
    new_pass_code,
    normalize_pass_code,
    parse_pass,
    pass_code_digest,
)
from doorward.errors import InvalidInput, InvalidToken

from .conftest import HUB_KEYS, NOW, mobile_credential, pass_grant, snapshot_of


def test_keys_round_trip_and_verify(keys: HubKeys) -> None:
    again = HubKeys.from_private_bytes(keys.private_bytes())
    assert again.public_bytes() == keys.public_bytes() and len(keys.public_bytes()) == 32
    sig = again.sign(b"data")
    assert verify_signature(keys.public_bytes(), b"data", sig)
    assert not verify_signature(keys.public_bytes(), b"datA", sig)
    assert not verify_signature(HubKeys.generate().public_bytes(), b"data", sig)
    with pytest.raises(InvalidInput):
        HubKeys.from_private_bytes(b"short")
    with pytest.raises(InvalidInput):
        verify_signature(b"short", b"data", sig)


def test_current_step_is_thirty_second_buckets() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert current_step(epoch + timedelta(seconds=29)) == 0
    assert current_step(epoch + timedelta(seconds=30)) == 1
    assert current_step(epoch + timedelta(seconds=60), step_seconds=10) == 6
    with pytest.raises(InvalidInput):
        current_step(datetime(2026, 1, 1))  # naive


def test_mobile_token_round_trip_is_short_and_url_safe(keys: HubKeys) -> None:
    token = issue_mobile_token(keys, "m-3f2a9c", 59_000_123)
    assert parse_mobile_token(token, keys.public_bytes()) == ("m-3f2a9c", 59_000_123)
    assert len(token) <= 110 and set(token) <= set(string.ascii_letters + string.digits + "-_")


def test_mobile_batch_covers_consecutive_steps(keys: HubKeys) -> None:
    batch = issue_mobile_batch(keys, "m1", 100, 4)
    assert sorted(batch) == [100, 101, 102, 103]
    assert {parse_mobile_token(t, keys.public_bytes())[1] for t in batch.values()} == set(batch)


def test_mobile_token_with_edited_step_or_credential_is_refused(keys: HubKeys) -> None:
    raw = bytearray(base64.urlsafe_b64decode(issue_mobile_token(keys, "m1", 500) + "=="))
    raw[4] ^= 0x01  # last byte of the step
    edited = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="signature"):
        parse_mobile_token(edited, keys.public_bytes())


def test_pass_signature_is_not_a_mobile_token(keys: HubKeys) -> None:
    # Domain separation: the same key signs both formats, so each signs its own context.
    body = bytes((1,)) + (500).to_bytes(4, "big") + bytes((2,)) + b"m1"
    sig = keys.sign(body)  # a signature without the mobile-key context label
    token = base64.urlsafe_b64encode(body + sig).rstrip(b"=").decode()
    with pytest.raises(InvalidToken):
        parse_mobile_token(token, keys.public_bytes())


@pytest.mark.parametrize("garbage", ["", "!!!!", "AQ", "A" * 600, "é" * 10, "AAAA" * 30, "=" * 8])
def test_malformed_mobile_tokens_raise_invalid_token(keys: HubKeys, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        parse_mobile_token(garbage, keys.public_bytes())


def test_pass_round_trip_keeps_every_signed_field(keys: HubKeys) -> None:
    grant = pass_grant(gates=frozenset({"g1", "g2"}), max_uses=3, kind="delivery")
    parsed = parse_pass(issue_pass(keys, grant), keys.public_bytes())
    assert parsed == grant


def test_pass_payload_fits_qr_alphanumeric_mode(keys: HubKeys) -> None:
    payload = issue_pass(keys, pass_grant(id="3f6c1a0e-6d1b-4a57-9a4f-0c1b2d3e4f50"))
    assert set(payload) <= set(string.ascii_uppercase + "234567")
    assert len(payload) < 300  # a version-10 QR holds 395 alphanumeric chars at level M


def test_pass_times_are_kept_to_the_second(keys: HubKeys) -> None:
    grant = pass_grant(valid_from=NOW + timedelta(microseconds=700))
    assert parse_pass(issue_pass(keys, grant), keys.public_bytes()).valid_from == NOW


def test_forged_and_foreign_passes_raise_invalid_token(keys: HubKeys) -> None:
    other = HubKeys.generate()
    with pytest.raises(InvalidToken, match="signature"):
        parse_pass(issue_pass(other, pass_grant()), keys.public_bytes())
    payload = issue_pass(keys, pass_grant(max_uses=1))
    raw = bytearray(base64.b32decode(payload + "=" * (-len(payload) % 8)))
    raw[11] = 0xFF  # max_uses low byte: 1 -> 255
    tampered = base64.b32encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="signature"):
        parse_pass(tampered, keys.public_bytes())


def test_pass_issue_refuses_bad_grants(keys: HubKeys) -> None:
    with pytest.raises(InvalidInput, match="ends before"):
        issue_pass(keys, pass_grant(valid_until=NOW - timedelta(days=1)))
    with pytest.raises(InvalidInput, match="uses"):
        issue_pass(keys, pass_grant(max_uses=0))
    with pytest.raises(InvalidInput, match="timezone"):
        issue_pass(keys, pass_grant(valid_from=datetime(2026, 1, 1)))
    with pytest.raises(InvalidInput, match="longer"):
        issue_pass(keys, pass_grant(id="x" * 300))


def test_pass_codes_are_unambiguous_and_digested_with_a_key() -> None:
    codes = {new_pass_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 8 and set(c) <= set(PASS_CODE_ALPHABET) for c in codes)
    assert not set("01ILO") & set(PASS_CODE_ALPHABET)
    code = next(iter(codes))
    digest = pass_code_digest(code, b"k1")
    assert code not in digest and len(digest) == 64
    assert digest == pass_code_digest(code.lower(), b"k1")
    assert digest != pass_code_digest(code, b"k2")
    assert normalize_pass_code("k7m2-qx9p") == "K7M2QX9P"
    with pytest.raises(InvalidInput, match="8 characters"):
        normalize_pass_code("K7M2QX90")  # 0 is not in the alphabet
    with pytest.raises(InvalidInput):
        pass_code_digest("K7M2QX9P", b"")


# -- properties -------------------------------------------------------------------------

_SNAPSHOT = snapshot_of(credentials=[mobile_credential()], passes=[pass_grant()])
_GOOD_TOKEN = issue_mobile_token(HUB_KEYS, "m1", current_step(NOW))
_GOOD_PASS = issue_pass(HUB_KEYS, pass_grant())


def _decide_token(kind: CredentialKind, token: str) -> Outcome:
    request = AccessRequest("g1", "r1", kind, token=token)
    return decide(request, _SNAPSHOT, NOW, AccessMemory()).outcome


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_any_text_as_mobile_token_is_invalid_token_never_a_crash(text: str) -> None:
    assert _decide_token(CredentialKind.MOBILE, text) is Outcome.INVALID_TOKEN


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=len(_GOOD_TOKEN) - 1), st.sampled_from("AQgw-_z9"))
def test_any_one_char_change_to_a_mobile_token_is_refused(position: int, char: str) -> None:
    garbled = _GOOD_TOKEN[:position] + char + _GOOD_TOKEN[position + 1 :]
    outcome = _decide_token(CredentialKind.MOBILE, garbled)
    # Base64's unused low bits in the last char can change without changing the bytes.
    if base64.urlsafe_b64decode(garbled + "==") == base64.urlsafe_b64decode(_GOOD_TOKEN + "=="):
        assert outcome is Outcome.GRANTED
    else:
        assert outcome is Outcome.INVALID_TOKEN


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=1, max_size=300))
def test_any_bytes_as_pass_payload_are_invalid_token(raw: bytes) -> None:
    payload = base64.b32encode(raw).rstrip(b"=").decode()
    assert _decide_token(CredentialKind.VISITOR_PASS, payload) is Outcome.INVALID_TOKEN


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=len(_GOOD_PASS) - 2), st.sampled_from("A7Q2"))
def test_any_one_char_change_to_a_pass_is_refused(position: int, char: str) -> None:
    garbled = _GOOD_PASS[:position] + char + _GOOD_PASS[position + 1 :]
    expected = Outcome.GRANTED if garbled == _GOOD_PASS else Outcome.INVALID_TOKEN
    assert _decide_token(CredentialKind.VISITOR_PASS, garbled) is expected


def test_a_revoked_grant_cannot_be_reissued_as_valid_by_the_holder(keys: HubKeys) -> None:
    grant = pass_grant()
    payload = issue_pass(keys, grant)
    snapshot = snapshot_of(passes=[replace(grant, revoked=True)])
    request = AccessRequest("g1", "r1", CredentialKind.VISITOR_PASS, token=payload)
    assert decide(request, snapshot, NOW, AccessMemory()).outcome is Outcome.REVOKED
