"""Verify the event log's hash chain. Admins only."""

from __future__ import annotations

from fastapi import APIRouter

from doorward.hub.deps import AdminUser, Ctx
from doorward.hub.schemas import VerifyOut
from doorward.hub.services import events

router = APIRouter(prefix="/log", tags=["log"])


@router.get("/verify")
def verify_log(ctx: Ctx, user: AdminUser) -> VerifyOut:
    return events.verify_log(ctx)
