"""Gates: guards and admins read them; admins create, change and enrol their edges."""

from __future__ import annotations

from fastapi import APIRouter, status

from doorward.hub.deps import AdminUser, Ctx, GuardUser
from doorward.hub.schemas import EdgeTokenOut, GateCreate, GatePublic, GateUpdate
from doorward.hub.services import accounts, gates

router = APIRouter(prefix="/gates", tags=["gates"])


@router.get("")
def list_gates(ctx: Ctx, user: GuardUser) -> list[GatePublic]:
    return gates.list_gates(ctx)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_gate(data: GateCreate, ctx: Ctx, user: AdminUser) -> GatePublic:
    return gates.create_gate(ctx, user, data)


@router.get("/{gate_id}")
def get_gate(gate_id: str, ctx: Ctx, user: GuardUser) -> GatePublic:
    return gates.get_gate(ctx, gate_id)


@router.patch("/{gate_id}")
def update_gate(gate_id: str, data: GateUpdate, ctx: Ctx, user: AdminUser) -> GatePublic:
    return gates.update_gate(ctx, user, gate_id, data)


@router.post("/{gate_id}/edge-token", status_code=status.HTTP_201_CREATED)
def enrol_edge(gate_id: str, ctx: Ctx, user: AdminUser) -> EdgeTokenOut:
    """A bearer token for this gate's edge controller, shown once."""
    edge_id, token = accounts.create_edge_token(ctx, user, gate_id)
    return EdgeTokenOut(edge_id=edge_id, gate_id=gate_id, token=token)
