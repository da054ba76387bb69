"""Control characters in untrusted input are refused as bad input, wherever they hide."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from doorward.hub.schemas import PersonCreate
from doorward.transport.messages import EventMessage
from doorward.validation import reject_control_characters


@pytest.mark.parametrize("text", ["a\x00b", "\x1b[31m", "x\x7f"])
def test_control_characters_are_refused_with_their_place(text: str) -> None:
    with pytest.raises(ValueError, match=r"in detail\.note"):
        reject_control_characters({"detail": {"note": text}})


def test_tabs_newlines_and_unicode_pass_unchanged() -> None:
    value = {"name": "Zoë\tO'Brien\n", "tags": ["ü", "日本"]}
    assert reject_control_characters(value) is value


def test_http_input_with_a_nul_byte_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="control character"):
        PersonCreate.model_validate({"name": "Ann\x00", "role": "resident"})


def test_an_mqtt_event_with_a_nul_byte_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="control character"):
        EventMessage.model_validate({
            "event_id": "e" * 16, "site_id": "s", "gate_id": "g", "kind": "access",
            "occurred_at": datetime.now(UTC).isoformat(), "edge_seq": 1,
            "detail": {"note": "\x00"},
        })
