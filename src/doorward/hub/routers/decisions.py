"""Decide an access request on the hub, with the same domain core the edges run."""

from __future__ import annotations

from fastapi import APIRouter

from doorward.hub.deps import Ctx, GuardUser
from doorward.hub.schemas import AccessRequestIn, DecisionPublic
from doorward.hub.services import decisions

router = APIRouter(prefix="/gates", tags=["decisions"])


@router.post("/{gate_id}/decide")
def decide(gate_id: str, data: AccessRequestIn, ctx: Ctx, user: GuardUser) -> DecisionPublic:
    return decisions.decide_at_gate(ctx, gate_id, data)
