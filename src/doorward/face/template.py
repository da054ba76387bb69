"""Templates: enrolment into a mean embedding, sealed so only the resident can open it.

A template is the normalised mean of 3–5 capture embeddings. It is stored only as AEAD
ciphertext (ChaCha20-Poly1305). The key is derived with HKDF-SHA256 from the resident's
32-byte *face unlock secret*, which lives on their phone or card and is presented at the gate;
the database keeps the random salt and nonce but never the secret. A stolen database therefore
holds ciphertext that cannot be turned back into a face template. The subject and credential id
are authenticated as associated data, so a sealed template cannot be moved to another row.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from doorward.errors import FaceError, InvalidInput
from doorward.face.embed import EMBEDDING_SIZE, Embedding, normalise

__all__ = [
    "MAX_ENROL_CAPTURES",
    "MIN_ENROL_CAPTURES",
    "UNLOCK_SECRET_BYTES",
    "SealedTemplate",
    "build_template",
    "new_unlock_secret",
    "open_template",
    "seal_template",
]

MIN_ENROL_CAPTURES = 3
MAX_ENROL_CAPTURES = 5
UNLOCK_SECRET_BYTES = 32
_SALT_BYTES = 16
_NONCE_BYTES = 12
_FORMAT = b"\x01"  # plaintext format: version byte + 128 little-endian float32
_INFO = b"doorward face template v1"


@dataclass(frozen=True, slots=True)
class SealedTemplate:
    """What the database stores: ciphertext (with its tag), salt and nonce. No secret."""

    ciphertext: bytes
    salt: bytes
    nonce: bytes


def new_unlock_secret() -> bytes:
    """A fresh random face unlock secret, to be held by the resident's phone or card."""
    return secrets.token_bytes(UNLOCK_SECRET_BYTES)


def build_template(embeddings: Sequence[Embedding]) -> Embedding:
    """The normalised mean of 3–5 embeddings of the same person."""
    if not MIN_ENROL_CAPTURES <= len(embeddings) <= MAX_ENROL_CAPTURES:
        raise InvalidInput(
            f"enrolment needs {MIN_ENROL_CAPTURES}–{MAX_ENROL_CAPTURES} good captures, "
            f"got {len(embeddings)}",
            hint="capture the face again until enough frames pass the quality checks",
        )
    stacked = np.stack([normalise(e) for e in embeddings])
    return normalise(stacked.mean(axis=0))


def _associated_data(subject: str, credential_id: str) -> bytes:
    return b"doorward-face\x00" + subject.encode() + b"\x00" + credential_id.encode()


def _key(unlock_secret: bytes, salt: bytes) -> bytes:
    if len(unlock_secret) != UNLOCK_SECRET_BYTES:
        raise InvalidInput(
            f"the face unlock secret must be {UNLOCK_SECRET_BYTES} bytes, got {len(unlock_secret)}",
            hint="present the secret issued with the credential (doorward.face.new_unlock_secret)",
        )
    # HKDF suffices: the secret is 256 random bits, not a password, so no slow hash is needed.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(unlock_secret)


def seal_template(
    template: Embedding, unlock_secret: bytes, *, subject: str, credential_id: str
) -> SealedTemplate:
    """Encrypt a template under a key derived from the resident's unlock secret."""
    vector = np.asarray(template, dtype="<f4")
    if vector.shape != (EMBEDDING_SIZE,):
        raise InvalidInput(f"a template has {EMBEDDING_SIZE} values, got shape {vector.shape}")
    salt = secrets.token_bytes(_SALT_BYTES)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    aead = ChaCha20Poly1305(_key(unlock_secret, salt))
    ciphertext = aead.encrypt(
        nonce, _FORMAT + vector.tobytes(), _associated_data(subject, credential_id)
    )
    return SealedTemplate(ciphertext=ciphertext, salt=salt, nonce=nonce)


def open_template(
    sealed: SealedTemplate, unlock_secret: bytes, *, subject: str, credential_id: str
) -> Embedding:
    """Decrypt a template; fails unless the right secret, subject and credential are given."""
    aead = ChaCha20Poly1305(_key(unlock_secret, sealed.salt))
    try:
        plain = aead.decrypt(
            sealed.nonce, sealed.ciphertext, _associated_data(subject, credential_id)
        )
    except InvalidTag as exc:
        raise FaceError(
            "the face template cannot be opened with this secret",
            hint="the credential's face unlock secret is wrong or was reissued; re-enrol",
        ) from exc
    if not plain.startswith(_FORMAT) or len(plain) != 1 + 4 * EMBEDDING_SIZE:
        raise FaceError("the face template has an unknown format", hint="re-enrol the face")
    return np.frombuffer(plain[1:], dtype="<f4").astype(np.float32)
