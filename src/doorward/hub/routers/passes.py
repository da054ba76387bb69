"""Visitor and delivery passes: a resident issues them for their unit; admins see all."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from doorward.hub.deps import Ctx, ResidentOrAdmin, ResidentUser
from doorward.hub.schemas import PassCreate, PassIssued, PassPublic
from doorward.hub.services import edge_health, passes

router = APIRouter(prefix="/passes", tags=["passes"])


@router.get("")
def list_passes(ctx: Ctx, user: ResidentOrAdmin) -> list[PassPublic]:
    return passes.list_passes(ctx, user)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PassIssued,
             response_model_by_alias=True)
def issue_pass(data: PassCreate, request: Request, ctx: Ctx, user: ResidentUser) -> PassIssued:
    """Returns the QR payload, the short code and a link to share; shown only this once."""
    return passes.issue_visitor_pass(ctx, user, data, str(request.base_url))


@router.post("/{pass_id}/revoke")
def revoke_pass(pass_id: str, ctx: Ctx, user: ResidentOrAdmin) -> PassPublic:
    revoked = passes.revoke_pass(ctx, user, pass_id)
    # Reach online edges now, not at their next heartbeat.
    edge_health.push_to_edges(ctx, "pass revoked")
    return revoked
