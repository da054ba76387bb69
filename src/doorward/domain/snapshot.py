"""Building a :class:`~doorward.domain.model.Snapshot` and its lookup indexes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TypeVar

from doorward.domain.keys import PUBLIC_KEY_BYTES
from doorward.domain.model import (
    Credential,
    CredentialKind,
    Gate,
    PassGrant,
    Schedule,
    Snapshot,
)
from doorward.domain.schedule import validate_schedule
from doorward.errors import InvalidInput

__all__ = ["build_snapshot"]

_REBUILD = "fix the record on the hub and push a new snapshot"


def build_snapshot(
    *,
    version: int,
    site_id: str,
    gates: Iterable[Gate],
    credentials: Iterable[Credential],
    schedules: Iterable[Schedule],
    passes: Iterable[PassGrant],
    pass_code_digests: Mapping[str, str],
    hub_public_key: bytes,
    lockdown: bool = False,
    pass_code_key: bytes = b"",
) -> Snapshot:
    """A snapshot with its indexes: cards by (format, number), PINs by id, passes by digest.

    ``pass_code_digests`` maps pass id -> digest of its typed code. Raises InvalidInput on
    duplicates or dangling references, so a bad snapshot never reaches a gate.
    """
    if len(hub_public_key) != PUBLIC_KEY_BYTES:
        raise InvalidInput("the hub public key is not 32 bytes", hint="export it again")
    gate_map = _by_id(gates, "gate")
    schedule_map = _by_id(schedules, "schedule")
    for schedule in schedule_map.values():
        validate_schedule(schedule)
    credential_map = _by_id(credentials, "credential")
    pass_map = _by_id(passes, "pass")

    cards: dict[tuple[str, str], str] = {}
    pins: dict[str, str] = {}
    for cred in credential_map.values():
        _require_aware(cred.valid_from, cred.valid_until, f"credential {cred.id}")
        if cred.schedule_id is not None and cred.schedule_id not in schedule_map:
            raise InvalidInput(
                f"credential {cred.id} names unknown schedule {cred.schedule_id}", hint=_REBUILD
            )
        if cred.kind is CredentialKind.CARD:
            if cred.card is None:
                raise InvalidInput(f"card credential {cred.id} has no card data", hint=_REBUILD)
            _add_unique(cards, (cred.card.format, cred.card.number), cred.id, "card number")
        elif cred.kind is CredentialKind.PIN:
            if not cred.pin_id or not cred.pin_hash:
                raise InvalidInput(f"PIN credential {cred.id} has no PIN id/hash", hint=_REBUILD)
            _add_unique(pins, cred.pin_id, cred.id, "PIN id")

    for grant in pass_map.values():
        _require_aware(grant.valid_from, grant.valid_until, f"pass {grant.id}")

    pass_codes: dict[str, str] = {}
    for pass_id, digest in pass_code_digests.items():
        if pass_id not in pass_map:
            raise InvalidInput(f"a pass code names unknown pass {pass_id}", hint=_REBUILD)
        _add_unique(pass_codes, digest, pass_id, "pass code")

    return Snapshot(
        version=version,
        site_id=site_id,
        gates=gate_map,
        credentials=credential_map,
        cards=cards,
        pins=pins,
        schedules=schedule_map,
        passes=pass_map,
        pass_codes=pass_codes,
        hub_public_key=bytes(hub_public_key),
        lockdown=lockdown,
        pass_code_key=pass_code_key,
    )


_Record = TypeVar("_Record", Gate, Credential, Schedule, PassGrant)
_K = TypeVar("_K")
_V = TypeVar("_V")


def _by_id(items: Iterable[_Record], what: str) -> dict[str, _Record]:
    result: dict[str, _Record] = {}
    for item in items:
        _add_unique(result, item.id, item, f"{what} id")
    return result


def _require_aware(start: datetime | None, end: datetime | None, what: str) -> None:
    # decide() compares these with an aware "now": a naive one would raise at the gate.
    for moment in (start, end):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput(f"{what} has a validity time without a timezone", hint=_REBUILD)


def _add_unique(index: dict[_K, _V], key: _K, value: _V, what: str) -> None:
    if key in index:
        raise InvalidInput(f"duplicate {what} {key!r} in the snapshot", hint=_REBUILD)
    index[key] = value
