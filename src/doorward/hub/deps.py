"""Typed dependencies: the hub context, and who is calling (roles enforced here, not in
handlers). Browsers send the session cookie; API clients and edges send a bearer token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from doorward.errors import AuthenticationFailed, PermissionDenied
from doorward.hub.services import accounts
from doorward.hub.services.accounts import AuthUser, EdgeIdentity
from doorward.hub.services.context import HubContext

__all__ = [
    "SESSION_COOKIE",
    "AdminUser",
    "Ctx",
    "CurrentUser",
    "EdgeClient",
    "GuardUser",
    "ResidentUser",
    "request_token",
]

SESSION_COOKIE = "doorward_session"


def get_ctx(request: Request) -> HubContext:
    ctx: HubContext = request.app.state.hub
    return ctx


Ctx = Annotated[HubContext, Depends(get_ctx)]


def request_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE) or None


def current_user(request: Request, ctx: Ctx) -> AuthUser:
    token = request_token(request)
    user = accounts.user_for_token(ctx, token) if token else None
    if user is None:
        raise AuthenticationFailed(
            "you are not logged in, or your session expired",
            hint="log in at POST /api/v1/auth/login",
        )
    return user


CurrentUser = Annotated[AuthUser, Depends(current_user)]


def _require(*roles: str) -> Callable[[AuthUser], AuthUser]:
    def check(user: CurrentUser) -> AuthUser:
        if user.role not in roles:
            raise PermissionDenied(
                f"this needs the {' or '.join(roles)} role; you are {user.role}",
                hint="log in with an account that has that role",
            )
        return user

    return check


AdminUser = Annotated[AuthUser, Depends(_require("admin"))]
GuardUser = Annotated[AuthUser, Depends(_require("guard", "admin"))]
ResidentUser = Annotated[AuthUser, Depends(_require("resident"))]
ResidentOrAdmin = Annotated[AuthUser, Depends(_require("resident", "admin"))]


def edge_client(request: Request, ctx: Ctx) -> EdgeIdentity:
    token = request_token(request)
    edge = accounts.edge_for_token(ctx, token) if token else None
    if edge is None:
        raise AuthenticationFailed(
            "this endpoint needs an edge token",
            hint="enrol the edge with POST /api/v1/gates/{gate_id}/edge-token",
        )
    return edge


EdgeClient = Annotated[EdgeIdentity, Depends(edge_client)]
