"""RFC 9457 problem details for every error, so a client never sees a traceback.

Doorward errors map by type (see ``doorward.errors``); FastAPI's validation errors become a
422 listing each bad field with a message and a hint.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from doorward.errors import (
    AuthenticationFailed,
    Conflict,
    DoorwardError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PrivacyViolation,
    StoreError,
    TransportError,
)

__all__ = ["PROBLEM_JSON", "install_problem_handlers", "problem_response", "status_for"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("doorward.hub")

_STATUS: tuple[tuple[type[DoorwardError], int], ...] = (
    (InvalidInput, 422),
    (NotFound, 404),
    (Conflict, 409),
    (AuthenticationFailed, 401),
    (PermissionDenied, 403),
    (PrivacyViolation, 403),
    (StoreError, 503),
    (TransportError, 503),
)

_TITLES = {
    400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
    405: "Method not allowed", 409: "Conflict", 422: "Invalid input", 429: "Too many requests",
    500: "Internal error", 503: "Service unavailable",
}


def status_for(exc: DoorwardError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def problem_response(
    status: int, detail: str, *, hint: str = "", errors: list[dict[str, Any]] | None = None,
    slug: str = "", headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:doorward:problem:{slug or status}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if hint:
        body["hint"] = hint
    if errors:
        body["errors"] = errors
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {})
    )


def _slug(exc: Exception) -> str:
    name = type(exc).__name__
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


async def _doorward_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DoorwardError)
    if isinstance(exc, StoreError) and isinstance(exc.__cause__, DataError):
        # The database refused a value the request carried (a NUL character, a number out of
        # range): bad input, not an outage.
        exc = InvalidInput("a value in the request cannot be stored",
                           hint="remove control characters such as NUL, keep numbers in range")
    status = status_for(exc)
    if status >= 500:
        log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem_response(status, exc.message, hint=exc.hint, slug=_slug(exc), headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:] or parts
    return ".".join(parts)


def _hint(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "add this field"
    if kind == "extra_forbidden":
        return "remove this field; see docs/api.md for the accepted fields"
    if kind == "json_invalid":
        return "send a valid JSON body with Content-Type: application/json"
    if kind.startswith("string_too"):
        return "change the length of this text"
    if kind == "string_pattern_mismatch":
        return f"use only characters matching {ctx.get('pattern', 'the allowed pattern')}"
    if kind in {"enum", "literal_error"}:
        return f"use one of: {ctx.get('expected', 'the documented values')}"
    if kind.startswith(("datetime", "date")):
        return "use ISO 8601, e.g. 2026-11-26T18:00:00Z"
    if kind.startswith(("greater", "less")):
        return "use a value within the documented range"
    return "see docs/api.md for this field"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field(e.get("loc", ())), "message": str(e.get("msg", "")), "hint": _hint(e)}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "", "message": "invalid request"}
    detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return problem_response(422, detail, hint="fix the fields listed in errors", errors=errors,
                            slug="invalid-input")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
    hint = "see docs/api.md for the routes" if exc.status_code in {404, 405} else ""
    return problem_response(exc.status_code, detail, hint=hint, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(
        500, "the hub hit an unexpected error", hint="try again; if it persists, check the hub log"
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DoorwardError, _doorward_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
