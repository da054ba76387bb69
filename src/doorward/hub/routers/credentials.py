"""Credentials: admins issue and revoke cards, PINs and mobile keys; a resident fetches the
current token of their own mobile key.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from doorward.hub.deps import AdminUser, Ctx, ResidentUser
from doorward.hub.schemas import CredentialIssue, CredentialPublic, MobileTokenOut
from doorward.hub.services import credentials, edge_health

router = APIRouter(prefix="/credentials", tags=["credentials"])


@router.get("")
def list_credentials(
    ctx: Ctx, user: AdminUser, person_id: str | None = None
) -> list[CredentialPublic]:
    return credentials.list_credentials(ctx, person_id)


@router.post("", status_code=status.HTTP_201_CREATED)
def issue_credential(data: CredentialIssue, ctx: Ctx, user: AdminUser) -> CredentialPublic:
    return credentials.issue_credential(ctx, user, data)


@router.get("/mobile/token")
def my_mobile_token(ctx: Ctx, user: ResidentUser) -> MobileTokenOut:
    return credentials.mobile_token_for(ctx, user)


@router.post("/{credential_id}/revoke")
def revoke_credential(credential_id: str, ctx: Ctx, user: AdminUser) -> CredentialPublic:
    revoked = credentials.revoke_credential(ctx, user, credential_id)
    # Every gate fetches its delta now (a resync naming no one), not at its next heartbeat
    # (30 s over MQTT) or snapshot poll (10 s over HTTPS).
    edge_health.push_to_edges(ctx, "credential revoked")
    return revoked
