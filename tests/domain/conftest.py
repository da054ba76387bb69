"""Builders for domain tests: a small site, fixed times, one hub key per session."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from doorward.domain.keys import HubKeys
from doorward.domain.model import (
    CardData,
    Credential,
    CredentialKind,
    Gate,
    PassGrant,
    PassKind,
    Schedule,
    Snapshot,
)
from doorward.domain.pin import hash_pin
from doorward.domain.snapshot import build_snapshot

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
PASS_CODE_KEY = b"pass-code-key-for-tests-32-bytes"
PIN = "4821"

HUB_KEYS = HubKeys.generate()
_PIN_HASH = hash_pin(PIN)  # argon2 is slow on purpose: hash once for the whole run


@pytest.fixture
def keys() -> HubKeys:
    return HUB_KEYS


def card_credential(cred_id: str = "c1", number: str = "1001", **kw: object) -> Credential:
    return Credential(
        id=cred_id,
        kind=CredentialKind.CARD,
        subject=f"subj-{cred_id}",
        card=CardData("h10301", number),
        **kw,  # type: ignore[arg-type]
    )


def pin_credential(cred_id: str = "p1", pin_id: str = "0401", **kw: object) -> Credential:
    return Credential(
        id=cred_id,
        kind=CredentialKind.PIN,
        subject=f"subj-{cred_id}",
        pin_id=pin_id,
        pin_hash=_PIN_HASH,
        **kw,  # type: ignore[arg-type]
    )


def mobile_credential(cred_id: str = "m1", **kw: object) -> Credential:
    return Credential(id=cred_id, kind=CredentialKind.MOBILE, subject=f"subj-{cred_id}", **kw)  # type: ignore[arg-type]


def pass_grant(pass_id: str = "v1", **kw: object) -> PassGrant:
    fields: dict[str, object] = {
        "id": pass_id,
        "kind": PassKind.VISITOR,
        "host_unit": "4B",
        "host_subject": "subj-host",
        "valid_from": NOW - timedelta(hours=1),
        "valid_until": NOW + timedelta(hours=3),
        "max_uses": 2,
        "site_id": "site-1",
    }
    fields.update(kw)
    return PassGrant(**fields)  # type: ignore[arg-type]


def snapshot_of(
    *,
    gates: Iterable[Gate] = (),
    credentials: Iterable[Credential] = (),
    schedules: Iterable[Schedule] = (),
    passes: Iterable[PassGrant] = (),
    pass_code_digests: dict[str, str] | None = None,
    lockdown: bool = False,
) -> Snapshot:
    gate_list = list(gates) or [Gate("g1", "site-1", "Main entrance")]
    return build_snapshot(
        version=7,
        site_id="site-1",
        gates=gate_list,
        credentials=credentials,
        schedules=schedules,
        passes=passes,
        pass_code_digests=pass_code_digests or {},
        hub_public_key=HUB_KEYS.public_bytes(),
        lockdown=lockdown,
        pass_code_key=PASS_CODE_KEY,
    )
