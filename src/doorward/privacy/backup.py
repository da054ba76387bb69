"""Encrypted backups: a logical dump of every table (SQLite or PostgreSQL) plus the keys.

File layout::

    MAGIC | u32 header length | header JSON | AES-256-GCM(zlib(payload JSON))

The header (format, KDF and its parameters, nonce) is the AEAD's associated data, so it
cannot be altered either. The key is either the data folder's ``keys/backup.key`` (created on
first use, mode 0600) or derived from a passphrase with Argon2id; a wrong key and a damaged
file both fail the AEAD tag and are reported as such, never as a traceback.

The payload holds every table of ``Base.metadata`` row by row (so a backup restores across
SQLite and PostgreSQL), the hub's key files except the backup key, and a copy of the erasure
ledger. Restoring replaces the database's rows, writes key files that are missing, merges the
ledgers and replays every erasure in them (:mod:`doorward.privacy.erasure`).
No image exists anywhere to back up.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import zlib
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import DateTime, LargeBinary, Table, delete, insert, select, text

from doorward.errors import ConfigError, InvalidInput
from doorward.hub.services.common import audit
from doorward.hub.services.keystore import _load_or_create
from doorward.privacy.erasure import LedgerEntry, ledger_for, replay_erasures
from doorward.settings import Settings
from doorward.store.base import Base
from doorward.store.db import Database
from doorward.store.models import utcnow

__all__ = [
    "BACKUP_KEY_FILE",
    "MAGIC",
    "BackupKey",
    "RestoreReport",
    "make_backup",
    "read_backup",
    "restore_backup",
    "write_backup",
]

MAGIC = b"DOORWARD-BACKUP\x00v1\n"
BACKUP_KEY_FILE = "backup.key"
FORMAT = 1
#: Argon2id cost for passphrases: about a third of a second and 64 MiB on a small server.
DEFAULT_KDF_COST = {"time_cost": 3, "memory_cost": 65536, "parallelism": 1}
_MAX_KDF = {"time_cost": 20, "memory_cost": 1 << 20, "parallelism": 16}
_MAX_HEADER = 4096


@dataclass(frozen=True)
class BackupKey:
    """Either the data folder's key file, or a passphrase (with an Argon2id cost)."""

    passphrase: str | None = None
    kdf_cost: dict[str, int] | None = None

    @classmethod
    def from_passphrase(cls, passphrase: str, kdf_cost: dict[str, int] | None = None
                        ) -> BackupKey:
        if len(passphrase) < 12:
            raise InvalidInput("the backup passphrase is shorter than 12 characters",
                               hint="use a long passphrase; it is the only way into the backup")
        return cls(passphrase, kdf_cost)


def _key_file(settings: Settings) -> bytes:
    return _load_or_create(settings.keys_dir / BACKUP_KEY_FILE, secrets.token_bytes(32))


def _derive(settings: Settings, key: BackupKey, header: dict[str, Any]) -> bytes:
    if header["kdf"] == "keyfile":
        if key.passphrase is not None:
            raise InvalidInput("this backup was encrypted with a data folder's key file, "
                               "not a passphrase",
                               hint="restore it without --passphrase-file, with --data-dir "
                               "pointing at the folder whose keys/backup.key made it")
        path = settings.keys_dir / BACKUP_KEY_FILE
        if not path.exists():
            raise ConfigError(f"there is no backup key at {path}",
                              hint="copy keys/backup.key from the hub that made the backup")
        return _key_file(settings)
    if key.passphrase is None:
        raise InvalidInput("this backup is protected by a passphrase",
                           hint="pass --passphrase-file with a file holding the passphrase")
    cost = {name: int(header["kdf_cost"][name]) for name in DEFAULT_KDF_COST}
    # The header is authenticated only after the key is derived: bound what it may ask for.
    if not (1 <= cost["time_cost"] <= _MAX_KDF["time_cost"]
            and 8 * cost["parallelism"] <= cost["memory_cost"] <= _MAX_KDF["memory_cost"]
            and 1 <= cost["parallelism"] <= _MAX_KDF["parallelism"]):
        raise InvalidInput("the backup asks for an unreasonable key-derivation cost",
                           hint="the file is damaged or was not made by Doorward")
    try:
        return hash_secret_raw(
            key.passphrase.encode("utf-8"), base64.b64decode(header["salt"]),
            time_cost=cost["time_cost"], memory_cost=cost["memory_cost"],
            parallelism=cost["parallelism"], hash_len=32, type=Type.ID,
        )
    except HashingError as exc:
        raise InvalidInput("the backup's key-derivation parameters are invalid",
                           hint="the file is damaged or was not made by Doorward") from exc


# --------------------------------------------------------------------------- table rows

def _kind(column: Any) -> str:
    kind = getattr(column.type, "impl", column.type)
    if isinstance(kind, LargeBinary):
        return "bytes"
    if isinstance(kind, DateTime):
        return "datetime"
    return "plain"


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _decode(kind: str, value: Any) -> Any:
    if value is None or kind == "plain":
        return value
    if kind == "bytes":
        return base64.b64decode(value)
    return datetime.fromisoformat(value)


def _dump_tables(db: Database) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    with db.read() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c.name for c in table.columns]
            rows = session.execute(select(*table.columns)).all()
            tables[table.name] = {"columns": columns,
                                  "rows": [[_encode(v) for v in row] for row in rows]}
    return tables


def _load_tables(db: Database, tables: dict[str, Any]) -> dict[str, int]:
    known = {t.name: t for t in Base.metadata.sorted_tables}
    unknown = sorted(set(tables) - set(known))
    if unknown:
        raise InvalidInput(f"the backup has tables this version does not know: {unknown}",
                           hint="restore it with the Doorward version that made it")
    counts: dict[str, int] = {}
    with db.write() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
        for table in Base.metadata.sorted_tables:
            data = tables.get(table.name, {"columns": [], "rows": []})
            strange = sorted(set(data["columns"]) - set(table.c.keys()))
            if strange:
                raise InvalidInput(f"the backup's table {table.name} has columns this version "
                                   f"does not know: {strange}",
                                   hint="restore it with the Doorward version that made it")
            kinds = [_kind(table.c[name]) for name in data["columns"]]
            rows = [{name: _decode(k, v) for name, k, v in zip(data["columns"], kinds, row,
                                                                strict=True)}
                    for row in data["rows"]]
            if rows:
                session.execute(insert(table), rows)
            counts[table.name] = len(rows)
        if not db.is_sqlite:
            for table in Base.metadata.sorted_tables:
                _reset_sequence(session, table)
    return counts


def _reset_sequence(session: Any, table: Table) -> None:
    """After explicit ids were inserted, PostgreSQL's serial counters must move past them."""
    column = table.autoincrement_column
    if column is None:
        return
    session.execute(text(
        f'SELECT setval(pg_get_serial_sequence(:t, :c), COALESCE(MAX("{column.name}"), 0) + 1, '
        f'false) FROM "{table.name}"'), {"t": table.name, "c": column.name})


# ------------------------------------------------------------------------------ files

def make_backup(db: Database, settings: Settings, key: BackupKey, *,
                include_keys: bool = True) -> bytes:
    """The encrypted backup of ``db`` (and the data folder's keys and ledger) as bytes."""
    keys: dict[str, str] = {}
    if include_keys and settings.keys_dir.is_dir():
        for path in sorted(settings.keys_dir.iterdir()):
            if path.is_file() and path.name != BACKUP_KEY_FILE:
                keys[path.name] = base64.b64encode(path.read_bytes()).decode("ascii")
    payload = {
        "format": FORMAT, "created_at": utcnow().isoformat(), "site_id": settings.site_id,
        "tables": _dump_tables(db), "keys": keys,
        "erasure_ledger": [asdict(e) for e in ledger_for(settings).entries()],
    }
    header: dict[str, Any] = {"format": FORMAT, "nonce": base64.b64encode(
        secrets.token_bytes(12)).decode("ascii")}
    if key.passphrase is None:
        header["kdf"] = "keyfile"
    else:
        header.update(kdf="argon2id", salt=base64.b64encode(secrets.token_bytes(16)).decode(),
                      kdf_cost=key.kdf_cost or DEFAULT_KDF_COST)
    header_bytes = json.dumps(header, sort_keys=True).encode("utf-8")
    secret = _key_file(settings) if key.passphrase is None else _derive(settings, key, header)
    plain = zlib.compress(json.dumps(payload, separators=(",", ":")).encode("utf-8"), 6)
    sealed = AESGCM(secret).encrypt(base64.b64decode(header["nonce"]), plain,
                                    MAGIC + header_bytes)
    return MAGIC + len(header_bytes).to_bytes(4, "big") + header_bytes + sealed


def read_backup(blob: bytes, settings: Settings, key: BackupKey) -> dict[str, Any]:
    """Decrypt and parse a backup; InvalidInput for a wrong key or a damaged file."""
    damaged = InvalidInput("the file is not a Doorward backup, or it is damaged",
                           hint="check the path; take a new backup if this one was cut short")
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 4:
        raise damaged
    size = int.from_bytes(blob[len(MAGIC):len(MAGIC) + 4], "big")
    start = len(MAGIC) + 4
    if not 0 < size <= _MAX_HEADER or len(blob) < start + size + 16:
        raise damaged
    header_bytes = blob[start:start + size]
    try:
        header = json.loads(header_bytes)
        if header.get("format") != FORMAT or header.get("kdf") not in {"keyfile", "argon2id"}:
            raise damaged
        nonce = base64.b64decode(header["nonce"], validate=True)
        secret = _derive(settings, key, header)
    except (ValueError, KeyError, TypeError) as exc:
        raise damaged from exc
    try:
        plain = AESGCM(secret).decrypt(nonce, blob[start + size:], MAGIC + header_bytes)
    except InvalidTag as exc:
        raise InvalidInput(
            "the backup cannot be decrypted: the key or passphrase is wrong, or the file "
            "was changed",
            hint="use the passphrase (or the data folder's keys/backup.key) that made it",
        ) from exc
    except ValueError as exc:
        raise damaged from exc
    try:
        payload: dict[str, Any] = json.loads(zlib.decompress(plain))
    except (ValueError, zlib.error) as exc:
        raise damaged from exc
    return payload


def write_backup(path: Path, blob: bytes) -> None:
    """Write atomically with mode 0600 (the file holds personal data, encrypted)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(blob)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


@dataclass(frozen=True)
class RestoreReport:
    rows: dict[str, int]
    keys_written: list[str]
    ledger_entries: int
    erased_again: int


def _restore_keys(settings: Settings, keys: dict[str, str], replace_keys: bool) -> list[str]:
    written: list[str] = []
    wanted = {name: base64.b64decode(value) for name, value in keys.items()}
    for name, value in wanted.items():
        path = settings.keys_dir / name
        if path.exists() and path.read_bytes() != value and not replace_keys:
            raise ConfigError(
                f"the key file {path} differs from the one in the backup",
                hint="restore into the data folder the backup came from, or pass "
                "--replace-keys to use the backup's keys (tokens issued since will stop working)",
            )
    for name, value in wanted.items():
        path = settings.keys_dir / name
        if path.exists() and path.read_bytes() == value:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(value)
        written.append(name)
    return written


def restore_backup(db: Database, settings: Settings, blob: bytes, key: BackupKey, *,
                   replace_keys: bool = False, actor: str = "restore") -> RestoreReport:
    """Replace ``db``'s rows with the backup's, then replay every erasure ever recorded.

    ``db`` must be migrated. Keys missing from the data folder are written from the backup.
    """
    payload = read_backup(blob, settings, key)
    keys_written = _restore_keys(settings, payload.get("keys", {}), replace_keys)
    rows = _load_tables(db, payload["tables"])
    archived = [LedgerEntry(str(e["person_id"]), e.get("subject"), str(e["erased_at"]))
                for e in payload.get("erasure_ledger", [])]
    entries = ledger_for(settings).merge(archived)
    erased_again = replay_erasures(db, settings.site_id, entries, actor=actor)
    with db.write() as session:
        audit(session, actor=actor, action="backup.restore", purpose="restore",
              detail=f"backup_created_at={payload.get('created_at', '?')}")
    return RestoreReport(rows, keys_written, len(entries), erased_again)
