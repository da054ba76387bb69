"""The guard console: live events per gate, alarms, gate status, manual open, visitor
check-in and the break-glass lookup (stated purpose, audited, shown to the resident)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from doorward.domain.model import CredentialKind
from doorward.errors import DoorwardError, InvalidInput, NotFound
from doorward.hub.deps import SESSION_COOKIE
from doorward.hub.schemas import AccessRequestIn
from doorward.hub.services import decisions, people
from doorward.hub.services.accounts import user_for_token
from doorward.hub.web import services
from doorward.hub.web.access import Page, PageRoute, form_for, page_for
from doorward.hub.web.rendering import Flash, jinja_env

__all__ = ["router"]

router = APIRouter(prefix="/console", route_class=PageRoute, include_in_schema=False)

StaffPage = Annotated[Page, Depends(page_for("guard", "admin"))]
StaffForm = Annotated[Page, Depends(form_for("guard", "admin"))]

MIN_PURPOSE_CHARS = 10
POLL_SECONDS = 1.0
GATES_EVERY_POLLS = 10
SESSION_CHECK_POLLS = 30


def _console(page: Page, *, status_code: int = 200, flashes: list[Flash] | None = None,
             gate: str = "", **extra: object) -> Response:
    gates = services.gate_status(page.hub)
    if gate not in {g.id for g in gates}:
        gate = ""  # an unknown gate shows every gate rather than an empty page
    return page.render(
        "console/console.html", "Guard console", status_code=status_code, flashes=flashes,
        gates=gates, alarms=services.open_alarms(page.hub), selected_gate=gate,
        events=services.recent_events(page.hub, gate_id=gate),
        checkin=extra.pop("checkin", None), **extra,
    )


@router.get("")
def console(page: StaffPage, gate: str = "") -> Response:
    """Everything at once, or the live events of one gate (``?gate=<id>``)."""
    return _console(page, gate=gate)


def _fragment(template: str, **context: object) -> str:
    return jinja_env().get_template(template).render(**context)


@router.get("/stream")
async def stream(page: StaffPage, gate: str = "") -> EventSourceResponse:
    """Server-sent events: new access events, alarms, and gate status every few seconds."""
    hub, request = page.hub, page.request
    token = request.cookies.get(SESSION_COOKIE, "")
    last = await run_in_threadpool(services.latest_seq, hub)

    async def events() -> AsyncIterator[ServerSentEvent]:
        nonlocal last
        polls = 0
        yield ServerSentEvent(comment="connected")
        while True:
            await asyncio.sleep(POLL_SECONDS)
            polls += 1
            # A logged-out or expired session stops receiving events.
            if polls % SESSION_CHECK_POLLS == 0 and (
                await run_in_threadpool(user_for_token, hub, token) is None
            ):
                return
            fresh = await run_in_threadpool(services.events_after, hub, last)
            if fresh:
                last = fresh[-1].seq
            newest_first = list(reversed(fresh))
            shown = [e for e in newest_first if not gate or e.gate_id == gate]
            if shown:
                yield ServerSentEvent(_fragment("console/_event_rows.html", events=shown),
                                      event="access")
            # Alarms from every gate, whatever the filter: nobody should miss one.
            alarms = [e for e in newest_first if e.kind == "alarm" or e.alarm]
            if alarms:
                yield ServerSentEvent(_fragment(
                    "console/_alarm_rows.html", csrf_token=page.csrf_token,
                    alarms=[services.AlarmView(e) for e in alarms]), event="alarm")
            if fresh or polls % GATES_EVERY_POLLS == 0:
                gates = await run_in_threadpool(services.gate_status, hub)
                yield ServerSentEvent(_fragment("console/_gates.html", gates=gates),
                                      event="gates")

    return EventSourceResponse(events(), ping=15, send_timeout=10)


@router.post("/alarms/{event_id}/ack")
def acknowledge(page: StaffForm, event_id: str,
                comment: Annotated[str, Form(max_length=500)] = "") -> Response:
    alarm = services.acknowledge_alarm(page.hub, page.actor, event_id, comment)
    if page.is_htmx:
        return page.render("console/_alarm_rows.html", "Alarm", alarms=[alarm])
    return _console(page, flashes=[Flash("ok", "Alarm acknowledged.")])


@router.post("/gates/open")
def manual_open(page: StaffForm, gate_id: Annotated[str, Form(max_length=64)] = "",
                reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    try:
        services.manual_open(page.hub, page.actor, gate_id, reason)
    except InvalidInput as exc:
        return _console(page, status_code=422, flashes=[Flash("error", exc.message, exc.hint)])
    return _console(page, flashes=[Flash("ok", f"Gate {gate_id} opened; the reason is audited.")])


@router.post("/lockdown")
def lockdown(page: StaffForm, action: Annotated[str, Form(max_length=16)] = "",
             reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Lock every gate of the site (only responder credentials pass) or release it."""
    try:
        if action not in ("lockdown", "release"):
            raise InvalidInput("choose lockdown or release", hint="use the console's buttons")
        told = services.set_lockdown(page.hub, page.actor, action == "lockdown", reason)
    except InvalidInput as exc:
        return _console(page, status_code=422, flashes=[Flash("error", exc.message, exc.hint)])
    done = "Lockdown sent to" if action == "lockdown" else "Release sent to"
    return _console(page, flashes=[Flash("ok", f"{done} {told} gate(s); the reason is audited.")])


@router.post("/checkin")
def check_in(page: StaffForm, gate_id: Annotated[str, Form(max_length=64)] = "",
             code: Annotated[str, Form(max_length=2048)] = "") -> Response:
    """Check a visitor in by the pass code they typed or the QR the scanner read."""
    code = code.strip()
    try:
        if not code:
            raise InvalidInput("enter or scan the visitor's pass code",
                               hint="the short code is on the guest's invitation")
        # A scanner types the whole signed QR payload; a person types the short code.
        is_qr = len(code) > 32
        data = AccessRequestIn(
            reader_id="console", kind=CredentialKind.VISITOR_PASS,
            token=code if is_qr else "", pass_code="" if is_qr else code.upper(),
        )
        decision = decisions.decide_at_gate(page.hub, gate_id, data)
    except (InvalidInput, NotFound) as exc:
        return _console(page, status_code=422, flashes=[Flash("error", exc.message, exc.hint)])
    if decision.granted:
        flash = Flash("ok", f"Visitor checked in at {gate_id}: {decision.reason}")
    else:
        flash = Flash("error", f"Visitor refused at {gate_id}: {decision.reason}",
                      "ask the host to issue a new pass if this one expired or is used up")
    return _console(page, status_code=200 if decision.granted else 422, flashes=[flash],
                    checkin=decision)


@router.get("/lookup")
def lookup_form(page: StaffPage, event_id: str = "") -> Response:
    event = services.event_view(page.hub, event_id)
    return page.render("console/lookup.html", "Break-glass lookup", event=event, person=None,
                       min_purpose=MIN_PURPOSE_CHARS, purpose="")


@router.post("/lookup")
def lookup(page: StaffForm, event_id: Annotated[str, Form(max_length=64)] = "",
           purpose: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Who is behind one event: only with a stated purpose, always audited."""
    event = services.event_view(page.hub, event_id)
    context: dict[str, Any] = {"event": event, "min_purpose": MIN_PURPOSE_CHARS,
                               "purpose": purpose}
    try:
        if len(purpose.strip()) < MIN_PURPOSE_CHARS:
            raise InvalidInput(
                "a break-glass lookup needs a stated purpose",
                hint=f"say why in at least {MIN_PURPOSE_CHARS} characters; the resident will "
                "see it",
            )
        subject = services.subject_of_event(page.hub, event_id)
        person = people.resolve_subject(page.hub, page.auth_user, subject, purpose.strip())
    except DoorwardError as exc:
        return page.error("console/lookup.html", "Break-glass lookup", exc, person=None,
                          **context)
    units = {u.id: u.label for u in people.list_units(page.hub)}
    unit = units.get(person.unit_id or "", "")
    return page.render("console/lookup.html", "Break-glass lookup", person=person, unit=unit,
                       **context)
