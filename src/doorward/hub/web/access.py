"""Who may see which page, and how page errors become HTML instead of JSON.

Every page route uses :class:`PageRoute`: errors from the error tree (and form validation
errors) become a short HTML page saying what was wrong and what to do, never a traceback;
an anonymous visitor is sent to the login page; every response gets the security headers and,
when needed, the CSRF cookie. Roles are dependencies (``page_for(...)``, ``form_for(...)``),
so no handler repeats a permission check.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import RedirectResponse, Response

from doorward.errors import (
    AuthenticationFailed,
    Conflict,
    DoorwardError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PrivacyViolation,
)
from doorward.hub.deps import SESSION_COOKIE
from doorward.hub.services.accounts import AuthUser, user_for_token
from doorward.hub.services.context import HubContext
from doorward.hub.web.csrf import csrf_token_for, ensure_csrf_cookie, verify_csrf
from doorward.hub.web.rendering import Flash, PageUser, html_page, secure_headers

__all__ = ["SESSION_COOKIE", "Page", "PageRoute", "form_for", "hub_of", "page_for"]

log = logging.getLogger(__name__)


_STATUS_BY_ERROR: tuple[tuple[type[DoorwardError], int], ...] = (
    (AuthenticationFailed, 401),
    (PermissionDenied, 403),
    (PrivacyViolation, 403),
    (InvalidInput, 422),
    (NotFound, 404),
    (Conflict, 409),
)


def hub_of(request: Request) -> HubContext:
    hub: HubContext = request.app.state.hub
    return hub


@dataclass
class Page:
    """What a page handler gets: the request, the hub, the user and a renderer."""

    request: Request
    hub: HubContext
    user: PageUser | None
    csrf_token: str

    @property
    def actor(self) -> PageUser:
        assert self.user is not None, "page_for() guarantees a user on role-restricted pages"
        return self.user

    @property
    def auth_user(self) -> AuthUser:
        """The user as the hub's services expect it."""
        user = self.actor
        return AuthUser(id=user.user_id, username=user.username, role=user.role,
                        person_id=user.person_id)

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    def render(
        self,
        template: str,
        title: str,
        *,
        status_code: int = 200,
        flashes: list[Flash] | None = None,
        **context: Any,
    ) -> Response:
        return html_page(
            self.request,
            template,
            user=self.user,
            csrf_token=self.csrf_token,
            title=title,
            status_code=status_code,
            flashes=flashes,
            **context,
        )

    def error(self, template: str, title: str, exc: DoorwardError, **context: Any) -> Response:
        """Re-render ``template`` with the error as a flash and the matching status."""
        return self.render(
            template, title, status_code=status_for(exc),
            flashes=[Flash("error", exc.message, exc.hint)], **context,
        )


def status_for(exc: DoorwardError) -> int:
    for kind, status in _STATUS_BY_ERROR:
        if isinstance(exc, kind):
            return status
    return 500


def _session_token(request: Request) -> str:
    return request.cookies.get(SESSION_COOKIE, "")


def _current_user(request: Request, hub: HubContext) -> PageUser | None:
    token = _session_token(request)
    if not token:
        return None
    found = user_for_token(hub, token)
    if found is None:
        return None
    return PageUser(
        user_id=found.id,
        username=found.username,
        role=found.role,
        person_id=found.person_id,
        session_digest=hashlib.sha256(token.encode()).hexdigest(),
    )


def _page(request: Request, roles: tuple[str, ...]) -> Page:
    hub = hub_of(request)
    user = _current_user(request, hub)
    if roles and user is None:
        raise AuthenticationFailed("please log in", hint="your session is missing or expired")
    if roles and user is not None and user.role not in roles:
        raise PermissionDenied(
            f"this page is for {' and '.join(roles)} accounts",
            hint=f"you are logged in as {user.username} ({user.role})",
        )
    token = csrf_token_for(request, hub.settings.secret_key, _session_token(request))
    return Page(request=request, hub=hub, user=user, csrf_token=token)


def page_for(*roles: str) -> Callable[[Request], Page]:
    """A dependency: the page, after checking the user has one of ``roles`` (none: anyone)."""

    def dependency(request: Request) -> Page:
        return _page(request, roles)

    return dependency


def form_for(*roles: str) -> Callable[[Request], Coroutine[Any, Any, Page]]:
    """Like :func:`page_for`, for a form POST: also checks the CSRF token."""

    async def dependency(request: Request) -> Page:
        page = _page(request, roles)
        await verify_csrf(request, page.hub.settings.secret_key, _session_token(request))
        return page

    return dependency


def _error_page(request: Request, exc: DoorwardError, status: int) -> Response:
    token = csrf_token_for(request, hub_of(request).settings.secret_key, _session_token(request))
    user = None
    try:
        user = _current_user(request, hub_of(request))
    except DoorwardError:
        log.exception("could not load the user for an error page")
    return html_page(
        request, "error.html", user=user, csrf_token=token, title="Something is wrong",
        status_code=status, error=exc,
    )


def _secure_cookies(request: Request) -> bool:
    """Secure cookies over HTTPS, and always in production (TLS may end at a proxy)."""
    return request.url.scheme == "https" or hub_of(request).settings.environment == "production"


class PageRoute(APIRoute):
    """An APIRoute whose errors are HTML pages and whose responses carry security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except AuthenticationFailed as exc:
                if request.method == "GET":
                    target = quote(request.url.path, safe="/")
                    response = RedirectResponse(f"/login?next={target}", status_code=303)
                else:
                    response = _error_page(request, exc, 401)
            except DoorwardError as exc:
                status = status_for(exc)
                if status == 500:
                    # Details (SQL, library messages) go to the log, not to the page.
                    log.exception("page %s failed", request.url.path)
                    exc = DoorwardError("the hub could not complete this request",
                                        hint="try again in a moment; if it persists, tell "
                                        "your administrator")
                response = _error_page(request, exc, status)
            except RequestValidationError as exc:
                response = _error_page(request, _validation_error(exc), 422)
            ensure_csrf_cookie(request, response, secure=_secure_cookies(request))
            return secure_headers(response)

        return page_handler


def _validation_error(exc: RequestValidationError) -> InvalidInput:
    first = exc.errors()[0] if exc.errors() else {}
    field = str(first.get("loc", ("", "?"))[-1])
    if first.get("type") == "missing":
        message = f"the field {field!r} is missing"
    else:
        message = f"the field {field!r} is invalid: {str(first.get('msg', '')).lower()}"
    return InvalidInput(message, hint="correct it and submit the form again")
