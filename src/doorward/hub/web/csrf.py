"""CSRF protection for every form: the signed double-submit cookie pattern.

A random nonce lives in an HttpOnly, SameSite=Strict cookie. Each page embeds
``HMAC(secret_key, nonce | session cookie)`` in a hidden field (and a ``<meta>`` for htmx,
sent back as ``X-CSRF-Token``). A POST is accepted only when the submitted token is the HMAC
of the cookie nonce with the current session: an attacker on another origin can neither read
the cookie nor compute the HMAC, and a token taken before login stops working after it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from doorward.errors import PermissionDenied

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "csrf_token_for",
    "ensure_csrf_cookie",
    "verify_csrf",
]

CSRF_COOKIE = "doorward_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _sign(secret_key: str, nonce: str, session: str) -> str:
    message = f"csrf|{nonce}|{session}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def _nonce_of(request: Request) -> str:
    """The request's nonce; a fresh one (set on the response later) if it has none yet."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    if len(existing) >= 32:
        return existing
    fresh: str | None = getattr(request.state, "csrf_nonce", None)
    if fresh is None:
        fresh = secrets.token_urlsafe(32)
        request.state.csrf_nonce = fresh
    return fresh


def csrf_token_for(request: Request, secret_key: str, session: str) -> str:
    """The token to embed in the forms of the page answering ``request``."""
    return _sign(secret_key, _nonce_of(request), session)


def ensure_csrf_cookie(request: Request, response: Response, *, secure: bool) -> None:
    """Set the nonce cookie if this request had to invent one."""
    fresh: str | None = getattr(request.state, "csrf_nonce", None)
    if fresh is not None:
        response.set_cookie(
            CSRF_COOKIE, fresh, httponly=True, samesite="strict", secure=secure, path="/"
        )


async def verify_csrf(request: Request, secret_key: str, session: str) -> None:
    """Refuse a state-changing request whose token does not match its cookie and session."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    submitted = request.headers.get(CSRF_HEADER, "")
    if not submitted:
        form = await request.form()
        value = form.get(CSRF_FIELD, "")
        submitted = value if isinstance(value, str) else ""
    if not nonce or not submitted:
        raise PermissionDenied(
            "this form has no security token",
            hint="reload the page and submit the form again (cookies must be enabled)",
        )
    expected = _sign(secret_key, nonce, session)
    if not hmac.compare_digest(expected, submitted):
        raise PermissionDenied(
            "this form's security token is out of date",
            hint="reload the page and submit the form again",
        )
