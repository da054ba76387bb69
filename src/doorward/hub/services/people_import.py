"""Importing people and units from CSV rows: every bad row is reported with its number, and
either the good rows are imported or (all-or-nothing) none are.

Columns: ``name`` (required), ``unit`` (unit label; created when new), ``role`` (resident,
staff, guard or admin; default resident). Row numbers count the header as row 1.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select

from doorward.errors import CsvRowError, InvalidInput
from doorward.hub.schemas import PersonCreate
from doorward.hub.services.common import audit, ensure_site, new_id
from doorward.hub.services.context import HubContext
from doorward.hub.services.people import add_person
from doorward.store.models import UnitRow
from doorward.validation import reject_control_characters

__all__ = ["ROLES", "ImportReport", "ParsedRow", "import_people", "read_csv_rows", "validate_row"]

ROLES = ("resident", "staff", "guard", "admin")
REQUIRED_COLUMNS = ("name",)
KNOWN_COLUMNS = {"name", "unit", "role"}


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int  # 1-based line number in the file, header = 1
    name: str
    unit: str
    role: str


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    units_created: int = 0
    errors: list[CsvRowError] = field(default_factory=list)


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """The CSV's rows as dicts; InvalidInput for a missing file, bad encoding or header."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise InvalidInput(
                    f"{path} has no {', '.join(missing)} column",
                    hint="the first line must be a header such as: name,unit,role",
                )
            unknown = sorted(set(header) - KNOWN_COLUMNS)
            if unknown:
                raise InvalidInput(
                    f"{path} has unknown columns: {', '.join(unknown)}",
                    hint="use only the columns name, unit and role",
                )
            # Extra cells land under the key None as a list; keep them visible as "".
            return [
                {(k or "").strip().lower(): _cell(v) for k, v in row.items()} for row in reader
            ]
    except FileNotFoundError as exc:
        raise InvalidInput(f"{path} does not exist", hint="check the file name") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text", hint="save the CSV as UTF-8") from exc
    except csv.Error as exc:
        raise InvalidInput(f"{path} is not valid CSV: {exc}", hint="check quoting") from exc


def _cell(value: object) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value).strip()
    return str(value or "").strip()


def validate_row(number: int, row: Mapping[str, object]) -> ParsedRow:
    """One CSV row checked the same way for the CLI and the admin page; CsvRowError if bad.

    ``row`` is a csv.DictReader record: cells beyond the header arrive under the key None.
    """
    cells = {(k or "").strip().lower(): _cell(v) for k, v in row.items()}
    if "" in cells:
        raise CsvRowError(number, "has more cells than the header", hint="check commas/quotes")
    name, unit = cells.get("name", ""), cells.get("unit", "")
    role = (cells.get("role") or "resident").lower()
    for label, value in (("name", name), ("unit", unit), ("role", role)):
        try:
            reject_control_characters(value)
        except ValueError as exc:
            raise CsvRowError(number, f"the {label} contains a control character",
                              hint="remove it and save the file again") from exc
    if not name:
        raise CsvRowError(number, "the name is empty", hint="fill in the name column")
    if len(name) > 200:
        raise CsvRowError(number, "the name is longer than 200 characters", hint="shorten it")
    if role not in ROLES:
        raise CsvRowError(number, f"unknown role {role!r}", hint=f"use one of {', '.join(ROLES)}")
    if role == "resident" and not unit:
        raise CsvRowError(number, "a resident needs a unit", hint="fill in the unit column")
    if len(unit) > 64:
        raise CsvRowError(number, "the unit label is longer than 64 characters", hint="shorten it")
    return ParsedRow(number, name, unit, role)


def _validate(number: int, row: Mapping[str, str]) -> tuple[PersonCreate, str]:
    parsed = validate_row(number, row)
    try:
        person = PersonCreate(name=parsed.name, role=parsed.role)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise CsvRowError(number, exc.errors()[0]["msg"]) from exc
    return person, parsed.unit


def import_people(
    ctx: HubContext,
    rows: Iterable[Mapping[str, str]],
    *,
    all_or_nothing: bool = False,
    actor: str = "cli",
    on_row: Callable[[], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    valid: list[tuple[PersonCreate, str]] = []
    for number, row in enumerate(rows, start=2):
        report.rows += 1
        try:
            valid.append(_validate(number, row))
        except CsvRowError as exc:
            report.errors.append(exc)
    if report.errors and all_or_nothing:
        return report
    with ctx.db.write() as session:
        ensure_site(session, ctx.site_id)
        units = {
            u.label: u.id
            for u in session.scalars(select(UnitRow).where(UnitRow.site_id == ctx.site_id))
        }
        for person, label in valid:
            if label and label not in units:
                units[label] = new_id("unit")
                session.add(UnitRow(id=units[label], site_id=ctx.site_id, label=label))
                session.flush()
                report.units_created += 1
            add_person(session, ctx, person.model_copy(update={"unit_id": units.get(label)}))
            report.imported += 1
            if on_row is not None:
                on_row()
        audit(session, actor=actor, action="people.import",
              detail=f"{report.imported} people, {report.units_created} new units")
    return report
