"""The page a guest opens from a shareable pass link: their QR code and short instructions.

The link is ``/visit/<pass id>#<signed payload>``. The fragment never reaches the server in
the request for the page; the page's script posts it back only to draw the QR code, and the
hub shows nothing unless the payload's signature verifies and names that pass. Nothing is
looked up in the database and nothing is written: the pass itself carries what is shown.
"""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form
from starlette.responses import Response

from doorward.domain.passes import parse_pass
from doorward.errors import InvalidToken
from doorward.hub.web.access import Page, PageRoute, form_for, page_for

__all__ = ["router"]

router = APIRouter(prefix="/visit", route_class=PageRoute, include_in_schema=False)

AnyonePage = Annotated[Page, Depends(page_for())]
AnyoneForm = Annotated[Page, Depends(form_for())]


@router.get("/{pass_id}")
def visit_page(page: AnyonePage, pass_id: str) -> Response:
    return page.render("visit.html", "Your pass", pass_id=pass_id)


@router.post("/{pass_id}/card")
def visit_card(page: AnyoneForm, pass_id: str,
               p: Annotated[str, Form(max_length=2048)] = "") -> Response:
    grant = parse_pass(p, page.hub.keys.public_bytes())
    if grant.id != pass_id:
        raise InvalidToken("this link's pass does not match its address",
                           hint="open the link exactly as your host sent it")
    svg = segno.make(p, error="m").svg_inline(scale=4, omitsize=True, title="Your pass QR code")
    return page.render("_visit_card.html", "Your pass", grant=grant, qr_svg=svg)
