"""Visitor and delivery passes: a signed QR payload, or a short code typed at a keypad.

The QR payload carries the whole :class:`~doorward.domain.model.PassGrant` plus the hub's
Ed25519 signature, so an edge can verify a pass issued after its last snapshot. A typed code
is only a random lookup key: the snapshot holds its keyed hash (HMAC-SHA256), never the code.
Byte format: docs/tokens.md.
"""

from __future__ import annotations

import secrets
import struct
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes, hmac

from doorward.domain._codec import Reader, b32decode, b32encode, pack_str
from doorward.domain.keys import SIGNATURE_BYTES, HubKeys, verify_signature
from doorward.domain.model import PassGrant, PassKind
from doorward.errors import InvalidInput, InvalidToken

__all__ = [
    "PASS_CODE_ALPHABET",
    "PASS_CODE_LENGTH",
    "PASS_VERSION",
    "issue_pass",
    "new_pass_code",
    "normalize_pass_code",
    "parse_pass",
    "pass_code_digest",
]

PASS_VERSION = 1
# No 0/O, 1/I/L: a visitor reading the code aloud or typing it cannot confuse them.
PASS_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # noqa: S105 (public alphabet)
PASS_CODE_LENGTH = 8  # 31**8, about 40 bits; keypad lockout makes online guessing hopeless

_CONTEXT = b"doorward/pass/v1\x00"
_HEADER = struct.Struct(">BBIIH")  # version, kind, valid_from, valid_until, max_uses
_U8 = struct.Struct(">B")
_KIND_CODES = {PassKind.VISITOR: 1, PassKind.DELIVERY: 2}
_KINDS_BY_CODE = {code: kind for kind, code in _KIND_CODES.items()}
_MAX_U32 = 2**32 - 1
_MAX_PAYLOAD_CHARS = 2048


def _epoch(moment: datetime, what: str) -> int:
    if moment.tzinfo is None:
        raise InvalidInput(f"the pass's {what} has no timezone", hint="use aware datetimes")
    seconds = int(moment.timestamp())
    if not 0 <= seconds <= _MAX_U32:
        raise InvalidInput(f"the pass's {what} is out of range", hint="pick a date after 1970")
    return seconds


def _encode_grant(grant: PassGrant) -> bytes:
    start = _epoch(grant.valid_from, "start")
    end = _epoch(grant.valid_until, "end")
    if end <= start:
        raise InvalidInput("the pass ends before it starts", hint="pick an end after the start")
    if not 1 <= grant.max_uses <= 0xFFFF:
        raise InvalidInput("a pass allows 1 to 65535 uses", hint="set max_uses in that range")
    if not grant.id:
        raise InvalidInput("the pass has no id", hint="give the pass an id")
    gates = sorted(grant.gates)
    if len(gates) > 0xFF:
        raise InvalidInput("a pass names at most 255 gates", hint="leave gates empty for all")
    try:
        parts = [
            _HEADER.pack(PASS_VERSION, _KIND_CODES[grant.kind], start, end, grant.max_uses),
            pack_str(grant.id, "the pass id"),
            pack_str(grant.host_unit, "the host unit"),
            pack_str(grant.host_subject, "the host subject"),
            pack_str(grant.site_id, "the site id"),
            _U8.pack(len(gates)),
            *(pack_str(gate, "a gate id") for gate in gates),
        ]
    except ValueError as exc:
        raise InvalidInput(str(exc), hint="use shorter ids") from exc
    return b"".join(parts)


def issue_pass(keys: HubKeys, grant: PassGrant) -> str:
    """The QR payload for ``grant``: base32 (QR alphanumeric mode) of body + signature.

    Times are kept to the second. ``grant.revoked`` is not carried: revocation travels in
    snapshots.
    """
    body = _encode_grant(grant)
    return b32encode(body + keys.sign(_CONTEXT + body))


def parse_pass(payload: str, hub_public_key: bytes) -> PassGrant:
    """The grant inside a genuine QR payload; InvalidToken if garbled or forged."""
    if not isinstance(payload, str) or not payload or len(payload) > _MAX_PAYLOAD_CHARS:
        raise InvalidToken("the pass is empty or too long", hint="show the pass QR code again")
    raw = b32decode(payload, "pass")
    if len(raw) <= SIGNATURE_BYTES:
        raise InvalidToken("the pass is too short", hint="show the pass QR code again")
    body, sig = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    # Verify before decoding fields, so nothing from an unsigned payload is trusted.
    if not verify_signature(hub_public_key, _CONTEXT + body, sig):
        raise InvalidToken(
            "the pass's signature does not verify",
            hint="it was not issued by this site's hub; ask your host for a new pass",
        )
    reader = Reader(body, "pass")
    version, kind_code, start, end, max_uses = reader.unpack(_HEADER)
    if version != PASS_VERSION:
        raise reader.error(f"has unknown version {version}")
    kind = _KINDS_BY_CODE.get(kind_code)
    if kind is None:
        raise reader.error(f"has unknown kind {kind_code}")
    pass_id = reader.text()
    host_unit = reader.text()
    host_subject = reader.text()
    site_id = reader.text()
    (gate_count,) = reader.unpack(_U8)
    gates = frozenset(reader.text() for _ in range(gate_count))
    reader.finish()
    return PassGrant(
        id=pass_id,
        kind=kind,
        host_unit=host_unit,
        host_subject=host_subject,
        valid_from=datetime.fromtimestamp(start, UTC),
        valid_until=datetime.fromtimestamp(end, UTC),
        max_uses=max_uses,
        gates=gates,
        site_id=site_id,
    )


def new_pass_code() -> str:
    """A fresh 8-character code from an unambiguous alphabet (``secrets``)."""
    return "".join(secrets.choice(PASS_CODE_ALPHABET) for _ in range(PASS_CODE_LENGTH))


def normalize_pass_code(code: str) -> str:
    """Upper-case, without spaces or dashes; InvalidInput if it cannot be a pass code."""
    cleaned = code.replace("-", "").replace(" ", "").upper()
    if len(cleaned) != PASS_CODE_LENGTH or any(c not in PASS_CODE_ALPHABET for c in cleaned):
        raise InvalidInput(
            "a pass code is 8 characters of 2-9 and A-Z without I, L or O",
            hint="check the code your host sent you",
        )
    return cleaned


def pass_code_digest(code: str, key: bytes) -> str:
    """Hex HMAC-SHA256 of the normalized code under ``key``: what snapshots store."""
    if not key:
        raise InvalidInput("the pass-code key is empty", hint="configure the hub's secret key")
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(normalize_pass_code(code).encode("ascii"))
    return mac.finalize().hex()
