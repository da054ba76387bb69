"""Pseudonymous subject ids: what events carry instead of a name."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac

from doorward.errors import InvalidInput

__all__ = ["SUBJECT_ID_CHARS", "subject_id"]

SUBJECT_ID_CHARS = 32


def subject_id(key: bytes, person_id: str, salt: bytes) -> str:
    """HMAC-SHA256 over ``salt`` and ``person_id``, hex, first 32 chars (128 bits).

    Without ``key`` nobody can link a subject id back to a person id, and deleting the
    per-person ``salt`` (crypto-shredding) leaves that person's old events anonymous.
    """
    if not key:
        raise InvalidInput("the pseudonym key is empty", hint="configure a random secret key")
    if not person_id:
        raise InvalidInput("the person id is empty", hint="pass the person's record id")
    mac = hmac.HMAC(key, hashes.SHA256())
    # Length-prefix the salt so (salt, person_id) pairs can never collide by concatenation.
    mac.update(len(salt).to_bytes(4, "big"))
    mac.update(salt)
    mac.update(person_id.encode("utf-8"))
    return mac.finalize().hex()[:SUBJECT_ID_CHARS]
