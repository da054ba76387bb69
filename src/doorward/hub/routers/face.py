"""Face verification for the resident: consent, enrolment from 3–5 photos, withdrawal.

Photos and the unlock secret arrive in the request body and live only in memory for the
request; the hub stores the sealed template and nothing else (see services/face_enrolment).
There is no route that lists, returns or compares templates.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field

from doorward.errors import NotFound
from doorward.hub.deps import Ctx, ResidentUser
from doorward.hub.schemas import In
from doorward.hub.services import face_enrolment

if TYPE_CHECKING:
    from doorward.face import ConsentRecord, FaceEngine

router = APIRouter(prefix="/face", tags=["face"])


class ConsentIn(In):
    policy_version: str | None = Field(
        default=None, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$",
        description="the consent text agreed to; default: the site's DPIA reference",
    )
    retention_days: int = Field(default=365, ge=1, le=365,
                                description="delete the template after this many days unused")


class ConsentPublic(BaseModel):
    purpose: str
    policy_version: str
    retention_days: int
    granted_at: datetime
    withdrawn_at: datetime | None


class EnrolmentIn(In):
    credential_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
                               description="your card or mobile key that will carry the secret")
    unlock_secret: str = Field(
        min_length=40, max_length=64,
        description="32 random bytes drawn by your phone, base64; sent once, never stored",
    )
    captures: list[str] = Field(
        min_length=3, max_length=5,
        description="3–5 JPEG or PNG photos of your face, base64; processed in memory only",
    )


class EnrolmentPublic(BaseModel):
    credential_id: str
    enrolled_at: datetime


class WithdrawalPublic(BaseModel):
    templates_deleted: int


def _engine(request: Request) -> FaceEngine:
    """One engine per app: its models load on first use and are then shared."""
    engine: FaceEngine | None = getattr(request.app.state, "face_engine", None)
    if engine is None:
        from doorward.face import FaceEngine

        engine = request.app.state.face_engine = FaceEngine()
    return engine


Engine = Annotated["FaceEngine", Depends(_engine)]


def _public(record: ConsentRecord) -> ConsentPublic:
    return ConsentPublic(
        purpose=record.purpose, policy_version=record.policy_version,
        retention_days=record.retention_days, granted_at=record.granted_at,
        withdrawn_at=record.withdrawn_at,
    )


@router.get("/consent")
def my_consent(ctx: Ctx, user: ResidentUser) -> ConsentPublic:
    record = face_enrolment.my_consent(ctx, user)
    if record is None:
        raise NotFound("you have not opted in to face verification",
                       hint="opt in with POST /api/v1/face/consent")
    return _public(record)


@router.post("/consent", status_code=status.HTTP_201_CREATED)
def grant_consent(data: ConsentIn, ctx: Ctx, user: ResidentUser) -> ConsentPublic:
    record = face_enrolment.grant_consent(
        ctx, user, policy_version=data.policy_version, retention_days=data.retention_days
    )
    return _public(record)


@router.delete("/consent")
def withdraw_consent(ctx: Ctx, user: ResidentUser) -> WithdrawalPublic:
    return WithdrawalPublic(templates_deleted=face_enrolment.withdraw(ctx, user))


@router.post("/enrolment", status_code=status.HTTP_201_CREATED)
def enrol(data: EnrolmentIn, ctx: Ctx, user: ResidentUser, engine: Engine) -> EnrolmentPublic:
    done = face_enrolment.enrol(
        ctx, user, data.credential_id, data.captures, data.unlock_secret, engine=engine
    )
    return EnrolmentPublic(credential_id=done.credential_id, enrolled_at=done.enrolled_at)
