"""The admin area: people and units, CSV import, gates/schedules/holidays/roles, retention,
the face switch (needs a DPIA reference and a responsible person), and the privacy page that
is generated from the live settings (public: everyone may read it)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from doorward.errors import DoorwardError, InvalidInput
from doorward.hub.schemas import GateCreate, ScheduleCreate, WindowIn
from doorward.hub.services import gates, people
from doorward.hub.web import policy
from doorward.hub.web.access import Page, PageRoute, form_for, page_for
from doorward.hub.web.csv_import import ImportJobs
from doorward.hub.web.rendering import Flash

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

AdminPage = Annotated[Page, Depends(page_for("admin"))]
AdminForm = Annotated[Page, Depends(form_for("admin"))]
AnyonePage = Annotated[Page, Depends(page_for())]

LOGIN_ROLES = (
    ("admin", "Managers: people, gates, schedules, retention and the privacy settings."),
    ("guard", "Guards: the live console by gate, alarms, manual open with a reason, visitor "
              "check-in, and break-glass lookups with a stated purpose."),
    ("resident", "Residents: their own keys, guests, deliveries, entries and data."),
)


def _jobs(request: Request) -> ImportJobs:
    jobs: ImportJobs | None = getattr(request.app.state, "web_import_jobs", None)
    if jobs is None:
        jobs = ImportJobs()
        request.app.state.web_import_jobs = jobs
    return jobs


def _validation(exc: ValidationError) -> InvalidInput:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "input"
    return InvalidInput(f"{field}: {first['msg']}", hint="correct the form and try again")


@router.get("/admin")
def people_page(page: AdminPage) -> Response:
    units = people.list_units(page.hub)
    labels = {u.id: u.label for u in units}
    everyone = people.list_people(page.hub, page.auth_user)
    return page.render("admin/people.html", "People and units", people=everyone, units=units,
                       labels=labels)


@router.get("/admin/import")
def import_page(page: AdminPage) -> Response:
    return page.render("admin/import.html", "Import people", job=None)


@router.post("/admin/import")
async def import_start(
    page: AdminForm,
    file: Annotated[UploadFile, File()],
    mode: Annotated[str, Form()] = "good-rows",
) -> Response:
    try:
        if mode not in ("good-rows", "all-or-nothing"):
            raise InvalidInput("choose how to treat bad rows")
        raw = await file.read()
        job = _jobs(page.request).start(page.hub, page.actor.username, raw,
                                        all_or_nothing=mode == "all-or-nothing")
    except InvalidInput as exc:
        return page.error("admin/import.html", "Import people", exc, job=None)
    finally:
        await file.close()
    return RedirectResponse(f"/admin/import/{job.id}", status_code=303)


@router.get("/admin/import/{job_id}")
def import_status(page: AdminPage, job_id: str) -> Response:
    job = _jobs(page.request).get(job_id)
    template = "admin/_import_job.html" if page.is_htmx else "admin/import.html"
    return page.render(template, "Import people", job=job)


def _gates_page(page: Page, *, status_code: int = 200, flashes: list[Flash] | None = None
                ) -> Response:
    return page.render(
        "admin/gates.html", "Gates and schedules", status_code=status_code, flashes=flashes,
        gates=gates.list_gates(page.hub), schedules=gates.list_schedules(page.hub),
        roles=LOGIN_ROLES, weekdays=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    )


@router.get("/admin/gates")
def gates_page(page: AdminPage) -> Response:
    return _gates_page(page)


@router.post("/admin/gates")
def create_gate(
    page: AdminForm,
    gate_id: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form()] = "door",
    direction: Annotated[str, Form()] = "entry",
) -> Response:
    try:
        try:
            data = GateCreate(id=gate_id, name=name, kind=kind, direction=direction)  # type: ignore[arg-type]
        except ValidationError as exc:
            raise _validation(exc) from exc
        gates.create_gate(page.hub, page.auth_user, data)
    except DoorwardError as exc:
        return _gates_page(page, status_code=422 if isinstance(exc, InvalidInput) else 409,
                           flashes=[Flash("error", exc.message, exc.hint)])
    return _gates_page(page, flashes=[Flash("ok", f"Gate {name} added.")])


def _minutes(value: str, label: str) -> int:
    try:
        hours, minutes = value.split(":")
        return int(hours) * 60 + int(minutes)
    except ValueError as exc:
        raise InvalidInput(f"the {label} time is not HH:MM", hint="e.g. 07:30") from exc


@router.post("/admin/schedules")
def create_schedule(
    page: AdminForm,
    name: Annotated[str, Form(max_length=200)] = "",
    weekdays: Annotated[list[int] | None, Form()] = None,
    start: Annotated[str, Form(max_length=5)] = "07:00",
    end: Annotated[str, Form(max_length=5)] = "19:00",
    holidays: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        if not weekdays:
            raise InvalidInput("pick at least one weekday", hint="tick the days it is open")
        first, last = _minutes(start, "start"), _minutes(end, "end")
        try:
            days = [date.fromisoformat(d.strip()) for d in holidays.replace(",", " ").split()]
        except ValueError as exc:
            raise InvalidInput("a holiday is not a date", hint="use YYYY-MM-DD, e.g. 2026-12-25"
                               ) from exc
        try:
            data = ScheduleCreate(
                name=name, holidays=days,
                windows=[WindowIn(weekday=d, start_minute=first, end_minute=last)
                         for d in weekdays],
            )
        except ValidationError as exc:
            raise _validation(exc) from exc
        gates.create_schedule(page.hub, page.auth_user, data)
    except DoorwardError as exc:
        return _gates_page(page, status_code=422, flashes=[Flash("error", exc.message, exc.hint)])
    return _gates_page(page, flashes=[Flash("ok", f"Schedule {name} added.")])


def _settings_page(page: Page, *, status_code: int = 200, flashes: list[Flash] | None = None
                   ) -> Response:
    return page.render("admin/settings.html", "Privacy settings", status_code=status_code,
                       flashes=flashes, site_policy=policy.current_policy(page.hub),
                       hard_cap=policy.HARD_CAP_DAYS)


@router.get("/admin/settings")
def settings_page(page: AdminPage) -> Response:
    return _settings_page(page)


@router.post("/admin/settings/retention")
def set_retention(
    page: AdminForm,
    access_event_days: Annotated[int, Form(ge=1, le=policy.HARD_CAP_DAYS)],
    visitor_days: Annotated[int, Form(ge=1, le=policy.HARD_CAP_DAYS)],
) -> Response:
    policy.set_retention(page.hub, page.actor, access_event_days, visitor_days)
    return _settings_page(page, flashes=[Flash("ok", "Retention saved.")])


@router.post("/admin/settings/face")
def set_face(
    page: AdminForm,
    enabled: Annotated[str, Form()] = "",
    dpia_reference: Annotated[str, Form(max_length=200)] = "",
    responsible: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        policy.set_face_switch(page.hub, page.actor, enabled == "on", dpia_reference, responsible)
    except InvalidInput as exc:
        return _settings_page(page, status_code=422,
                              flashes=[Flash("error", exc.message, exc.hint)])
    state = "on" if enabled == "on" else "off"
    return _settings_page(page, flashes=[Flash("ok", f"Face verification is {state}.")])


@router.get("/privacy")
def privacy_page(page: AnyonePage) -> Response:
    """What Doorward keeps and for how long, from the settings in force right now."""
    return page.render("privacy.html", "Privacy", site_policy=policy.current_policy(page.hub),
                       site_id=page.hub.site_id)
