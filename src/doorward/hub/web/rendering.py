"""Templates, the page shell (navigation, CSRF token, flashes) and security headers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

__all__ = [
    "STATIC_DIR",
    "TEMPLATES_DIR",
    "Flash",
    "NavItem",
    "PageUser",
    "html_page",
    "jinja_env",
    "secure_headers",
]

HUB_DIR = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = HUB_DIR / "templates"
STATIC_DIR = HUB_DIR / "static"

# Pages load scripts and styles only from the hub itself; no inline script can run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


@dataclass(frozen=True, slots=True)
class PageUser:
    """Who is looking at a page. Built from the hub's session; carries no secret."""

    user_id: str
    username: str
    role: str
    person_id: str | None
    session_digest: str  # SHA-256 of the session token (never the token); never rendered


@dataclass(frozen=True, slots=True)
class Flash:
    kind: str  # "ok" | "error"
    message: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class NavItem:
    href: str
    label: str
    current: bool = False


_NAV_BY_ROLE: dict[str, tuple[tuple[str, str], ...]] = {
    "admin": (("/console", "Console"), ("/admin", "Admin"), ("/charts", "Charts"),
              ("/privacy", "Privacy")),
    "guard": (("/console", "Console"), ("/charts", "Charts"), ("/privacy", "Privacy")),
    "resident": (("/portal", "My home"), ("/privacy", "Privacy")),
    "": (("/login", "Log in"), ("/privacy", "Privacy")),
}


def navigation(user: PageUser | None, path: str) -> list[NavItem]:
    items = _NAV_BY_ROLE.get(user.role if user else "", ())
    return [
        NavItem(href, label, current=path == href or path.startswith(href + "/"))
        for href, label in items
    ]


@cache
def jinja_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(("html",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = lambda name: f"/static/{name}"
    return env


def secure_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response


def html_page(
    request: Request,
    template: str,
    *,
    user: PageUser | None,
    csrf_token: str,
    title: str,
    status_code: int = 200,
    flashes: list[Flash] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` inside the shell with the user's navigation and CSRF token."""
    body = jinja_env().get_template(template).render(
        title=title,
        user=user,
        csrf_token=csrf_token,
        nav=navigation(user, request.url.path),
        request_path=request.url.path,
        flashes=flashes or [],
        **context,
    )
    return HTMLResponse(body, status_code=status_code)
