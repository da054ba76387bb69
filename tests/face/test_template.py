"""Template building and sealing: only the resident's unlock secret opens a template."""

from __future__ import annotations

import numpy as np
import pytest

from doorward.errors import FaceError, InvalidInput
from doorward.face.embed import normalise
from doorward.face.template import (
    SealedTemplate,
    build_template,
    new_unlock_secret,
    open_template,
    seal_template,
)

from .helpers import plausible_float_fraction

pytestmark = pytest.mark.face

IDS = {"subject": "subj-7f3a", "credential_id": "card-0001"}


def _embedding(seed: int) -> np.ndarray:
    return normalise(np.random.default_rng(seed).normal(size=128))


def test_template_is_the_normalised_mean() -> None:
    parts = [_embedding(i) for i in range(3)]
    template = build_template(parts)
    expected = np.mean(parts, axis=0)
    assert np.allclose(template, expected / np.linalg.norm(expected), atol=1e-6)
    assert abs(float(np.linalg.norm(template)) - 1.0) < 1e-5


@pytest.mark.parametrize("count", [0, 2, 6])
def test_enrolment_needs_three_to_five_captures(count: int) -> None:
    with pytest.raises(InvalidInput, match="3–5 good captures"):
        build_template([_embedding(i) for i in range(count)])


def test_sealed_template_opens_with_the_secret() -> None:
    secret = new_unlock_secret()
    template = build_template([_embedding(i) for i in range(4)])
    sealed = seal_template(template, secret, **IDS)
    assert np.array_equal(open_template(sealed, secret, **IDS), template)


def test_without_the_secret_the_template_cannot_be_opened() -> None:
    secret = new_unlock_secret()
    sealed = seal_template(build_template([_embedding(i) for i in range(3)]), secret, **IDS)
    with pytest.raises(FaceError, match="cannot be opened"):
        open_template(sealed, new_unlock_secret(), **IDS)
    with pytest.raises(InvalidInput, match="32 bytes"):
        open_template(sealed, b"", **IDS)


def test_a_sealed_template_is_bound_to_its_subject_and_credential() -> None:
    secret = new_unlock_secret()
    sealed = seal_template(build_template([_embedding(i) for i in range(3)]), secret, **IDS)
    with pytest.raises(FaceError):
        open_template(sealed, secret, subject="someone-else", credential_id="card-0001")
    with pytest.raises(FaceError):
        open_template(sealed, secret, subject="subj-7f3a", credential_id="card-0002")


def test_a_tampered_ciphertext_is_refused() -> None:
    secret = new_unlock_secret()
    sealed = seal_template(build_template([_embedding(i) for i in range(3)]), secret, **IDS)
    flipped = bytearray(sealed.ciphertext)
    flipped[40] ^= 0x01
    with pytest.raises(FaceError):
        open_template(SealedTemplate(bytes(flipped), sealed.salt, sealed.nonce), secret, **IDS)


def test_the_stored_blob_holds_no_recognisable_float_array() -> None:
    template = build_template([_embedding(i) for i in range(3)])
    raw = template.astype("<f4").tobytes()
    sealed = seal_template(template, new_unlock_secret(), **IDS)
    stored = sealed.ciphertext + sealed.salt + sealed.nonce
    # The measure works: the plain template is almost all plausible floats...
    assert plausible_float_fraction(raw) > 0.9
    # ...and the sealed one is indistinguishable from random bytes.
    assert plausible_float_fraction(stored) < 0.5
    assert all(raw[i : i + 8] not in stored for i in range(0, len(raw) - 8, 4))


def test_sealing_twice_gives_unrelated_ciphertexts() -> None:
    secret = new_unlock_secret()
    template = build_template([_embedding(i) for i in range(3)])
    first = seal_template(template, secret, **IDS)
    second = seal_template(template, secret, **IDS)
    assert first.salt != second.salt and first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext
