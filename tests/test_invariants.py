"""Lines we never cross, checked across the whole code base and schema.

Each test here fails if a change crosses one of the lines in README.md. Face-specific guards
(attribute libraries, 1:N search, images on disk) live in tests/face/.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import inspect

from doorward.domain.model import Outcome, Role
from doorward.store.db import Database
from doorward.transport.messages import EventMessage

SRC = Path(__file__).resolve().parents[1] / "src" / "doorward"

#: Attributes Doorward must never infer or store about a person.
FORBIDDEN_ATTRIBUTES = (
    "ethnicity", "race", "religion", "origin", "age", "gender", "sex", "emotion", "mood",
    "nationality", "skin",
)
#: Categories of people Doorward must never keep.
FORBIDDEN_CATEGORIES = ("watchlist", "person_of_interest", "persons_of_interest", "blacklist",
                        "blocklist", "suspect", "banned_person", "flagged_person")


def _source_files() -> list[Path]:
    return [p for p in SRC.rglob("*") if p.suffix in {".py", ".html", ".js", ".sql"}]


def test_only_the_known_categories_of_people_exist() -> None:
    assert {r.value for r in Role} == {"resident", "staff", "guard", "admin", "visitor"}


def test_denials_are_about_credentials_never_about_people() -> None:
    for outcome in Outcome:
        assert not any(c in outcome.value for c in FORBIDDEN_CATEGORIES), outcome


def test_no_watchlist_or_person_of_interest_anywhere_in_the_source() -> None:
    pattern = re.compile("|".join(FORBIDDEN_CATEGORIES), re.IGNORECASE)
    hits = [
        f"{p.relative_to(SRC)}:{n}"
        for p in _source_files()
        for n, line in enumerate(p.read_text(errors="ignore").splitlines(), 1)
        if pattern.search(line)
    ]
    assert hits == []


def test_events_on_the_wire_have_no_field_for_a_name_or_an_image() -> None:
    fields = set(EventMessage.model_fields)
    personal = {"name", "first_name", "last_name", "full_name", "email", "phone", "photo",
                "image", "face", "unit", "address"}
    assert fields & personal == set()
    assert "subject" in fields  # the pseudonym, and nothing else, identifies a person


def test_no_table_can_hold_an_inferred_attribute_a_watchlist_or_an_image(db: Database) -> None:
    inspector = inspect(db.engine)
    offenders = []
    for table in inspector.get_table_names():
        lowered_table = table.lower()
        if any(c in lowered_table for c in FORBIDDEN_CATEGORIES):
            offenders.append(table)
        for column in inspector.get_columns(table):
            name = column["name"].lower()
            words = set(re.split(r"[^a-z]+", name))
            if words & set(FORBIDDEN_ATTRIBUTES) or any(c in name for c in FORBIDDEN_CATEGORIES):
                offenders.append(f"{table}.{column['name']}")
            if any(w in words for w in ("image", "photo", "picture", "jpeg", "png", "frame")):
                offenders.append(f"{table}.{column['name']}")
    assert offenders == []
