"""Fuzz fixtures: the hub's ``world`` (admin, guard, resident, gates) on SQLite and PostgreSQL."""

from __future__ import annotations

from hub.conftest import (  # noqa: F401 (fixtures re-used from the hub's tests)
    _cheap_argon2,
    client,
    hub_settings,
    world,
)
