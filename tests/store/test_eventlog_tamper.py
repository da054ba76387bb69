"""EventLog.verify catches every kind of tampering done with raw SQL, on SQLite and PostgreSQL.

Each case builds the same log (site s1: 10 entries, site s2: 3), tampers with s1 through the
database directly, as someone with database access but without the chain key would, and checks
that verify names the site, the first bad seq and what happened.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Connection, text

from doorward.errors import LogTampered
from doorward.store.db import Database
from doorward.store.eventlog import EventLog

from .factories import make_event

ENTRIES = "eventlog_entries"
COPY_COLUMNS = (
    "kind, gate_id, occurred_at, edge_seq, outcome, reason, credential_kind, subject, pass_id, "
    "alarm, detail, received_at"
)


def _renumber(conn: Connection, from_seq: int, shift: int) -> None:
    """Shift s1's seqs >= from_seq by ``shift``, in two steps so the primary key never clashes."""
    conn.execute(
        text(f"UPDATE {ENTRIES} SET seq = -seq WHERE site_id = 's1' AND seq >= :s"),
        {"s": from_seq},
    )
    conn.execute(
        text(f"UPDATE {ENTRIES} SET seq = -seq + :shift WHERE site_id = 's1' AND seq < 0"),
        {"shift": shift},
    )


def _swap_seq(conn: Connection, a: int, b: int) -> None:
    for old, new in ((a, -1), (b, a), (-1, b)):
        conn.execute(
            text(f"UPDATE {ENTRIES} SET seq = :new WHERE site_id = 's1' AND seq = :old"),
            {"new": new, "old": old},
        )


def _forge(conn: Connection, seq: int, prev_hash_from_seq: int) -> None:
    """Insert a made-up entry at ``seq``, linked to a real entry's hash, with a guessed MAC."""
    conn.execute(
        text(
            f"INSERT INTO {ENTRIES} (site_id, seq, event_id, {COPY_COLUMNS}, prev_hash, "
            f"entry_hash) SELECT site_id, :seq, 'forged-entry-0001', {COPY_COLUMNS}, "
            f"entry_hash, :fake FROM {ENTRIES} WHERE site_id = 's1' AND seq = :src"
        ),
        {"seq": seq, "src": prev_hash_from_seq, "fake": "ab" * 32},
    )


def edit_a_field(conn: Connection) -> None:
    conn.execute(text(f"UPDATE {ENTRIES} SET outcome = 'granted' WHERE site_id='s1' AND seq=4"))


def edit_a_timestamp(conn: Connection) -> None:
    conn.execute(
        text(f"UPDATE {ENTRIES} SET occurred_at = received_at WHERE site_id='s1' AND seq=6")
    )


def edit_a_hash_too(conn: Connection) -> None:
    conn.execute(
        text(
            f"UPDATE {ENTRIES} SET outcome = 'granted', entry_hash = :h WHERE site_id='s1' "
            "AND seq=4"
        ),
        {"h": "cd" * 32},
    )


def delete_a_row(conn: Connection) -> None:
    conn.execute(text(f"DELETE FROM {ENTRIES} WHERE site_id = 's1' AND seq = 4"))


def delete_a_row_and_renumber(conn: Connection) -> None:
    delete_a_row(conn)
    _renumber(conn, 5, -1)


def delete_the_first_row(conn: Connection) -> None:
    conn.execute(text(f"DELETE FROM {ENTRIES} WHERE site_id = 's1' AND seq = 1"))


def delete_the_last_row(conn: Connection) -> None:
    conn.execute(text(f"DELETE FROM {ENTRIES} WHERE site_id = 's1' AND seq = 10"))


def insert_a_forged_row_at_the_end(conn: Connection) -> None:
    _forge(conn, 11, prev_hash_from_seq=10)


def insert_a_forged_row_in_the_middle(conn: Connection) -> None:
    _renumber(conn, 5, +1)
    _forge(conn, 5, prev_hash_from_seq=4)


def swap_two_neighbours(conn: Connection) -> None:
    _swap_seq(conn, 4, 5)


def swap_two_distant_rows(conn: Connection) -> None:
    _swap_seq(conn, 3, 8)


def swap_two_rows_content_but_not_hashes(conn: Connection) -> None:
    """Rows 4 and 5 trade every event field, while each keeps its seq and its hashes."""
    hashes = {
        seq: conn.execute(
            text(f"SELECT prev_hash, entry_hash FROM {ENTRIES} WHERE site_id='s1' AND seq=:s"),
            {"s": seq},
        ).one()
        for seq in (4, 5)
    }
    _swap_seq(conn, 4, 5)
    for seq in (4, 5):
        conn.execute(
            text(f"UPDATE {ENTRIES} SET prev_hash=:p, entry_hash=:e WHERE site_id='s1' AND seq=:s"),
            {"p": hashes[seq][0], "e": hashes[seq][1], "s": seq},
        )


Tamper = Callable[[Connection], None]
CASES: list[tuple[Tamper, int, str]] = [
    (edit_a_field, 4, "entry edited"),
    (edit_a_timestamp, 6, "entry edited"),
    (edit_a_hash_too, 4, "entry edited"),
    (delete_a_row, 4, "entry missing (deleted)"),
    (delete_a_row_and_renumber, 4, "entry missing (deleted)"),
    (delete_the_first_row, 1, "entry missing (deleted)"),
    (delete_the_last_row, 10, "entry missing (deleted)"),
    (insert_a_forged_row_at_the_end, 11, "entry inserted"),
    (insert_a_forged_row_in_the_middle, 5, "entry inserted"),
    (swap_two_neighbours, 4, "out of order"),
    (swap_two_distant_rows, 3, "out of order"),
    (swap_two_rows_content_but_not_hashes, 4, "out of order"),
]


@pytest.fixture
def filled(log: EventLog) -> EventLog:
    outcomes = ["granted", "granted", "granted", "denied"] + ["granted"] * 6
    log.append([make_event(i, outcome=o) for i, o in enumerate(outcomes)])
    log.append([make_event(i, site="s2") for i in range(3)])
    report = log.verify()
    assert report.ok and report.checked == 13
    return log


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "problem"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_verify_names_the_first_bad_entry(
    db: Database, filled: EventLog, tamper: Tamper, bad_seq: int, problem: str
) -> None:
    with db.engine.begin() as conn:
        tamper(conn)
    report = filled.verify()
    assert (report.ok, report.site_id, report.seq, report.problem) == (
        False,
        "s1",
        bad_seq,
        problem,
    )
    assert report.checked == bad_seq - 1  # s1 comes first; the entries before it verified
    assert filled.verify("s2").ok  # the other site's chain is untouched
    with pytest.raises(LogTampered, match=f"seq {bad_seq}"):
        report.raise_if_tampered()


def test_rolling_back_the_chain_head_is_caught(db: Database, filled: EventLog) -> None:
    """Deleting the last entry and moving the head back needs the key to re-sign the head."""
    with db.engine.begin() as conn:
        ninth = conn.execute(
            text(f"SELECT entry_hash FROM {ENTRIES} WHERE site_id='s1' AND seq=9")
        ).scalar_one()
        delete_the_last_row(conn)
        conn.execute(
            text("UPDATE chain_heads SET last_seq = 9, last_hash = :h WHERE site_id = 's1'"),
            {"h": ninth},
        )
    report = filled.verify("s1")
    assert (report.ok, report.seq, report.problem) == (False, 9, "chain head edited")


def test_deleting_a_whole_site_chain_is_caught(db: Database, filled: EventLog) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {ENTRIES} WHERE site_id = 's2'"))
    report = filled.verify()
    assert (report.ok, report.site_id, report.seq, report.problem) == (
        False,
        "s2",
        1,
        "entry missing (deleted)",
    )


def test_a_different_key_does_not_verify(db: Database, filled: EventLog) -> None:
    report = EventLog(db, b"another key of thirty-two bytes!").verify()
    assert (report.ok, report.seq, report.problem) == (False, 1, "entry edited")
