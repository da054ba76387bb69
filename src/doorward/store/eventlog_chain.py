"""How event log entries are hashed, and how a site's chain is checked.

``entry_hash = HMAC-SHA256(key, bytes(prev_hash) || canonical JSON of the entry's fields)``.
The chain head (last seq and hash per site) and every purge checkpoint carry their own MAC
under the same key, so neither can be rolled back or edited without it either.

:class:`ChainWalker` walks one site's entries in ``seq`` order inside the caller's session.
At the first entry that does not verify it looks around that entry to say what happened:
"entry edited", "entry missing (deleted)", "entry inserted" or "out of order".
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac
from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from doorward.errors import ConfigError, LogTampered
from doorward.settings import Settings
from doorward.store.eventlog_models import ChainHead, EventLogCheckpoint, EventLogEntry, as_utc

__all__ = [
    "GENESIS_HASH",
    "ChainWalker",
    "VerifyReport",
    "checkpoint_mac",
    "entry_hash",
    "entry_payload",
    "head_mac",
    "load_chain_key",
    "load_or_create_chain_key",
]

CHAIN_KEY_BYTES = 32

#: ``prev_hash`` of the first entry of every site's chain.
GENESIS_HASH = "0" * 64
#: How far past its seq a renumbered genuine entry is looked for (deletion with renumbering).
_RENUMBER_WINDOW = 1000
_PAGE = 2000

_E = EventLogEntry
_CP = EventLogCheckpoint


@dataclass(frozen=True)
class VerifyReport:
    """The result of :meth:`EventLog.verify`: ``ok``, or the first bad ``seq`` and ``problem``."""

    ok: bool
    checked: int
    site_id: str | None = None
    seq: int | None = None
    problem: str = ""

    def summary(self) -> str:
        if self.ok:
            return f"OK: {self.checked} entries verified"
        return (
            f"TAMPERED: site {self.site_id}, seq {self.seq}: {self.problem} "
            f"({self.checked} entries verified before it)"
        )

    def raise_if_tampered(self) -> None:
        if not self.ok:
            raise LogTampered(
                f"the event log does not verify: site {self.site_id}, seq {self.seq}: "
                f"{self.problem}",
                hint="restore the database from a backup taken before that entry, and "
                "find out who had write access to it",
            )


def mac_hex(key: bytes, *parts: bytes) -> str:
    """HMAC-SHA256 of the concatenated parts, in hex."""
    mac = hmac.HMAC(key, hashes.SHA256())
    for part in parts:
        mac.update(part)
    return mac.finalize().hex()


def canonical_timestamp(value: datetime) -> str:
    return as_utc(value).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def entry_payload(values: Mapping[Any, Any]) -> bytes:
    """The canonical JSON of an entry's fields: what its hash commits to besides prev_hash."""
    doc = {
        "site_id": values["site_id"],
        "seq": values["seq"],
        "event_id": values["event_id"],
        "kind": values["kind"],
        "gate_id": values["gate_id"],
        "occurred_at": canonical_timestamp(values["occurred_at"]),
        "edge_seq": values["edge_seq"],
        "outcome": values["outcome"],
        "reason": values["reason"],
        "credential_kind": values["credential_kind"],
        "subject": values["subject"],
        "pass_id": values["pass_id"],
        "alarm": values["alarm"],
        "detail": values["detail"],
        "received_at": canonical_timestamp(values["received_at"]),
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(key: bytes, prev_hash: str, values: Mapping[Any, Any]) -> str:
    try:
        prev = bytes.fromhex(prev_hash)
    except ValueError:  # an edited prev_hash column need not even be hex
        prev = prev_hash.encode()
    return mac_hex(key, prev, entry_payload(values))


def head_mac(key: bytes, site_id: str, last_seq: int, last_hash: str) -> str:
    return mac_hex(key, b"chain-head\x00", json.dumps([site_id, last_seq, last_hash]).encode())


def checkpoint_mac(key: bytes, values: Mapping[Any, Any]) -> str:
    doc = [
        values["site_id"],
        values["seq"],
        values["entry_hash"],
        values["purged_count"],
        canonical_timestamp(values["purged_before"]),
        canonical_timestamp(values["created_at"]),
        values["prev_mac"],
    ]
    return mac_hex(key, b"checkpoint\x00", json.dumps(doc).encode())


@dataclass(frozen=True)
class _Start:
    """Where a site's chain starts: after the last checkpoint, or at the genesis."""

    seq: int
    prev_hash: str
    last_mac: str


class _Bad(Exception):
    """Internal: the walk stopped at ``seq`` because of ``problem``."""

    def __init__(self, seq: int, problem: str, checked: int = 0) -> None:
        super().__init__(problem)
        self.seq = seq
        self.problem = problem
        self.checked = checked


class ChainWalker:
    """Checks chains inside one session (so one snapshot of the database)."""

    def __init__(self, session: Session, key: bytes) -> None:
        self._session = session
        self._key = key

    def verify_site(self, site_id: str) -> VerifyReport:
        try:
            start = self._start(site_id)
            checked, last_seq, last_hash = self._walk(site_id, start.seq, start.prev_hash, None)
            self._check_head(site_id, start, last_seq, last_hash, checked)
        except _Bad as bad:
            return VerifyReport(False, bad.checked, site_id, bad.seq, bad.problem)
        return VerifyReport(True, checked, site_id)

    def checkpoint_start(self, site_id: str) -> tuple[int, str, str]:
        """(seq, hash, MAC) of the site's last checkpoint; LogTampered if checkpoints are bad."""
        try:
            start = self._start(site_id)
        except _Bad as bad:
            VerifyReport(False, 0, site_id, bad.seq, bad.problem).raise_if_tampered()
            raise  # pragma: no cover - raise_if_tampered always raises here
        return start.seq, start.prev_hash, start.last_mac

    def verify_prefix(self, site_id: str, start_seq: int, start_hash: str, through: int) -> str:
        """Verify entries up to ``through`` and return its hash; LogTampered if they fail."""
        try:
            _, last_seq, last_hash = self._walk(site_id, start_seq, start_hash, through)
            if last_seq != through:
                raise _Bad(last_seq + 1, "entry missing (deleted)")
        except _Bad as bad:
            VerifyReport(False, bad.checked, site_id, bad.seq, bad.problem).raise_if_tampered()
        return last_hash

    # ------------------------------------------------------------------------------------

    def _start(self, site_id: str) -> _Start:
        start = _Start(0, GENESIS_HASH, "")
        rows = self._session.execute(
            select(*_CP.__table__.columns).where(_CP.site_id == site_id).order_by(_CP.id)
        )
        for row in rows:
            if checkpoint_mac(self._key, row._mapping) != row.mac:
                raise _Bad(row.seq, "checkpoint edited")
            if row.prev_mac != start.last_mac:
                raise _Bad(row.seq, "checkpoint missing (deleted)")
            if row.seq < start.seq:
                raise _Bad(row.seq, "checkpoint out of order")
            start = _Start(row.seq, row.entry_hash, row.mac)
        return start

    def _walk(
        self, site_id: str, start_seq: int, prev_hash: str, through: int | None
    ) -> tuple[int, int, str]:
        """Walk entries in seq order; returns (checked, last seq, last hash)."""
        expected, checked, after = start_seq + 1, 0, None
        while True:
            query = select(*_E.__table__.columns).where(_E.site_id == site_id)
            if after is not None:
                query = query.where(_E.seq > after)
            if through is not None:
                query = query.where(_E.seq <= through)
            page = self._session.execute(query.order_by(_E.seq).limit(_PAGE)).all()
            for row in page:
                if row.seq < expected:  # only rows before the checkpoint can be lower
                    raise _Bad(row.seq, "entry inserted", checked)
                if row.seq > expected:
                    raise _Bad(expected, "entry missing (deleted)", checked)
                if row.prev_hash != prev_hash or (
                    entry_hash(self._key, prev_hash, row._mapping) != row.entry_hash
                ):
                    raise _Bad(row.seq, self._what_happened(site_id, row, prev_hash), checked)
                prev_hash = row.entry_hash
                expected += 1
                checked += 1
            if len(page) < _PAGE:
                return checked, expected - 1, prev_hash
            after = page[-1].seq

    def _check_head(
        self, site_id: str, start: _Start, last_seq: int, last_hash: str, checked: int
    ) -> None:
        head = self._head(site_id)
        if head is None:
            if last_seq > start.seq or start.seq > 0:
                raise _Bad(last_seq, "chain head missing (deleted)", checked)
            return
        if head_mac(self._key, site_id, head.last_seq, head.last_hash) != head.head_mac:
            raise _Bad(head.last_seq, "chain head edited", checked)
        if head.last_seq > last_seq:
            raise _Bad(last_seq + 1, "entry missing (deleted)", checked)
        if head.last_seq < last_seq:
            raise _Bad(head.last_seq + 1, "entry inserted", checked)
        if head.last_hash != last_hash:
            raise _Bad(last_seq, "entry edited", checked)

    def _head(self, site_id: str) -> Any:
        query = select(ChainHead.last_seq, ChainHead.last_hash, ChainHead.head_mac).where(
            ChainHead.site_id == site_id
        )
        return self._session.execute(query).first()

    def _what_happened(self, site_id: str, row: Row[Any], prev_hash: str) -> str:
        """Name the tampering at ``row``, which does not verify after ``prev_hash``."""
        head = self._head(site_id)
        if (
            head is not None
            and head_mac(self._key, site_id, head.last_seq, head.last_hash) == head.head_mac
            and row.seq > head.last_seq
        ):
            return "entry inserted"  # past the signed end of the chain
        predecessor = None
        if row.prev_hash != prev_hash:
            predecessor = self._session.scalar(
                select(_E.seq).where(_E.site_id == site_id, _E.entry_hash == row.prev_hash).limit(1)
            )
            if predecessor is not None and predecessor > row.seq:
                return "out of order"  # a genuine entry whose predecessor comes after it
        following = self._session.execute(
            select(*_E.__table__.columns)
            .where(_E.site_id == site_id, _E.seq > row.seq)
            .order_by(_E.seq)
            .limit(1)
        ).first()
        if following is not None and following.prev_hash == prev_hash:
            return "entry inserted"  # the next entry links past this one
        if row.prev_hash == prev_hash:
            if following is not None and row.entry_hash == entry_hash(
                self._key, prev_hash, {**following._mapping, "seq": row.seq}
            ):
                return "out of order"  # two neighbours' contents swapped
            return "entry edited"
        if predecessor is None and self._genuine_with_other_seq(row):
            return "entry missing (deleted)"  # later entries were renumbered to close the gap
        return "entry edited"

    def _genuine_with_other_seq(self, row: Row[Any]) -> bool:
        values = dict(row._mapping)
        for seq in range(row.seq + 1, row.seq + 1 + _RENUMBER_WINDOW):
            values["seq"] = seq
            if entry_hash(self._key, row.prev_hash, values) == row.entry_hash:
                return True
        return False


# ------------------------------------------------------------------------------- the key


def load_chain_key(settings: Settings) -> bytes:
    """The chain key from ``<data_dir>/keys/chain.key``; a ConfigError if it is missing."""
    path = settings.keys_dir / "chain.key"
    try:
        key = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise ConfigError(
            f"the event log chain key {path} does not exist",
            hint="point --data-dir at the hub's data folder (the key is created on first start)",
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the chain key {path}: {exc.strerror}") from exc
    if len(key) != CHAIN_KEY_BYTES:
        raise ConfigError(
            f"the chain key {path} is {len(key)} bytes, expected {CHAIN_KEY_BYTES}",
            hint="restore it from backup; a new key cannot verify the existing log",
        )
    if mode & 0o077:
        raise ConfigError(
            f"the chain key {path} is readable by other users",
            hint=f"run: chmod 600 {path}",
        )
    return key


def load_or_create_chain_key(settings: Settings) -> bytes:
    """The chain key, created (32 random bytes, mode 0600) on first use."""
    path = settings.keys_dir / "chain.key"
    if path.exists():
        return load_chain_key(settings)
    try:
        settings.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = path.with_name(f".chain.key.{secrets.token_hex(8)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(CHAIN_KEY_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)  # atomic; loses cleanly to a concurrent creator
        finally:
            temp.unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the chain key in {settings.keys_dir}: {exc.strerror}",
            hint="make the data folder writable by the user running doorward",
        ) from exc
    return load_chain_key(settings)
