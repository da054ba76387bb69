"""Input hygiene shared by every schema that takes untrusted input (HTTP bodies, MQTT messages).

PostgreSQL text cannot hold a NUL byte and no field of ours has a use for control characters,
so they are refused as bad input (HTTP 422) instead of failing later in the database.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, model_validator

__all__ = ["RejectsControlCharacters", "reject_control_characters"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def reject_control_characters(value: object, _path: str = "") -> object:
    """Return ``value`` unchanged, or raise ValueError naming where a control character is."""
    if isinstance(value, str):
        if _CONTROL.search(value):
            where = f" in {_path}" if _path else ""
            raise ValueError(
                f"text{where} contains a control character (such as a NUL byte); remove it"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_control_characters(key, _path)
            reject_control_characters(item, f"{_path}.{key}" if _path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            reject_control_characters(item, f"{_path}[{index}]")
    return value


class RejectsControlCharacters(BaseModel):
    """Base for every model of untrusted input: control characters anywhere are a 422."""

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: object) -> object:
        return reject_control_characters(data)
