"""CSV import of people and units from the admin area, with progress and per-row errors.

The file has a header row with ``name``, ``unit`` and optionally ``role`` (resident, staff,
guard or admin; default resident). Two modes: import the good rows and report the bad ones,
or all or nothing (one bad row and nothing is written). The import runs in a background
thread so the page can show its progress; jobs live in memory and only hold counts and
error messages, never the file.
"""

from __future__ import annotations

import csv
import io
import secrets
import threading
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorward.errors import CsvRowError, DoorwardError, InvalidInput, NotFound
from doorward.hub.schemas import PersonCreate
from doorward.hub.services.common import audit, ensure_site, new_id
from doorward.hub.services.context import HubContext
from doorward.hub.services.people import add_person
from doorward.hub.services.people_import import ParsedRow, validate_row
from doorward.store.models import UnitRow

__all__ = ["ImportJob", "ImportJobs", "ParsedRow", "parse_csv"]

MAX_ROWS = 5000
MAX_BYTES = 2_000_000


@dataclass
class ImportJob:
    id: str
    total: int
    all_or_nothing: bool
    done: int = 0
    imported: int = 0
    errors: list[str] = field(default_factory=list)
    state: str = "running"  # running | finished | rolled back | failed

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else round(100 * self.done / self.total)


def parse_csv(raw: bytes) -> tuple[list[ParsedRow], list[str]]:
    """Rows that look right, and an error message for every row that does not."""
    if len(raw) > MAX_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_BYTES // 1_000_000} MB",
                           hint="split it into smaller files")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the file is not UTF-8 text", hint="save it as CSV UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "name" not in header or "unit" not in header:
        raise InvalidInput("the CSV header must name the columns `name` and `unit`",
                           hint="first line like: name,unit,role")
    reader.fieldnames = header
    rows: list[ParsedRow] = []
    errors: list[str] = []
    number = 1
    while True:
        number += 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a line break inside an unquoted cell: stop there
            errors.append(str(CsvRowError(number, f"is not valid CSV: {exc}",
                                          hint="quote cells that contain line breaks")))
            break
        if number - 1 > MAX_ROWS:
            raise InvalidInput(f"the file has more than {MAX_ROWS} rows", hint="split it")
        try:
            rows.append(validate_row(number, record))
        except CsvRowError as exc:
            errors.append(str(exc))
    return rows, errors


def _unit_id(session: Session, hub: HubContext, label: str, created: dict[str, str]) -> str | None:
    if not label:
        return None
    if label in created:
        return created[label]
    found = session.scalar(
        select(UnitRow.id).where(UnitRow.site_id == hub.site_id, UnitRow.label == label)
    )
    if found is None:
        found = new_id("unit")
        session.add(UnitRow(id=found, site_id=hub.site_id, label=label))
        session.flush()
    created[label] = found
    return found


def _insert(session: Session, hub: HubContext, row: ParsedRow, units: dict[str, str]) -> None:
    try:
        data = PersonCreate(name=row.name, role=row.role, unit_id=None)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise CsvRowError(row.row, exc.errors()[0]["msg"]) from exc
    data = data.model_copy(update={"unit_id": _unit_id(session, hub, row.unit, units)})
    add_person(session, hub, data)


class ImportJobs:
    """The running and finished imports of one hub process."""

    def __init__(self) -> None:
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> ImportJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound("that import is not known", hint="imports are kept until a restart")
        return job

    def start(self, hub: HubContext, actor: str, raw: bytes, *, all_or_nothing: bool
              ) -> ImportJob:
        rows, errors = parse_csv(raw)
        job = ImportJob(id=secrets.token_hex(8), total=len(rows) + len(errors),
                        all_or_nothing=all_or_nothing, done=len(errors), errors=list(errors))
        with self._lock:
            self._jobs[job.id] = job
        worker = threading.Thread(target=self._run, args=(hub, actor, job, rows), daemon=True,
                                  name=f"csv-import-{job.id}")
        worker.start()
        return job

    def _run(self, hub: HubContext, actor: str, job: ImportJob, rows: list[ParsedRow]) -> None:
        try:
            if job.all_or_nothing:
                self._all_or_nothing(hub, job, rows)
            else:
                self._good_rows(hub, job, rows)
            with hub.db.write() as session:
                audit(session, actor=actor, action="people.import",
                      detail=f"{job.imported} imported, {len(job.errors)} rejected, {job.state}")
        except DoorwardError as exc:
            job.errors.append(f"the import stopped: {exc.message}")
            job.state = "failed"

    @staticmethod
    def _good_rows(hub: HubContext, job: ImportJob, rows: list[ParsedRow]) -> None:
        units: dict[str, str] = {}
        for row in rows:
            try:
                with hub.db.write() as session:
                    ensure_site(session, hub.site_id)
                    _insert(session, hub, row, units)
                job.imported += 1
            except DoorwardError as exc:
                units.clear()  # a rolled-back row may have created a unit that is gone now
                job.errors.append(str(exc) if isinstance(exc, CsvRowError)
                                  else f"row {row.row}: {exc.message}")
            job.done += 1
        job.state = "finished"

    @staticmethod
    def _all_or_nothing(hub: HubContext, job: ImportJob, rows: list[ParsedRow]) -> None:
        if job.errors:
            job.done = job.total
            job.state = "rolled back"
            return
        units: dict[str, str] = {}
        try:
            with hub.db.write() as session:
                ensure_site(session, hub.site_id)
                for row in rows:
                    _insert(session, hub, row, units)
                    job.done += 1
        except DoorwardError as exc:
            job.errors.append(str(exc))
            job.done = job.total
            job.state = "rolled back"
            return
        job.imported = len(rows)
        job.state = "finished"
