"""Small byte-level helpers shared by the mobile-key and pass formats (see docs/tokens.md)."""

from __future__ import annotations

import base64
import binascii
import struct

from doorward.errors import InvalidToken

__all__ = ["Reader", "b32decode", "b32encode", "b64url_decode", "b64url_encode", "pack_str"]

MAX_STR_BYTES = 255


def pack_str(value: str, what: str) -> bytes:
    """One length byte, then the UTF-8 bytes."""
    raw = value.encode("utf-8")
    if len(raw) > MAX_STR_BYTES:
        raise ValueError(f"{what} is longer than {MAX_STR_BYTES} bytes")
    return bytes((len(raw),)) + raw


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str) -> bytes:
    try:
        padded = text.encode("ascii") + b"=" * (-len(text) % 4)
        return base64.urlsafe_b64decode(padded)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise InvalidToken(f"the {what} is not valid base64url", hint=_RETRY) from exc


def b32encode(raw: bytes) -> str:
    return base64.b32encode(raw).rstrip(b"=").decode("ascii")


def b32decode(text: str, what: str) -> bytes:
    try:
        padded = text.strip().upper().encode("ascii") + b"=" * (-len(text.strip()) % 8)
        return base64.b32decode(padded)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise InvalidToken(f"the {what} is not valid base32", hint=_RETRY) from exc


_RETRY = "present it again; if it keeps failing, ask for a new one"


class Reader:
    """Reads a byte string front to back; any overrun is an InvalidToken."""

    __slots__ = ("_data", "_pos", "_what")

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._pos = 0
        self._what = what

    def unpack(self, fmt: struct.Struct) -> tuple[int, ...]:
        end = self._pos + fmt.size
        if end > len(self._data):
            raise self.error("is truncated")
        values = fmt.unpack_from(self._data, self._pos)
        self._pos = end
        return values

    def text(self) -> str:
        (length,) = self.unpack(_U8)
        end = self._pos + length
        if end > len(self._data):
            raise self.error("is truncated")
        raw = self._data[self._pos : end]
        self._pos = end
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.error("holds text that is not UTF-8") from exc

    def finish(self) -> None:
        if self._pos != len(self._data):
            raise self.error("has trailing bytes")

    def error(self, problem: str) -> InvalidToken:
        return InvalidToken(f"the {self._what} {problem}", hint=_RETRY)


_U8 = struct.Struct(">B")
