"""Face verification on the hub: a resident's consent, enrolment and withdrawal.

The unlock secret is the resident's, not the hub's. The phone (or the card personalisation
station) draws 32 random bytes, sends them ONCE with the enrolment request, and keeps them; the
hub uses them in memory to seal the template and drops them when the request ends. Nothing
stores, logs or returns them. The captures (3–5 photos in the request body) are decoded in
memory, embedded and dropped; only the sealed template (ciphertext, salt, nonce) is kept.

Every change that alters which sealed templates a gate must hold (enrolment, withdrawal)
bumps the versions of the resident's credentials, so the next snapshot delta carries the
template, or its removal, to every edge. ``announce_face_change`` is that hook; call it after
deleting templates by any other path too.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorward.errors import (
    CaptureRejected,
    Conflict,
    FaceError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from doorward.hub.services import edge_health
from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.common import audit, bump_version, own_subject
from doorward.hub.services.context import HubContext
from doorward.store.models import CredentialRow, utcnow

if TYPE_CHECKING:
    from doorward.face import ConsentRecord, FaceEngine
    from doorward.face.embed import Frame

__all__ = [
    "ENROLLABLE_KINDS",
    "MAX_CAPTURE_BYTES",
    "MAX_CAPTURE_PIXELS",
    "Enrolment",
    "announce_face_change",
    "decode_capture",
    "decode_unlock_secret",
    "enrol",
    "grant_consent",
    "my_consent",
    "withdraw",
]

#: The credentials that can carry the unlock secret to the gate. A PIN cannot (and is the
#: fallback second factor when the face check fails).
ENROLLABLE_KINDS = ("card", "mobile")
MAX_CAPTURE_BYTES = 4_000_000
MAX_CAPTURE_PIXELS = 4096 * 4096
_GRANT, _WITHDRAW, _ENROL = "consent.face.grant", "consent.face.withdraw", "face.enrol"
_PURPOSE = "face verification as a second factor"


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the resident is told after enrolling: which credential, when. No template."""

    credential_id: str
    enrolled_at: datetime


def grant_consent(
    ctx: HubContext,
    user: AuthUser,
    *,
    policy_version: str | None = None,
    retention_days: int = 365,
    now: datetime | None = None,
) -> ConsentRecord:
    """Record the resident's opt-in; only while the site has face verification switched on."""
    from doorward.face import FaceService
    from doorward.hub.web.policy import current_policy

    site = current_policy(ctx)
    if not site.face_enabled:
        raise Conflict(
            "face verification is switched off at this site",
            hint="there is nothing to opt in to until the site's managers enable it",
        )
    subject = own_subject(ctx.db, user.person_id)
    record = FaceService(ctx.db, threshold=0.0).record_consent(
        subject,
        policy_version=policy_version or site.dpia_reference or "unversioned",
        retention_days=retention_days,
        now=now,
    )
    with ctx.db.write() as session:
        audit(session, actor=user.username, action=_GRANT, purpose=_PURPOSE, subject=subject,
              detail=f"policy {record.policy_version}")
    return record


def my_consent(ctx: HubContext, user: AuthUser) -> ConsentRecord | None:
    from doorward.face import FaceService

    return FaceService(ctx.db, threshold=0.0).active_consent(own_subject(ctx.db, user.person_id))


def decode_unlock_secret(text: str) -> bytes:
    """The phone's 32-byte secret, base64 (standard or URL-safe alphabet)."""
    try:
        secret = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(
            "unlock_secret is not base64", hint="send the phone's 32 random bytes, base64"
        ) from exc
    if len(secret) != 32:
        raise InvalidInput(
            f"unlock_secret must be 32 bytes, got {len(secret)}",
            hint="draw 32 random bytes on the phone and keep them there",
        )
    return secret


def decode_capture(text: str, index: int) -> Frame:
    """One capture (JPEG or PNG, base64) decoded into an RGB array in memory; never saved."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"capture {index} is not base64", hint="send each photo base64") from exc
    if len(data) > MAX_CAPTURE_BYTES:
        raise InvalidInput(f"capture {index} is over {MAX_CAPTURE_BYTES // 1_000_000} MB",
                           hint="send a JPEG of at most 1280 px on the long side")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_CAPTURE_PIXELS:
                raise InvalidInput(f"capture {index} is {image.width}×{image.height} px",
                                   hint="send a photo of at most 4096×4096 px")
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise InvalidInput(
            f"capture {index} is not a readable image", hint="send JPEG or PNG photos"
        ) from exc


def _own_credential(session: Session, user: AuthUser, credential_id: str) -> CredentialRow:
    row = session.get(CredentialRow, credential_id)
    if row is None or row.person_id != user.person_id:
        # Same answer for someone else's credential as for none: ids are not probed.
        raise NotFound(f"you have no credential {credential_id!r}",
                       hint="enrol with your own card or mobile key")
    if row.kind not in ENROLLABLE_KINDS:
        raise InvalidInput(
            f"a {row.kind} credential cannot carry the face unlock secret",
            hint="enrol with your card or mobile key; your PIN stays the fallback",
        )
    if row.revoked:
        raise PermissionDenied("this credential is revoked", hint="ask for a new one")
    return row


def enrol(
    ctx: HubContext,
    user: AuthUser,
    credential_id: str,
    captures: Sequence[str],
    unlock_secret: str,
    *,
    engine: FaceEngine | None = None,
    now: datetime | None = None,
) -> Enrolment:
    """Seal a template from 3–5 captures for one of the resident's own credentials."""
    from doorward.face import FaceService

    subject = own_subject(ctx.db, user.person_id)
    with ctx.db.read() as session:
        _own_credential(session, user, credential_id)
    secret = decode_unlock_secret(unlock_secret)
    frames = [decode_capture(c, i) for i, c in enumerate(captures, start=1)]
    when = now or utcnow()
    try:
        FaceService(ctx.db, engine).enrol(subject, credential_id, frames, secret, now=when)
    except CaptureRejected as exc:  # a photo the person can retake: bad input, not a fault
        raise InvalidInput(exc.message, hint=exc.hint) from exc
    except FaceError as exc:  # no active consent
        raise Conflict(exc.message, hint=exc.hint) from exc
    finally:
        frames.clear()  # the decoded photos go now, whatever happened
        del secret
    with ctx.db.write() as session:
        row = _own_credential(session, user, credential_id)
        row.face_second_factor = True
        row.version = bump_version(session, ctx.site_id)
        audit(session, actor=user.username, action=_ENROL, purpose=_PURPOSE, subject=subject,
              detail=credential_id)
    # Usable at the gates within a second.
    edge_health.push_to_edges(ctx, "face template enrolled")
    return Enrolment(credential_id, when)


def announce_face_change(session: Session, site_id: str, subject: str) -> int:
    """Bump the subject's credentials so the next delta re-sends (or removes) their templates.

    Clears ``face_second_factor`` on credentials that no longer have a template, so a
    withdrawn resident's card works again without a face at gates that do not require one.
    Returns the number of credentials touched.
    """
    from doorward.store.face_models import FaceTemplateRow
    from doorward.store.models import SubjectMapRow

    person_id = session.scalar(
        select(SubjectMapRow.person_id).where(SubjectMapRow.subject == subject)
    )
    if person_id is None:
        return 0
    with_template = set(session.scalars(
        select(FaceTemplateRow.credential_id).where(FaceTemplateRow.subject == subject)
    ))
    rows = session.scalars(select(CredentialRow).where(CredentialRow.person_id == person_id)).all()
    if not rows:
        return 0
    version = bump_version(session, site_id)
    for row in rows:
        row.face_second_factor = row.face_second_factor and row.id in with_template
        row.version = version
    return len(rows)


def withdraw(ctx: HubContext, user: AuthUser, *, now: datetime | None = None) -> int:
    """Withdraw consent: every template of the resident is deleted here, and from every edge
    by the next snapshot delta. Returns the number of templates deleted."""
    from doorward.face import FaceService

    subject = own_subject(ctx.db, user.person_id)
    service = FaceService(ctx.db, threshold=0.0)
    if service.active_consent(subject) is None:
        raise Conflict("you have no face-verification consent to withdraw",
                        hint="nothing is stored about your face")
    deleted = service.withdraw_consent(subject, now=now)
    with ctx.db.write() as session:
        announce_face_change(session, ctx.site_id, subject)
        audit(session, actor=user.username, action=_WITHDRAW, purpose=_PURPOSE, subject=subject,
              detail=f"{deleted} template(s) deleted")
    edge_health.push_to_edges(ctx, "face template withdrawn")
    return deleted
