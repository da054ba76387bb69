"""The edge's versioned local snapshot, and its access memory, kept in SQLite.

The hub sends a full :class:`SnapshotMessage` or a delta over ``base_version``. A delta
applies only on top of exactly the version it was built from; otherwise the cache refuses
it and the edge asks for a full resync. The merged state is stored as one JSON document per
key, committed with ``synchronous=FULL``, so a restarted edge decides with what it last knew.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from enum import StrEnum
from pathlib import Path
from typing import Any

from doorward.domain import model as m
from doorward.domain.snapshot import build_snapshot
from doorward.edge.local_db import open_local_db
from doorward.errors import StoreError
from doorward.transport.messages import FaceTemplateWire, SnapshotMessage

__all__ = ["ApplyResult", "SnapshotCache", "to_domain_snapshot"]

_SCHEMA = "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


class ApplyResult(StrEnum):
    APPLIED = "applied"
    STALE = "stale"  # an old or repeated message; nothing to do
    NEEDS_RESYNC = "needs_resync"  # a delta over a version we do not hold


def to_domain_snapshot(message: SnapshotMessage) -> m.Snapshot:
    """Index a full wire snapshot into a domain snapshot; InvalidInput if it is inconsistent."""
    return build_snapshot(
        version=message.version,
        site_id=message.site_id,
        gates=[g.to_domain() for g in message.gates],
        credentials=[c.to_domain() for c in message.credentials],
        schedules=[s.to_domain() for s in message.schedules],
        passes=[p.to_domain() for p in message.passes],
        pass_code_digests={p.id: p.code_digest for p in message.passes if p.code_digest},
        hub_public_key=bytes.fromhex(message.hub_public_key),
        lockdown=message.lockdown,
        pass_code_key=bytes.fromhex(message.pass_code_key),
    )


def _merge(current: SnapshotMessage, delta: SnapshotMessage) -> SnapshotMessage:
    def upsert(old: list[Any], new: list[Any], removed: set[str]) -> list[Any]:
        by_id = {item.id: item for item in old}
        by_id.update({item.id: item for item in new})
        return [item for key, item in by_id.items() if key not in removed]

    return current.model_copy(
        update={
            "version": delta.version,
            "base_version": 0,
            "full": True,
            "hub_public_key": delta.hub_public_key or current.hub_public_key,
            "lockdown": delta.lockdown,
            "pass_code_key": delta.pass_code_key or current.pass_code_key,
            "gates": upsert(current.gates, delta.gates, set()),
            "schedules": upsert(current.schedules, delta.schedules, set()),
            "credentials": upsert(
                current.credentials, delta.credentials, set(delta.removed_credentials)
            ),
            "passes": upsert(current.passes, delta.passes, set(delta.removed_passes)),
            "removed_credentials": [],
            "removed_passes": [],
            "face_templates": _merge_faces(current, delta),
            "removed_face_templates": [],
        }
    )


def _merge_faces(current: SnapshotMessage, delta: SnapshotMessage) -> list[FaceTemplateWire]:
    """Upsert by credential id; a removed template or a removed credential takes it away."""
    gone = set(delta.removed_face_templates) | set(delta.removed_credentials)
    by_id = {t.credential_id: t for t in current.face_templates}
    by_id.update({t.credential_id: t for t in delta.face_templates})
    return [t for key, t in by_id.items() if key not in gone]


def _index_faces(message: SnapshotMessage | None) -> dict[str, FaceTemplateWire]:
    return {t.credential_id: t for t in message.face_templates} if message else {}


class SnapshotCache:
    """The last snapshot this edge received, merged and persisted, plus its access memory."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        # secure_delete: a withdrawn face template leaves no copy in the file.
        self._conn = open_local_db(
            path, _SCHEMA, what="snapshot cache",
            hint="check that the data folder exists and is writable", secure_delete=True,
        )
        raw = self._get("snapshot")
        self._message = SnapshotMessage.model_validate_json(raw) if raw else None
        self._domain = to_domain_snapshot(self._message) if self._message else None
        self._faces = _index_faces(self._message)

    @property
    def version(self) -> int:
        """The version held, or 0 when the edge has never received a snapshot."""
        return self._message.version if self._message else 0

    @property
    def snapshot(self) -> m.Snapshot | None:
        return self._domain

    @property
    def message(self) -> SnapshotMessage | None:
        return self._message

    def face_template(self, credential_id: str) -> FaceTemplateWire | None:
        """The sealed face template held for one credential (1:1 lookup; no listing)."""
        return self._faces.get(credential_id)

    def apply(self, message: SnapshotMessage) -> ApplyResult:
        """Apply a full snapshot or a delta; say whether a full resync is needed."""
        with self._lock:
            current = self._message
            if message.full:
                if current is not None and message.version < current.version:
                    return ApplyResult.STALE
                merged = message
            elif current is None or message.base_version != current.version:
                if current is not None and message.version <= current.version:
                    return ApplyResult.STALE
                return ApplyResult.NEEDS_RESYNC
            else:
                merged = _merge(current, message)
            domain = to_domain_snapshot(merged)
            self._put("snapshot", merged.model_dump_json())
            dropped = set(self._faces) - {t.credential_id for t in merged.face_templates}
            self._message, self._domain = merged, domain
            self._faces = _index_faces(merged)
            if dropped:
                self._flush_wal()  # the old snapshot (with the template) must not linger
        return ApplyResult.APPLIED

    def load_memory(self) -> dict[str, Any] | None:
        raw = self._get("memory")
        return dict(json.loads(raw)) if raw else None

    def save_memory(self, data: dict[str, Any]) -> None:
        with self._lock:
            self._put("memory", json.dumps(data, separators=(",", ":"), default=str))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _flush_wal(self) -> None:
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot checkpoint the snapshot cache: {exc}") from exc

    def _get(self, key: str) -> str | None:
        try:
            row = self._conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the snapshot cache: {exc}") from exc
        return str(row[0]) if row else None

    def _put(self, key: str, value: str) -> None:
        try:
            self._conn.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot save the snapshot cache: {exc}", hint="the disk may be full"
            ) from exc
