"""PINs: format check and argon2id hashing (argon2-cffi), tuned for a small edge box."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from doorward.errors import InvalidInput

__all__ = ["PIN_MAX_DIGITS", "PIN_MIN_DIGITS", "hash_pin", "validate_pin", "verify_pin"]

PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 8

# OWASP's argon2id floor (19 MiB, t=2, p=1): tens of ms on an edge, slow for an offline guesser.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)


def validate_pin(pin: str) -> None:
    """Raise InvalidInput unless ``pin`` is 4 to 8 ASCII digits."""
    if not (
        isinstance(pin, str)
        and PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS
        and pin.isascii()
        and pin.isdigit()
    ):
        raise InvalidInput(
            "a PIN must be 4 to 8 digits",
            hint="choose a PIN of digits only, for example 4 to 8 of 0-9",
        )


def hash_pin(pin: str) -> str:
    """The argon2id hash (PHC string) of a valid PIN."""
    validate_pin(pin)
    return _HASHER.hash(pin)


def verify_pin(pin_hash: str, pin: str) -> bool:
    """True when ``pin`` matches ``pin_hash``. A malformed entry is simply wrong.

    Raises InvalidInput when ``pin_hash`` is not an argon2 hash (a data problem, not a guess).
    """
    try:
        validate_pin(pin)
    except InvalidInput:
        return False
    try:
        return _HASHER.verify(pin_hash, pin)
    except VerifyMismatchError:
        return False
    except (InvalidHashError, VerificationError) as exc:
        raise InvalidInput(
            "the stored PIN hash is not a valid argon2 hash",
            hint="reset this PIN from the console",
        ) from exc
