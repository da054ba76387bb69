"""Doorward's one error tree.

Every error a user or an operator can see is one of these. Library exceptions
(SQLAlchemy, cryptography, argon2, paho-mqtt, libosdp, dlib...) are caught at
the boundary that called the library and re-raised as one of ours with
``raise X(...) from exc``, so callers never need to know which library failed.

::

    DoorwardError                     base; has .message and .hint for the user
    ├── ConfigError                   settings missing, default secret outside dev
    ├── InvalidInput                  bad input: what was wrong and how to fix it
    │   ├── InvalidToken              mobile key / pass payload does not parse or verify
    │   └── CsvRowError               one CSV import row is wrong (row number kept)
    ├── NotFound                      a referenced record does not exist
    ├── Conflict                      duplicate or state clash (e.g. gate id taken)
    ├── PermissionDenied              the caller's role may not do this
    │   └── AuthenticationFailed      bad login, expired session
    ├── PrivacyViolation              the request would cross a line we never cross
    ├── StoreError                    database failure (wraps SQLAlchemy errors)
    │   └── LogTampered               the event log's hash chain does not verify
    ├── TransportError                MQTT / HTTPS link failure (wraps paho, httpx)
    ├── DeviceError                   reader / relay / contact failure (wraps libosdp)
    └── FaceError                     capture refused, no consent, template unusable
        └── CaptureRejected           the frame failed a capture-quality check

HTTP mapping (see ``doorward.hub.problems``): InvalidInput 422, NotFound 404,
Conflict 409, AuthenticationFailed 401, PermissionDenied and PrivacyViolation
403, everything else 500/503 with a problem-details body and no traceback.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationFailed",
    "CaptureRejected",
    "ConfigError",
    "Conflict",
    "CsvRowError",
    "DeviceError",
    "DoorwardError",
    "FaceError",
    "InvalidInput",
    "InvalidToken",
    "LogTampered",
    "NotFound",
    "PermissionDenied",
    "PrivacyViolation",
    "StoreError",
    "TransportError",
]


class DoorwardError(Exception):
    """Base of every Doorward error.

    ``message`` says what went wrong; ``hint`` says what the user can do about it.
    """

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(DoorwardError):
    """Settings are missing or unsafe."""


class InvalidInput(DoorwardError):
    """Input was malformed or out of range."""


class InvalidToken(InvalidInput):
    """A mobile key, pass code or QR payload did not parse or verify."""


class CsvRowError(InvalidInput):
    """One row of a CSV import is wrong."""

    def __init__(self, row: int, message: str, *, hint: str = "") -> None:
        super().__init__(f"row {row}: {message}", hint=hint)
        self.row = row


class NotFound(DoorwardError):
    """A referenced record does not exist."""


class Conflict(DoorwardError):
    """The request clashes with existing state."""


class PermissionDenied(DoorwardError):
    """The caller's role may not do this."""


class AuthenticationFailed(PermissionDenied):
    """Login failed or the session is missing or expired."""


class PrivacyViolation(DoorwardError):
    """The request would cross one of the lines Doorward never crosses."""


class StoreError(DoorwardError):
    """The database failed."""


class LogTampered(StoreError):
    """The event log's hash chain does not verify."""


class TransportError(DoorwardError):
    """The link between an edge and the hub failed."""


class DeviceError(DoorwardError):
    """A reader, relay or sensor failed."""


class FaceError(DoorwardError):
    """Face verification cannot proceed."""


class CaptureRejected(FaceError):
    """A frame failed a capture-quality check (faces, size, blur, pose, light)."""
