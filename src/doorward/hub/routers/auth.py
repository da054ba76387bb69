"""Login, logout and who am I. The session token goes in a secure HttpOnly cookie for browsers
and in the body for API clients (send it as ``Authorization: Bearer ...``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from doorward.hub.deps import SESSION_COOKIE, Ctx, CurrentUser, request_token
from doorward.hub.schemas import LoginIn, LoginOut, UserPublic
from doorward.hub.services import accounts

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login")
def login(data: LoginIn, request: Request, response: Response, ctx: Ctx) -> LoginOut:
    token, user = accounts.login(ctx, request.app.state.login_limiter, data.username, data.password)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
        secure=ctx.settings.environment == "production" or request.url.scheme == "https",
    )
    return LoginOut(token=token, user=user)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, response: Response, user: CurrentUser, ctx: Ctx) -> None:
    token = request_token(request)
    if token:
        accounts.logout(ctx, token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me")
def me(user: CurrentUser) -> UserPublic:
    return UserPublic(id=user.id, username=user.username, role=user.role,  # type: ignore[arg-type]
                      person_id=user.person_id)
