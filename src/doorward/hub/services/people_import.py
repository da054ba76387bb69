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

__all__ = ["ImportReport", "import_people", "read_csv_rows"]

REQUIRED_COLUMNS = ("name",)
KNOWN_COLUMNS = {"name", "unit", "role"}


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


def _validate(number: int, row: Mapping[str, str]) -> tuple[PersonCreate, str]:
    if "" in row:  # more cells than the header has
        raise CsvRowError(number, "has more cells than the header", hint="check commas/quotes")
    try:
        person = PersonCreate(name=row.get("name", ""), role=row.get("role") or "resident")  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field_name = ".".join(str(p) for p in first["loc"])
        raise CsvRowError(
            number, f"{field_name}: {first['msg']}",
            hint="name is required; role is resident, staff, guard or admin",
        ) from exc
    unit = row.get("unit", "")
    if len(unit) > 64:
        raise CsvRowError(number, "unit label is longer than 64 characters", hint="shorten it")
    if person.role == "resident" and not unit:
        raise CsvRowError(number, "a resident needs a unit", hint="fill in the unit column")
    return person, unit


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
