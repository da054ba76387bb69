"""Erasure that survives a restore: crypto-shredding plus an erasure ledger outside the database.

Erasing a person (the hub's ``people.erase_person``) deletes their record, logins,
credentials, face consent and templates, and their ``subject_map`` row: the per-person salt
that made their pseudonym. Their events stay in the hash-chained log, carrying a pseudonym
nobody can resolve any more, and the log still verifies.

A backup taken before the erasure still holds all of that. So every erasure is also written
to the **erasure ledger**, an append-only JSON-lines file in the data folder (never in the
database, so restoring a database backup cannot roll it back). It holds only what is needed
to do the erasure again, the record id and the pseudonym, never a name. Restoring a backup
replays every ledger entry (:func:`replay_erasures`) before the hub serves anything.
The ledger is written *before* the database commits: a crash between the two leaves an
entry for an erasure that will be redone, never an erasure the ledger forgot.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from doorward.errors import ConfigError
from doorward.hub.services.common import audit, bump_version, tombstone
from doorward.settings import Settings
from doorward.store.db import Database
from doorward.store.face_models import FaceConsentRow, FaceTemplateRow
from doorward.store.models import (
    CredentialRow,
    PersonRow,
    SubjectMapRow,
    UserRow,
    utcnow,
)
from doorward.store.privacy_models import PurgeRecordRow

__all__ = [
    "LEDGER_FILE",
    "ErasureLedger",
    "LedgerEntry",
    "ledger_for",
    "on_person_erased",
    "replay_erasures",
    "shred",
]

LEDGER_FILE = "erasure-ledger.jsonl"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    person_id: str
    subject: str | None
    erased_at: str  # ISO 8601, UTC


class ErasureLedger:
    """The append-only list of erasures, one JSON object a line, fsync'd on every append."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, person_id: str, subject: str | None, at: datetime | None = None) -> None:
        entry = LedgerEntry(person_id, subject, (at or utcnow()).isoformat())
        line = json.dumps(asdict(entry), sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            # Refuse the erasure rather than do one a restore could undo.
            raise ConfigError(
                f"cannot write the erasure ledger {self.path}: {exc.strerror}",
                hint="make the data folder writable by the hub, then erase again",
            ) from exc

    def entries(self) -> list[LedgerEntry]:
        if not self.path.exists():
            return []
        out: list[LedgerEntry] = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                out.append(LedgerEntry(str(raw["person_id"]), raw.get("subject"),
                                       str(raw["erased_at"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise ConfigError(
                    f"line {number} of the erasure ledger {self.path} is damaged",
                    hint="restore the ledger file from any copy (backups carry one); never "
                    "delete it, or erased people could come back with a restore",
                ) from exc
        return out

    def merge(self, others: Iterable[LedgerEntry]) -> list[LedgerEntry]:
        """Append the entries this ledger does not have yet; return the union."""
        have = self.entries()
        known = {(e.person_id, e.subject) for e in have}
        for entry in others:
            if (entry.person_id, entry.subject) not in known:
                known.add((entry.person_id, entry.subject))
                self.record(entry.person_id, entry.subject, datetime.fromisoformat(entry.erased_at))
                have.append(entry)
        return have


def ledger_for(settings: Settings) -> ErasureLedger:
    return ErasureLedger(settings.data_dir / LEDGER_FILE)


def _delete_face_data(session: Session, subject: str | None) -> int:
    if subject is None:
        return 0
    gone = 0
    for table in (FaceTemplateRow, FaceConsentRow):
        result = session.execute(delete(table).where(table.subject == subject))
        gone += int(getattr(result, "rowcount", 0) or 0)
    return gone


def on_person_erased(
    session: Session, settings: Settings, person_id: str, subject: str | None
) -> None:
    """Called by the hub's erasure inside its transaction, before it commits.

    Records the erasure in the ledger and deletes the person's face consent and templates
    (those tables name a pseudonym, not a person, so no foreign key cascades to them).
    """
    ledger_for(settings).record(person_id, subject)
    _delete_face_data(session, subject)


def shred(session: Session, site_id: str, person_id: str, subject: str | None) -> bool:
    """Erase one person inside ``session``, as the hub does; True if anything was left."""
    if subject is None:
        subject = session.scalar(
            select(SubjectMapRow.subject).where(SubjectMapRow.person_id == person_id))
    found = session.get(PersonRow, person_id) is not None
    found = _delete_face_data(session, subject) > 0 or found
    creds = session.scalars(
        select(CredentialRow.id).where(CredentialRow.person_id == person_id)).all()
    if creds:
        version = bump_version(session, site_id)
        for cred_id in creds:
            tombstone(session, site_id, "credential", cred_id, version)
    for table, column in (
        (CredentialRow, CredentialRow.person_id),
        (UserRow, UserRow.person_id),
        (SubjectMapRow, SubjectMapRow.person_id),
        (PersonRow, PersonRow.id),
    ):
        result = session.execute(delete(table).where(column == person_id))
        found = found or bool(getattr(result, "rowcount", 0))
    if subject is not None:
        result = session.execute(delete(SubjectMapRow).where(SubjectMapRow.subject == subject))
        found = found or bool(getattr(result, "rowcount", 0))
    return found


def replay_erasures(
    db: Database, site_id: str, entries: Iterable[LedgerEntry], *, actor: str = "restore"
) -> int:
    """Erase again everyone in ``entries`` who is back (e.g. from a backup); return how many.

    Logged as a ``privacy_purges`` row and an audit entry, with counts and no ids.
    """
    entries = list(entries)
    redone = 0
    with db.write() as session:
        for entry in entries:
            if shred(session, site_id, entry.person_id, entry.subject):
                redone += 1
        session.add(PurgeRecordRow(at=utcnow(), actor=actor, target="erasure_replay",
                                   site_id=site_id, cutoff=None, count=redone,
                                   detail=f"ledger_entries={len(entries)}"))
        audit(session, actor=actor, action="erasure.replay", purpose="erasure ledger",
              detail=f"ledger_entries={len(entries)} erased_again={redone}")
    return redone
