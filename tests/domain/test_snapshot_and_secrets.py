"""Snapshot indexes, PIN hashing and pseudonyms."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from doorward.domain.model import CardData, Schedule, WeeklyWindow
from doorward.domain.pin import hash_pin, validate_pin, verify_pin
from doorward.domain.pseudonym import subject_id
from doorward.errors import InvalidInput

from .conftest import HUB_KEYS, PIN, card_credential, pass_grant, pin_credential, snapshot_of


def test_indexes_map_cards_pins_and_code_digests_to_ids() -> None:
    snapshot = snapshot_of(
        credentials=[card_credential(), pin_credential()],
        passes=[pass_grant()],
        pass_code_digests={"v1": "d" * 64},
    )
    assert snapshot.cards == {("h10301", "1001"): "c1"}
    assert snapshot.pins == {"0401": "p1"}
    assert snapshot.pass_codes == {"d" * 64: "v1"}
    assert snapshot.hub_public_key == HUB_KEYS.public_bytes()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"credentials": [card_credential(), card_credential("c2")]}, "duplicate card number"),
        ({"credentials": [card_credential(), card_credential(number="2")]}, "duplicate credential"),
        ({"credentials": [card_credential(schedule_id="nope")]}, "unknown schedule"),
        ({"credentials": [replace(card_credential(), card=None)]}, "no card data"),
        ({"credentials": [replace(pin_credential(), pin_hash="")]}, "no PIN"),
        ({"pass_code_digests": {"ghost": "d"}}, "unknown pass"),
        ({"schedules": [Schedule("s", (WeeklyWindow(9, 0, 1),))]}, "weekday"),
        ({"credentials": [card_credential(valid_until=datetime(2030, 1, 1))]}, "timezone"),
        ({"passes": [pass_grant(valid_from=datetime(2026, 3, 4))]}, "timezone"),
    ],
)
def test_bad_snapshots_are_refused_before_reaching_a_gate(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        snapshot_of(**kwargs)  # type: ignore[arg-type]


def test_card_index_distinguishes_formats() -> None:
    other_format = replace(card_credential("c2"), card=CardData("h10304", "1001"))
    snapshot = snapshot_of(credentials=[card_credential(), other_format])
    assert len(snapshot.cards) == 2


def test_pin_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_pin("12345678")
    assert hashed.startswith("$argon2id$") and "m=19456,t=2,p=1" in hashed
    assert verify_pin(hashed, "12345678") and not verify_pin(hashed, "12345679")
    assert hash_pin("12345678") != hashed  # salted


@pytest.mark.parametrize("bad", ["", "123", "123456789", "12a4", "１２３４", " 1234"])
def test_pin_format_is_4_to_8_ascii_digits(bad: str) -> None:
    with pytest.raises(InvalidInput, match="4 to 8 digits"):
        validate_pin(bad)
    with pytest.raises(InvalidInput):
        hash_pin(bad)


def test_verify_pin_with_malformed_entry_is_false_and_bad_hash_raises() -> None:
    assert not verify_pin(pin_credential().pin_hash, "12")
    with pytest.raises(InvalidInput, match="argon2"):
        verify_pin("plain", PIN)


def test_subject_id_is_keyed_salted_and_32_hex() -> None:
    sid = subject_id(b"key", "person-17", b"salt")
    assert len(sid) == 32 and int(sid, 16) >= 0
    assert sid == subject_id(b"key", "person-17", b"salt")
    assert sid != subject_id(b"key2", "person-17", b"salt")
    assert sid != subject_id(b"key", "person-17", b"salt2")
    assert sid != subject_id(b"key", "person-18", b"salt")
    # The salt is length-prefixed: moving bytes between salt and id changes the result.
    assert subject_id(b"key", "1abc", b"s") != subject_id(b"key", "abc", b"s1")
    with pytest.raises(InvalidInput):
        subject_id(b"", "person-17", b"salt")
