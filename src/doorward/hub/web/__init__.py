"""Server-rendered pages: login, guard console, admin area, resident portal, charts, and
the guest's pass page.

FastAPI + Jinja2 + a vendored htmx, no build step. Pages call the hub's services (and, for
what those lack, the small services in this package); they never run queries themselves.

Wire it into an app with::

    app = create_app(settings, extra_routers=[doorward.hub.web.router])
    doorward.hub.web.mount_static(app)

or simply ``doorward.hub.web.install(app)``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.staticfiles import StaticFiles

from doorward.hub.web import admin, auth_pages, charts, console, portal, visit
from doorward.hub.web.rendering import STATIC_DIR

__all__ = ["AREA_ROUTERS", "install", "mount_static", "router"]

#: One router per area; ``router`` includes them all.
AREA_ROUTERS: tuple[APIRouter, ...] = tuple(
    area.router for area in (auth_pages, console, charts, admin, portal, visit)
)

router = APIRouter(include_in_schema=False)
for _area_router in AREA_ROUTERS:
    router.include_router(_area_router)


def mount_static(app: FastAPI) -> None:
    """Serve the CSS, the vendored htmx and the live-update script under ``/static``."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def install(app: FastAPI) -> None:
    """Add the pages and their static files to a hub app (before it starts)."""
    app.include_router(router)
    mount_static(app)
