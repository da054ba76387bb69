"""Logins, sessions, API bearer tokens and edge tokens.

Passwords are argon2id hashes (argon2-cffi). Session and bearer tokens are random; only their
SHA-256 is stored, so a database leak yields no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select

from doorward.errors import AuthenticationFailed, Conflict, InvalidInput, PermissionDenied
from doorward.hub.schemas import UserPublic
from doorward.hub.services.common import audit, get_or_404, new_id
from doorward.hub.services.context import HubContext
from doorward.store.models import EdgeClientRow, GateRow, LoginSession, UserRow, utcnow

__all__ = [
    "AuthUser",
    "EdgeIdentity",
    "LoginLimiter",
    "create_edge_token",
    "create_user",
    "edge_for_token",
    "hash_password",
    "login",
    "logout",
    "user_for_token",
]

SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_CHARS = 10
_HASHER = PasswordHasher()
# Verifying against a dummy hash keeps "no such user" as slow as "wrong password".
_DUMMY_HASH = _HASHER.hash("doorward-timing-equaliser")


@dataclass(frozen=True)
class AuthUser:
    id: str
    username: str
    role: str
    person_id: str | None


@dataclass(frozen=True)
class EdgeIdentity:
    id: str
    gate_id: str


class LoginLimiter:
    """At most N login attempts per username per minute, in memory."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._attempts: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            attempts = self._attempts[key]
            while attempts and now - attempts[0] > 60:
                attempts.popleft()
            if len(attempts) >= self.per_minute:
                raise AuthenticationFailed(
                    "too many login attempts", hint="wait a minute before trying again"
                )
            attempts.append(now)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _public(row: UserRow) -> UserPublic:
    return UserPublic(id=row.id, username=row.username, role=row.role, person_id=row.person_id)  # type: ignore[arg-type]


def create_user(
    ctx: HubContext, username: str, password: str, role: str, person_id: str | None = None
) -> UserPublic:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(
            f"the password is shorter than {MIN_PASSWORD_CHARS} characters",
            hint="use a longer passphrase",
        )
    if role not in {"admin", "guard", "resident"}:
        raise InvalidInput(f"unknown login role {role!r}", hint="use admin, guard or resident")
    with ctx.db.write() as session:
        if session.scalar(select(UserRow.id).where(UserRow.username == username)):
            raise Conflict(f"the username {username!r} is taken", hint="choose another username")
        row = UserRow(
            id=new_id("usr"),
            username=username,
            password_hash=hash_password(password),
            role=role,
            person_id=person_id,
            disabled=False,
        )
        session.add(row)
        audit(session, actor="system", action="user.create", detail=f"{username} as {role}")
        return _public(row)


def login(
    ctx: HubContext, limiter: LoginLimiter, username: str, password: str
) -> tuple[str, UserPublic]:
    """A new session token and the user, or AuthenticationFailed (same message either way)."""
    limiter.check(username.lower())
    with ctx.db.read() as session:
        row = session.scalar(select(UserRow).where(UserRow.username == username))
    stored = row.password_hash if row is not None and not row.disabled else _DUMMY_HASH
    try:
        ok = _HASHER.verify(stored, password) and row is not None and not row.disabled
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None:
        raise AuthenticationFailed(
            "the username or password is wrong", hint="check both and try again"
        )
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with ctx.db.write() as session:
        session.add(
            LoginSession(
                token_digest=_digest(token),
                user_id=row.id,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
        session.execute(delete(LoginSession).where(LoginSession.expires_at < now))
        audit(session, actor=row.username, action="auth.login")
    return token, _public(row)


def logout(ctx: HubContext, token: str) -> None:
    with ctx.db.write() as session:
        session.execute(delete(LoginSession).where(LoginSession.token_digest == _digest(token)))


def user_for_token(ctx: HubContext, token: str) -> AuthUser | None:
    with ctx.db.read() as session:
        found = session.execute(
            select(LoginSession.expires_at, UserRow)
            .join(UserRow, UserRow.id == LoginSession.user_id)
            .where(LoginSession.token_digest == _digest(token))
        ).first()
    if found is None:
        return None
    expires_at, user = found
    if expires_at < utcnow() or user.disabled:
        return None
    return AuthUser(id=user.id, username=user.username, role=user.role, person_id=user.person_id)


def create_edge_token(ctx: HubContext, actor: AuthUser, gate_id: str) -> tuple[str, str]:
    """A new bearer token for the edge at ``gate_id``: (edge id, token shown once)."""
    if actor.role != "admin":
        raise PermissionDenied("only an admin may enrol an edge", hint="log in as an admin")
    token = secrets.token_urlsafe(32)
    edge_id = new_id("edge")
    with ctx.db.write() as session:
        get_or_404(session, GateRow, gate_id, "gate")
        session.add(EdgeClientRow(id=edge_id, gate_id=gate_id, token_digest=_digest(token)))
        audit(session, actor=actor.username, action="edge.enrol", detail=gate_id)
    return edge_id, token


def edge_for_token(ctx: HubContext, token: str) -> EdgeIdentity | None:
    with ctx.db.read() as session:
        row = session.scalar(
            select(EdgeClientRow).where(EdgeClientRow.token_digest == _digest(token))
        )
    return None if row is None else EdgeIdentity(id=row.id, gate_id=row.gate_id)
