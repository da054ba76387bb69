"""The hub's Ed25519 signing key, and signature checks that need only its public half.

The hub signs mobile-key tokens and visitor passes; an edge holds only the 32-byte public
key (in its snapshot) and verifies offline. Crypto is ``cryptography``'s Ed25519, never ours.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from doorward.errors import InvalidInput

__all__ = ["PUBLIC_KEY_BYTES", "SIGNATURE_BYTES", "HubKeys", "verify_signature"]

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


class HubKeys:
    """An Ed25519 key pair. Only the hub holds one; edges get ``public_bytes()``."""

    __slots__ = ("_private",)

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key

    @classmethod
    def generate(cls) -> HubKeys:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> HubKeys:
        """Load a key saved with :meth:`private_bytes` (32 raw bytes)."""
        try:
            return cls(Ed25519PrivateKey.from_private_bytes(raw))
        except (ValueError, TypeError) as exc:
            raise InvalidInput(
                "the hub private key is not 32 raw Ed25519 bytes",
                hint="restore the key file from backup, or generate a new key and re-issue tokens",
            ) from exc

    def private_bytes(self) -> bytes:
        return self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def public_bytes(self) -> bytes:
        return self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)


@lru_cache(maxsize=32)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    # Parsing the key costs about as much as a verify; snapshots reuse one key, so cache it.
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            "the hub public key is not 32 raw Ed25519 bytes",
            hint="push a fresh snapshot from the hub",
        ) from exc


def verify_signature(public_key: bytes, data: bytes, sig: bytes) -> bool:
    """True when ``sig`` is ``public_key``'s Ed25519 signature over ``data``.

    Raises :class:`~doorward.errors.InvalidInput` only when the public key itself is unusable.
    """
    key = _public_key(bytes(public_key))
    try:
        key.verify(sig, data)
    except InvalidSignature:
        return False
    return True
