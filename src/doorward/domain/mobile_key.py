"""Mobile keys: short tokens signed by the hub, one per 30-second time step.

The hub signs; the phone receives a batch of upcoming signed steps, so it keeps working
offline; the edge verifies with the hub's public key alone, accepts a step within
``skew_steps`` of its own clock, and refuses a step not newer than the last one it accepted
for that credential (see :class:`doorward.domain.memory.AccessMemory`).
Byte format: docs/tokens.md.
"""

from __future__ import annotations

import struct
from datetime import datetime

from doorward.domain._codec import Reader, b64url_decode, b64url_encode, pack_str
from doorward.domain.keys import SIGNATURE_BYTES, HubKeys, verify_signature
from doorward.errors import InvalidInput, InvalidToken

__all__ = [
    "MOBILE_TOKEN_VERSION",
    "STEP_SECONDS",
    "current_step",
    "issue_mobile_batch",
    "issue_mobile_token",
    "parse_mobile_token",
]

MOBILE_TOKEN_VERSION = 1
STEP_SECONDS = 30
# Signed bytes start with a context label, so a pass signature can never pass as a token.
_CONTEXT = b"doorward/mobile-key/v1\x00"
_HEADER = struct.Struct(">BI")  # version, step
_MAX_STEP = 2**32 - 1
_MAX_TOKEN_CHARS = 512  # bounds the work done on garbage before any crypto


def current_step(now: datetime, step_seconds: int = STEP_SECONDS) -> int:
    """The time step ``now`` falls in: whole ``step_seconds`` since the Unix epoch."""
    if now.tzinfo is None:
        raise InvalidInput("the time must be timezone-aware", hint="pass datetime.now(UTC)")
    return int(now.timestamp()) // step_seconds


def _body(credential_id: str, step: int) -> bytes:
    if not 0 <= step <= _MAX_STEP:
        raise InvalidInput(f"time step {step} is out of range", hint="use current_step(now)")
    if not credential_id:
        raise InvalidInput("the credential id is empty", hint="pass a mobile credential's id")
    try:
        cred = pack_str(credential_id, "the credential id")
    except ValueError as exc:
        raise InvalidInput(str(exc), hint="use a shorter credential id") from exc
    return _HEADER.pack(MOBILE_TOKEN_VERSION, step) + cred


def issue_mobile_token(keys: HubKeys, credential_id: str, step: int) -> str:
    """The base64url token for ``credential_id`` at ``step``, signed by the hub."""
    body = _body(credential_id, step)
    return b64url_encode(body + keys.sign(_CONTEXT + body))


def issue_mobile_batch(
    keys: HubKeys, credential_id: str, first_step: int, count: int
) -> dict[int, str]:
    """Tokens for ``count`` consecutive steps, for a phone to use offline."""
    steps = range(first_step, first_step + count)
    return {step: issue_mobile_token(keys, credential_id, step) for step in steps}


def parse_mobile_token(token: str, hub_public_key: bytes) -> tuple[str, int]:
    """``(credential_id, step)`` of a genuine token; InvalidToken if malformed or forged."""
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_CHARS:
        raise InvalidToken("the mobile key is empty or too long", hint="open the app again")
    raw = b64url_decode(token, "mobile key")
    if len(raw) <= SIGNATURE_BYTES:
        raise InvalidToken("the mobile key is too short", hint="open the app again")
    body, sig = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    reader = Reader(body, "mobile key")
    version, step = reader.unpack(_HEADER)
    if version != MOBILE_TOKEN_VERSION:
        raise reader.error(f"has unknown version {version}")
    credential_id = reader.text()
    reader.finish()
    if not credential_id:
        raise reader.error("names no credential")
    if not verify_signature(hub_public_key, _CONTEXT + body, sig):
        raise InvalidToken(
            "the mobile key's signature does not verify",
            hint="it was not issued by this hub; refresh the app's keys",
        )
    return credential_id, step
