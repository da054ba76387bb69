"""The resident portal: my keys, guests and deliveries, and my data (entries, consent,
export, erasure, and every staff read of it). A resident only ever sees their own data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form
from starlette.responses import RedirectResponse, Response

from doorward.domain.model import PassKind
from doorward.errors import DoorwardError, InvalidInput, NotFound
from doorward.hub.deps import SESSION_COOKIE
from doorward.hub.schemas import PassCreate, PassIssued
from doorward.hub.services import credentials, passes, people
from doorward.hub.web import my_data, policy
from doorward.hub.web.access import Page, PageRoute, form_for, page_for
from doorward.hub.web.rendering import Flash
from doorward.privacy.export import export_subject_data

__all__ = ["router"]

router = APIRouter(prefix="/portal", route_class=PageRoute, include_in_schema=False)

ResidentPage = Annotated[Page, Depends(page_for("resident"))]
ResidentForm = Annotated[Page, Depends(form_for("resident"))]
ERASE_CONFIRMATION = "erase my account"


def _mobile_key(page: Page) -> dict[str, object] | None:
    """The current rotating token as an inline SVG QR (rendered in memory, never a file)."""
    try:
        token = credentials.mobile_token_for(page.hub, page.auth_user)
    except (NotFound, InvalidInput, DoorwardError):
        return None
    svg = segno.make(token.token, error="m").svg_inline(scale=4, omitsize=True,
                                                title="Mobile key QR code")
    return {"svg": svg, "step": token.step, "valid_for": token.valid_for_seconds}


def _home(page: Page, *, issued: PassIssued | None = None, status_code: int = 200,
          flashes: list[Flash] | None = None) -> Response:
    person_id = page.actor.person_id
    return page.render(
        "portal/home.html", "My home", status_code=status_code, flashes=flashes,
        credentials=credentials.list_credentials(page.hub, person_id) if person_id else [],
        mobile_key=_mobile_key(page),
        passes=sorted(passes.list_passes(page.hub, page.auth_user),
                      key=lambda p: p.valid_from, reverse=True),
        issued=issued, now=datetime.now(UTC),
    )


@router.get("")
def home(page: ResidentPage) -> Response:
    return _home(page)


@router.get("/mobile-key")
def mobile_key_fragment(page: ResidentPage) -> Response:
    """The QR alone, refreshed by htmx as the token rotates."""
    return page.render("portal/_mobile_key.html", "Mobile key", mobile_key=_mobile_key(page))


def _parse_local(value: str, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{field} is not a date and time",
                           hint="use the date picker, e.g. 2026-12-24 18:00") from exc
    # The browser sends local wall time without a zone; the hub runs on the site's UTC clock.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.post("/passes")
def issue_pass(
    page: ResidentForm,
    visitor_name: Annotated[str, Form(max_length=100)] = "",
    kind: Annotated[str, Form()] = "visitor",
    starts: Annotated[str, Form(max_length=40)] = "",
    hours: Annotated[int, Form(ge=1, le=168)] = 4,
    max_uses: Annotated[int, Form(ge=1, le=20)] = 2,
) -> Response:
    """Invite a guest (or open a delivery window): a time-boxed, use-limited pass."""
    try:
        if kind not in ("visitor", "delivery"):
            raise InvalidInput("choose a visitor or a delivery pass")
        if not visitor_name.strip():
            raise InvalidInput(
                "give the guest's given name" if kind == "visitor" else "name the courier or shop",
                hint="the guard sees only this name and your unit",
            )
        valid_from = _parse_local(starts, "the start") if starts else datetime.now(UTC)
        data = PassCreate(
            kind=PassKind(kind), visitor_name=visitor_name.strip(), valid_from=valid_from,
            valid_until=valid_from + timedelta(hours=hours), max_uses=max_uses,
        )
        base = str(page.request.base_url)
        issued = passes.issue_visitor_pass(page.hub, page.auth_user, data, base)
    except DoorwardError as exc:
        return _home(page, status_code=422 if isinstance(exc, InvalidInput) else 403,
                     flashes=[Flash("error", exc.message, exc.hint)])
    return _home(page, issued=issued, flashes=[Flash(
        "ok", f"Pass for {issued.pass_.visitor_name} is ready: share the link, QR or code.")])


@router.post("/passes/{pass_id}/revoke")
def revoke_pass(page: ResidentForm, pass_id: str) -> Response:
    revoked = passes.revoke_pass(page.hub, page.auth_user, pass_id)
    return _home(page, flashes=[Flash("ok", f"The pass for {revoked.visitor_name} is revoked.")])


def _my_data(page: Page, *, status_code: int = 200, flashes: list[Flash] | None = None
             ) -> Response:
    subject = my_data.my_subject(page.hub, page.actor)
    return page.render(
        "portal/my_data.html", "My data", status_code=status_code, flashes=flashes,
        entries=my_data.my_entries(page.hub, page.actor),
        reads=my_data.staff_reads(page.hub, page.actor),
        consent=policy.consent_given(page.hub, subject),
        site_policy=policy.current_policy(page.hub),
        erase_confirmation=ERASE_CONFIRMATION,
    )


@router.get("/my-data")
def my_data_page(page: ResidentPage) -> Response:
    return _my_data(page)


@router.post("/consent")
def consent(page: ResidentForm, choice: Annotated[str, Form()] = "") -> Response:
    try:
        if choice not in ("opt-in", "opt-out"):
            raise InvalidInput("choose to opt in or to opt out")
        subject = my_data.my_subject(page.hub, page.actor)
        policy.record_consent(page.hub, page.actor, subject, granted=choice == "opt-in")
    except InvalidInput as exc:
        return _my_data(page, status_code=422, flashes=[Flash("error", exc.message, exc.hint)])
    message = ("You opted in to face verification." if choice == "opt-in" else
               "You opted out: any face template of yours is deleted.")
    return _my_data(page, flashes=[Flash("ok", message)])


@router.get("/export.json")
def export(page: ResidentPage) -> Response:
    # The privacy module's export = this portal's export plus face-consent history, template
    # metadata and every audit entry about the person.
    data = export_subject_data(page.hub, page.auth_user)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="doorward-my-data-{stamp}.json"'},
    )


@router.post("/erase")
def erase(page: ResidentForm, confirm: Annotated[str, Form(max_length=100)] = "") -> Response:
    if confirm.strip().lower() != ERASE_CONFIRMATION:
        return _my_data(page, status_code=422, flashes=[Flash(
            "error", "your account was not erased",
            f"type “{ERASE_CONFIRMATION}” in the box to confirm")])
    person_id = page.actor.person_id
    if person_id is None:
        raise NotFound("this login is not linked to a resident", hint="ask an admin")
    # Face consent and templates name only the pseudonym, so nothing cascades to them.
    policy.forget_face(page.hub, my_data.my_subject(page.hub, page.actor))
    people.erase_person(page.hub, page.auth_user, person_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
