"""Docs are part of the build: every page and form route is listed in docs/web.md."""

from __future__ import annotations

from pathlib import Path

from fastapi.routing import APIRoute

from doorward.hub.web import AREA_ROUTERS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_web_route_is_documented() -> None:
    text = (DOCS / "web.md").read_text()
    routes = [
        f"`{method} {route.path}`"
        for area in AREA_ROUTERS for route in area.routes if isinstance(route, APIRoute)
        for method in sorted(route.methods)
    ]
    assert len(routes) > 30
    missing = [r for r in routes if r not in text]
    assert missing == [], f"document these routes in docs/web.md: {missing}"
