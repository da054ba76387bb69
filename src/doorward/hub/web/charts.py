"""Charts for staff: traffic by gate and hour, and current occupancy. Aggregates only:
there is no chart, filter or drill-down by person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from doorward.hub.web import services
from doorward.hub.web.access import Page, PageRoute, page_for

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

StaffPage = Annotated[Page, Depends(page_for("guard", "admin"))]

HOURS = 24
CHART_HEIGHT = 120
BAR_WIDTH = 22
BAR_GAP = 4


@dataclass(frozen=True, slots=True)
class BarGeometry:
    """One hour's stacked bar in SVG user units (attributes, so no inline styles are needed)."""

    x: int
    label: str
    granted: int
    denied: int
    granted_y: float
    granted_h: float
    denied_y: float
    denied_h: float


def _geometry(bars: list[services.HourBar], peak: int) -> list[BarGeometry]:
    scale = (CHART_HEIGHT - 10) / max(peak, 1)
    shapes = []
    for index, bar in enumerate(bars):
        granted_h, denied_h = bar.granted * scale, bar.denied * scale
        top = CHART_HEIGHT - granted_h
        shapes.append(BarGeometry(
            x=index * (BAR_WIDTH + BAR_GAP), label=bar.hour.strftime("%H"),
            granted=bar.granted, denied=bar.denied, granted_y=top, granted_h=granted_h,
            denied_y=top - denied_h, denied_h=denied_h,
        ))
    return shapes


@router.get("/charts")
def charts(page: StaffPage) -> Response:
    traffic = services.hourly_traffic(page.hub, hours=HOURS)
    peak = max((b.granted + b.denied for bars in traffic.values() for b in bars), default=0)
    return page.render(
        "charts.html", "Traffic", occupancy=services.occupancy(page.hub),
        charts={gate: _geometry(bars, peak) for gate, bars in traffic.items()},
        totals={gate: (sum(b.granted for b in bars), sum(b.denied for b in bars))
                for gate, bars in traffic.items()},
        width=HOURS * (BAR_WIDTH + BAR_GAP), height=CHART_HEIGHT, bar_width=BAR_WIDTH,
        peak=peak,
    )
