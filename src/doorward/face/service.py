"""FaceService: consent, enrolment, 1:1 verification and withdrawal, over the database.

Strictly one-to-one. ``verify`` loads the single template stored for (subject, credential id)
and compares the probe frames with it; there is no function that compares a probe with many
templates and no API that lists templates. Library errors are converted here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from doorward.errors import CaptureRejected, FaceError, InvalidInput
from doorward.face.consensus import FaceResult, decide_consensus
from doorward.face.embed import FaceEngine, Frame, distance
from doorward.face.template import (
    MAX_ENROL_CAPTURES,
    MIN_ENROL_CAPTURES,
    SealedTemplate,
    build_template,
    open_template,
    seal_template,
)
from doorward.store.db import Database
from doorward.store.face_models import FaceConsentRow, FaceTemplateRow

__all__ = ["DEFAULT_PURPOSE", "ConsentRecord", "FaceService", "verify_sealed"]

DEFAULT_PURPOSE = "second factor at the gate, 1:1 against my own template"


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """A consent as shown to the resident."""

    subject: str
    purpose: str
    policy_version: str
    retention_days: int
    granted_at: datetime
    withdrawn_at: datetime | None

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _check_subject(subject: str, credential_id: str | None = None) -> None:
    if not subject or len(subject) > 128:
        raise InvalidInput(
            "the subject must be a pseudonym of 1–128 characters",
            hint="pass the subject's pseudonymous id, never a name",
        )
    if credential_id is not None and (not credential_id or len(credential_id) > 128):
        raise InvalidInput("the credential id must be 1–128 characters")


def verify_sealed(
    engine: FaceEngine,
    sealed: SealedTemplate,
    unlock_secret: bytes,
    frames: Sequence[Frame],
    *,
    subject: str,
    credential_id: str,
    threshold: float,
    min_matches: int | None = None,
) -> FaceResult:
    """1:1 verification against ONE sealed template, without a database.

    For an edge that carries the sealed template in its snapshot (the ciphertext is useless
    without the resident's secret). Opens the template, embeds each frame (frames refused by
    the capture checks never match) and applies the k-of-n consensus.
    """
    template = open_template(sealed, unlock_secret, subject=subject, credential_id=credential_id)
    distances: list[float] = []
    rejections: list[str] = []
    for frame in frames:
        try:
            distances.append(distance(engine.embed_frame(frame), template))
        except CaptureRejected as exc:
            rejections.append(exc.message)
    return decide_consensus(
        distances,
        threshold,
        frame_count=len(frames),
        min_matches=min_matches,
        rejection_reasons=rejections,
    )


class FaceService:
    """Face verification for one database. ``engine`` is shared and loads models lazily."""

    def __init__(
        self, db: Database, engine: FaceEngine | None = None, *, threshold: float | None = None
    ) -> None:
        self.db = db
        self.engine = engine or FaceEngine()
        if threshold is None:
            from doorward.face.calibrate import default_threshold

            threshold = default_threshold()
        self.threshold = threshold

    # -- consent ---------------------------------------------------------------------------
    def record_consent(
        self,
        subject: str,
        *,
        policy_version: str,
        purpose: str = DEFAULT_PURPOSE,
        retention_days: int = 365,
        now: datetime | None = None,
    ) -> ConsentRecord:
        """Record that ``subject`` opted in to face verification under a policy version."""
        _check_subject(subject)
        if not 1 <= len(policy_version) <= 200 or len(purpose) > 200:
            raise InvalidInput(
                "the policy version (1–200 characters) and purpose (≤ 200) are required",
                hint="record which consent text the resident agreed to, e.g. its version or date",
            )
        if not 1 <= retention_days <= 365:
            raise InvalidInput(
                f"retention_days must be 1–365, got {retention_days}",
                hint="templates are deleted after at most 12 months unused",
            )
        row = FaceConsentRow(
            subject=subject,
            purpose=purpose,
            policy_version=policy_version,
            retention_days=retention_days,
            granted_at=_utc(now),
            withdrawn_at=None,
        )
        with self.db.write() as session:
            session.add(row)
        return self._record(row)

    def active_consent(self, subject: str) -> ConsentRecord | None:
        """The subject's latest consent if it is still in force."""
        with self.db.read() as session:
            row = session.scalars(
                select(FaceConsentRow)
                .where(FaceConsentRow.subject == subject, FaceConsentRow.withdrawn_at.is_(None))
                .order_by(FaceConsentRow.id.desc())
                .limit(1)
            ).first()
            return self._record(row) if row else None

    def withdraw_consent(self, subject: str, *, now: datetime | None = None) -> int:
        """Withdraw consent and delete every template of the subject; returns templates deleted."""
        _check_subject(subject)
        with self.db.write() as session:
            for row in session.scalars(
                select(FaceConsentRow).where(
                    FaceConsentRow.subject == subject, FaceConsentRow.withdrawn_at.is_(None)
                )
            ):
                row.withdrawn_at = _utc(now)
            result = session.execute(
                delete(FaceTemplateRow).where(FaceTemplateRow.subject == subject)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    # -- enrolment and verification -----------------------------------------------------------
    def enrol(
        self,
        subject: str,
        credential_id: str,
        frames: Sequence[Frame],
        unlock_secret: bytes,
        *,
        now: datetime | None = None,
    ) -> None:
        """Build a template from 3–5 captures and store it sealed; replaces an older one.

        Refused without an active consent. Every frame must pass the capture checks.
        """
        _check_subject(subject, credential_id)
        consent = self.active_consent(subject)
        if consent is None:
            raise FaceError(
                "no active consent to face verification for this subject",
                hint="the resident must opt in (record_consent) before enrolling",
            )
        if not MIN_ENROL_CAPTURES <= len(frames) <= MAX_ENROL_CAPTURES:
            raise InvalidInput(
                f"enrolment takes {MIN_ENROL_CAPTURES}–{MAX_ENROL_CAPTURES} frames, "
                f"got {len(frames)}",
                hint="capture a few frames of the resident looking at the camera",
            )
        embeddings = []
        for index, frame in enumerate(frames, start=1):
            try:
                embeddings.append(self.engine.embed_frame(frame))
            except CaptureRejected as exc:
                raise CaptureRejected(f"frame {index}: {exc.message}", hint=exc.hint) from exc
        sealed = seal_template(
            build_template(embeddings), unlock_secret, subject=subject, credential_id=credential_id
        )
        with self.db.write() as session:
            session.execute(
                delete(FaceTemplateRow).where(
                    FaceTemplateRow.subject == subject,
                    FaceTemplateRow.credential_id == credential_id,
                )
            )
            session.add(
                FaceTemplateRow(
                    subject=subject,
                    credential_id=credential_id,
                    ciphertext=sealed.ciphertext,
                    salt=sealed.salt,
                    nonce=sealed.nonce,
                    created_at=_utc(now),
                    last_used_at=None,
                )
            )

    def verify(
        self,
        subject: str,
        credential_id: str,
        frames: Sequence[Frame],
        unlock_secret: bytes,
        threshold: float | None = None,
        *,
        min_matches: int | None = None,
        now: datetime | None = None,
    ) -> FaceResult:
        """Compare probe frames with this subject's own template (1:1), k-of-n consensus."""
        _check_subject(subject, credential_id)
        if not frames:
            raise InvalidInput("verification needs at least one frame")
        with self.db.read() as session:
            row = session.scalars(
                select(FaceTemplateRow).where(
                    FaceTemplateRow.subject == subject,
                    FaceTemplateRow.credential_id == credential_id,
                )
            ).first()
            sealed = (
                SealedTemplate(bytes(row.ciphertext), bytes(row.salt), bytes(row.nonce))
                if row
                else None
            )
        if sealed is None:
            raise FaceError(
                "no face template is enrolled for this credential",
                hint="enrol the resident's face for this credential, or turn the face factor off",
            )
        result = verify_sealed(
            self.engine,
            sealed,
            unlock_secret,
            frames,
            subject=subject,
            credential_id=credential_id,
            threshold=self.threshold if threshold is None else threshold,
            min_matches=min_matches,
        )
        if result.matched:
            with self.db.write() as session:
                stored = session.scalars(
                    select(FaceTemplateRow).where(
                        FaceTemplateRow.subject == subject,
                        FaceTemplateRow.credential_id == credential_id,
                    )
                ).first()
                if stored is not None:
                    stored.last_used_at = _utc(now)
        return result

    def delete_template(self, subject: str, credential_id: str) -> bool:
        """Delete one template (e.g. the credential was revoked); True if there was one."""
        with self.db.write() as session:
            result = session.execute(
                delete(FaceTemplateRow).where(
                    FaceTemplateRow.subject == subject,
                    FaceTemplateRow.credential_id == credential_id,
                )
            )
            return bool(getattr(result, "rowcount", 0))

    def purge_unused(self, *, now: datetime | None = None, max_idle_days: int = 365) -> int:
        """Delete templates idle past their consent's retention (never past ``max_idle_days``).

        Idle time counts from the last successful verification, or from enrolment if there was
        none. A template whose subject has no active consent is deleted outright.
        """
        current = _utc(now)
        with self.db.write() as session:
            retention = {
                row.subject: row.retention_days
                for row in session.scalars(
                    select(FaceConsentRow)
                    .where(FaceConsentRow.withdrawn_at.is_(None))
                    .order_by(FaceConsentRow.id)
                )
            }
            stale = []
            for row in session.execute(
                select(
                    FaceTemplateRow.id,
                    FaceTemplateRow.subject,
                    FaceTemplateRow.created_at,
                    FaceTemplateRow.last_used_at,
                )
            ):
                days = min(max_idle_days, retention.get(row.subject, 0))
                if _utc(row.last_used_at or row.created_at) < current - timedelta(days=days):
                    stale.append(row.id)
            if stale:
                session.execute(delete(FaceTemplateRow).where(FaceTemplateRow.id.in_(stale)))
            return len(stale)

    @staticmethod
    def _record(row: FaceConsentRow) -> ConsentRecord:
        return ConsentRecord(
            subject=row.subject,
            purpose=row.purpose,
            policy_version=row.policy_version,
            retention_days=row.retention_days,
            granted_at=_utc(row.granted_at),
            withdrawn_at=_utc(row.withdrawn_at) if row.withdrawn_at else None,
        )
