"""Tables for opt-in face verification: consent records and sealed templates.

No foreign key to other tables: a face row names its subject by the pseudonym string, so the
face extra can be dropped without touching the rest of the schema. No column holds an image;
``face_template.ciphertext`` is AEAD ciphertext that only the resident's unlock secret opens.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from doorward.store.base import Base

__all__ = ["FaceConsentRow", "FaceTemplateRow"]


class FaceConsentRow(Base):
    """One grant of consent to face verification, and its withdrawal."""

    __tablename__ = "face_consent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(128), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    policy_version: Mapped[str] = mapped_column(String(200))
    retention_days: Mapped[int] = mapped_column(Integer)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class FaceTemplateRow(Base):
    """A sealed template for one subject and one credential."""

    __tablename__ = "face_template"
    __table_args__ = (UniqueConstraint("subject", "credential_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(128), index=True)
    credential_id: Mapped[str] = mapped_column(String(128))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
