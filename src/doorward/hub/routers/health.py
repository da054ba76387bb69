"""Liveness: no login needed, no data returned."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from doorward.hub.deps import Ctx
from doorward.hub.services.snapshots import current_version

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    site_id: str
    snapshot_version: int


@router.get("/health")
def health(ctx: Ctx) -> Health:
    return Health(status="ok", site_id=ctx.site_id, snapshot_version=current_version(ctx))
