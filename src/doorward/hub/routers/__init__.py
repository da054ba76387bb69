"""API routers, one resource per module. ``ROUTERS`` is what ``create_app`` mounts."""

from __future__ import annotations

from fastapi import APIRouter

from doorward.hub.routers import (
    auth,
    credentials,
    decisions,
    edge,
    events,
    face,
    gates,
    health,
    log,
    passes,
    people,
    schedules,
    units,
)

__all__ = ["API_PREFIX", "ROUTERS"]

API_PREFIX = "/api/v1"

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    auth.router,
    people.router,
    units.router,
    gates.router,
    credentials.router,
    schedules.router,
    passes.router,
    decisions.router,
    edge.router,
    events.router,
    log.router,
    face.router,
)
