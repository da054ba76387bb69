"""Login, logout and the start page that sends each role to its own area."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from doorward.errors import AuthenticationFailed, InvalidInput
from doorward.hub.services import accounts
from doorward.hub.web.access import SESSION_COOKIE, Page, PageRoute, form_for, page_for
from doorward.hub.web.rendering import Flash

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

HOME_BY_ROLE = {"admin": "/admin", "guard": "/console", "resident": "/portal"}
SESSION_HOURS = 12


def _safe_next(value: str) -> str:
    """Only a local path: never an absolute or protocol-relative URL (no open redirect)."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return ""


def _limiter(request: Request) -> accounts.LoginLimiter:
    limiter: accounts.LoginLimiter | None = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        # The hub's API keeps its own limiter; the pages need one per app either way.
        limiter = accounts.LoginLimiter(request.app.state.hub.settings.login_rate_limit_per_minute)
        request.app.state.login_limiter = limiter
    return limiter


@router.get("/")
def start(page: Annotated[Page, Depends(page_for())]) -> Response:
    target = HOME_BY_ROLE.get(page.user.role, "/privacy") if page.user else "/login"
    return RedirectResponse(target, status_code=303)


@router.get("/login")
def login_form(page: Annotated[Page, Depends(page_for())], next: str = "") -> Response:
    return page.render("auth/login.html", "Log in", next_path=_safe_next(next), username="")


@router.post("/login")
def login_submit(
    request: Request,
    page: Annotated[Page, Depends(form_for())],
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    next_path = _safe_next(next)
    try:
        if not username.strip() or not password:
            raise InvalidInput("enter both a username and a password")
        token, user = accounts.login(page.hub, _limiter(request), username.strip(), password)
    except (AuthenticationFailed, InvalidInput) as exc:
        return page.render(
            "auth/login.html", "Log in", status_code=401 if isinstance(exc, AuthenticationFailed)
            else 422, flashes=[Flash("error", exc.message, exc.hint)],
            next_path=next_path, username=username,
        )
    target = next_path or HOME_BY_ROLE.get(user.role, "/")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" or page.hub.settings.environment == "production",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, page: Annotated[Page, Depends(form_for())]) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        accounts.logout(page.hub, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
