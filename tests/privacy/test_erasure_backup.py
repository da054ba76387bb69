"""Erasure crypto-shreds and survives a restore; backups are encrypted and fail clearly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from doorward.errors import ConfigError, InvalidInput
from doorward.hub.services.common import audit, subject_of
from doorward.privacy.backup import BackupKey, make_backup, read_backup, restore_backup
from doorward.privacy.erasure import ledger_for
from doorward.store.face_models import FaceConsentRow, FaceTemplateRow
from doorward.store.models import AuditEntry, CredentialRow, PersonRow, SubjectMapRow, UserRow

from .conftest import World, append_events, days_ago

CHEAP = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
PASSPHRASE = "correct horse battery staple"


def _key() -> BackupKey:
    return BackupKey.from_passphrase(PASSPHRASE, CHEAP)


def _ana_subject(world: World) -> str:
    with world.ctx.db.read() as session:
        subject = subject_of(session, world.resident_person_id)
    assert subject is not None
    return subject


def _give_ana_a_face(world: World, subject: str) -> None:
    with world.ctx.db.write() as session:
        session.add(FaceConsentRow(subject=subject, purpose="second factor",
                                   policy_version="dpia-1", retention_days=365,
                                   granted_at=days_ago(10), withdrawn_at=None))
        session.add(FaceTemplateRow(subject=subject, credential_id="cred-1",
                                    ciphertext=b"\x09" * 64, salt=b"s" * 16, nonce=b"n" * 12,
                                    created_at=days_ago(10), last_used_at=None))


def _erase_ana(world: World) -> None:
    response = world.client.delete(f"/api/v1/people/{world.resident_person_id}",
                                   headers=world.auth("admin"))
    assert response.status_code == 204, response.text


def _ana_is_gone(world: World, subject: str) -> None:
    with world.ctx.db.read() as session:
        assert session.get(PersonRow, world.resident_person_id) is None
        for table, column in ((SubjectMapRow, SubjectMapRow.person_id),
                              (UserRow, UserRow.person_id),
                              (CredentialRow, CredentialRow.person_id)):
            assert session.scalar(select(func.count()).select_from(table).where(
                column == world.resident_person_id)) == 0
        for face in (FaceConsentRow, FaceTemplateRow):
            assert session.scalar(select(func.count()).select_from(face).where(
                face.subject == subject)) == 0


def test_erasure_shreds_the_mapping_keeps_anonymous_events_and_the_log_verifies(
    world: World,
) -> None:
    subject = _ana_subject(world)
    _give_ana_a_face(world, subject)
    append_events(world, subject, 3, days_ago(1))
    _erase_ana(world)
    _ana_is_gone(world, subject)
    # The events remain, under a pseudonym that nothing can resolve any more.
    assert len(world.ctx.eventlog.events_for_subject(subject)) == 3
    assert world.ctx.eventlog.verify().ok
    resolve = world.client.post("/api/v1/people/resolve", headers=world.auth("admin"),
                                json={"subject": subject, "purpose": "incident 42 at main gate"})
    assert resolve.status_code == 404
    assert "Ana" not in resolve.text
    entries = ledger_for(world.ctx.settings).entries()
    assert [(e.person_id, e.subject) for e in entries] == [(world.resident_person_id, subject)]
    assert "Ana" not in ledger_for(world.ctx.settings).path.read_text()


def test_restoring_a_backup_taken_before_an_erasure_erases_again(world: World) -> None:
    ctx = world.ctx
    subject = _ana_subject(world)
    _give_ana_a_face(world, subject)
    append_events(world, subject, 2, days_ago(1))
    blob = make_backup(ctx.db, ctx.settings, _key())
    assert b"Ana Example" not in blob  # encrypted, not merely compressed
    _erase_ana(world)
    append_events(world, None, 1, days_ago(0))

    report = restore_backup(ctx.db, ctx.settings, blob, _key())
    assert report.erased_again == 1 and report.ledger_entries == 1
    _ana_is_gone(world, subject)
    assert ctx.eventlog.count() == 2  # the backup's events; the later one was not in it
    assert ctx.eventlog.verify().ok
    with ctx.db.read() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["erasure.replay", "backup.restore"]
    # New rows after a restore get fresh ids (PostgreSQL's sequences moved past the backup's).
    with ctx.db.write() as session:
        audit(session, actor="test", action="after.restore")


def test_restore_into_a_fresh_data_folder_with_only_the_backup(
    world: World, tmp_path: Path
) -> None:
    """The ledger travels inside later backups, so an empty data folder still erases."""
    ctx = world.ctx
    subject = _ana_subject(world)
    before = make_backup(ctx.db, ctx.settings, _key())
    _erase_ana(world)
    after = make_backup(ctx.db, ctx.settings, _key())
    ledger_for(ctx.settings).path.unlink()  # the data folder is lost
    restore_backup(ctx.db, ctx.settings, after, _key())
    assert len(ledger_for(ctx.settings).entries()) == 1
    restore_backup(ctx.db, ctx.settings, before, _key())
    _ana_is_gone(world, subject)


def test_wrong_passphrase_damaged_file_and_wrong_kind_of_key_are_clear_errors(
    world: World,
) -> None:
    ctx = world.ctx
    blob = make_backup(ctx.db, ctx.settings, _key())
    with pytest.raises(InvalidInput, match="key or passphrase is wrong"):
        read_backup(blob, ctx.settings, BackupKey.from_passphrase("not the passphrase!", CHEAP))
    flipped = bytearray(blob)
    flipped[-40] ^= 0x01
    with pytest.raises(InvalidInput, match="key or passphrase is wrong, or the file was changed"):
        read_backup(bytes(flipped), ctx.settings, _key())
    for damaged in (blob[:30], b"not a backup at all", blob[:len(blob) // 2]):
        with pytest.raises(InvalidInput):
            read_backup(damaged, ctx.settings, _key())
    with pytest.raises(InvalidInput, match="passphrase"):
        read_backup(blob, ctx.settings, BackupKey())
    keyfile_blob = make_backup(ctx.db, ctx.settings, BackupKey())
    assert read_backup(keyfile_blob, ctx.settings, BackupKey())["tables"]["people"]["rows"]
    with pytest.raises(InvalidInput, match="key file"):
        read_backup(keyfile_blob, ctx.settings, _key())
    with pytest.raises(InvalidInput, match="12 characters"):
        BackupKey.from_passphrase("short")


def test_restore_refuses_to_overwrite_different_keys(world: World) -> None:
    ctx = world.ctx
    blob = make_backup(ctx.db, ctx.settings, _key())
    (ctx.settings.keys_dir / "pseudonym.key").write_bytes(b"\x00" * 32)
    with pytest.raises(ConfigError, match="differs from the one in the backup"):
        restore_backup(ctx.db, ctx.settings, blob, _key())
    report = restore_backup(ctx.db, ctx.settings, blob, _key(), replace_keys=True)
    assert report.keys_written == ["pseudonym.key"]
    assert (ctx.settings.keys_dir / "pseudonym.key").read_bytes() == ctx.pseudonym_key


def _doorward(*args: str) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).with_name("doorward")
    return subprocess.run([str(command), *args], capture_output=True, text=True, timeout=120,
                          check=False)


def test_cli_backup_and_restore_on_sqlite(world: World, tmp_path: Path) -> None:
    ctx = world.ctx
    if not ctx.db.is_sqlite:
        pytest.skip("the CLI round trip runs on the data folder's SQLite file")
    data = ["--data-dir", str(ctx.settings.data_dir), "--database-url", ctx.db.url]
    phrase = tmp_path / "phrase.txt"
    phrase.write_text(PASSPHRASE + "\n")
    out = tmp_path / "doorward.backup"
    made = _doorward("backup", str(out), "--passphrase-file", str(phrase), *data)
    assert made.returncode == 0, made.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    _erase_ana(world)
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("a different passphrase\n")
    refused = _doorward("restore", str(out), "--passphrase-file", str(wrong), "--yes", *data)
    assert refused.returncode == 2
    assert "key or passphrase is wrong" in refused.stderr and "Traceback" not in refused.stderr
    done = _doorward("restore", str(out), "--passphrase-file", str(phrase), "--yes", *data)
    assert done.returncode == 0, done.stderr
    assert "1 people erased again" in done.stdout
    with ctx.db.read() as session:
        assert session.get(PersonRow, world.resident_person_id) is None


def test_a_header_asking_for_an_absurd_kdf_cost_is_refused_before_deriving(
    world: World,
) -> None:
    import json

    from doorward.privacy.backup import MAGIC

    blob = make_backup(world.ctx.db, world.ctx.settings, _key())
    size = int.from_bytes(blob[len(MAGIC):len(MAGIC) + 4], "big")
    header = json.loads(blob[len(MAGIC) + 4:len(MAGIC) + 4 + size])
    for cost in ({"memory_cost": 1 << 30}, {"time_cost": 10_000}, {"parallelism": 0}):
        header["kdf_cost"] = {**CHEAP, **cost}
        raw = json.dumps(header).encode()
        forged = MAGIC + len(raw).to_bytes(4, "big") + raw + blob[len(MAGIC) + 4 + size:]
        with pytest.raises(InvalidInput, match="key-derivation"):
            read_backup(forged, world.ctx.settings, _key())


def test_an_unwritable_ledger_refuses_the_erasure(world: World) -> None:
    from doorward.privacy.erasure import ErasureLedger

    ledger = ErasureLedger(Path("/proc/doorward-cannot-write-here/erasure-ledger.jsonl"))
    with pytest.raises(ConfigError, match="cannot write the erasure ledger"):
        ledger.record("per_1", "a" * 32)
