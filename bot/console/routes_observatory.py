"""Admin pages: the needs observatory (charts, tables, CSV)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from bot.console import copy
from bot.console import observatory_data as chart_data
from bot.console.observatory_charts import inline_svg, render
from bot.console.routes_admin import Admin, audit_action
from bot.console.templating import download, page
from bot.db.models import NeedCount
from bot.observatory import aggregates
from bot.observatory.report import (
    SUPPRESSED_CSV,
    Filters,
    needs_cells,
    needs_rows,
    shown,
    to_rows,
    write_csv,
)
from bot.services import app_services

router = APIRouter(prefix="/operator/admin")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
CHANNELS = ("telegram", "whatsapp", "webchat")


def _filters(request: Request) -> Filters:
    """Filters from the query string; values that are not valid are ignored."""
    q = request.query_params
    comuni = app_services(request).settings.config.territory.comuni

    def month(name: str) -> str | None:
        value = q.get(name, "")
        return value if MONTH.match(value) else None

    return Filters(
        month_from=month("from"),
        month_to=month("to"),
        comune=q.get("comune") if q.get("comune") in comuni else None,
        channel=q.get("channel") if q.get("channel") in CHANNELS else None,
    )


def page_data(session: Session, filters: Filters, k: int, comuni: Sequence[str]) -> dict[str, Any]:
    """Everything the observatory page shows (also what bench/bench_observatory.py times)."""
    cells = needs_cells(session, filters)
    charts = chart_data.charts(session, filters, cells, k=k, comuni=comuni)
    return {
        "rows": to_rows(cells, min_count=k),
        "categories": aggregates.summed(cells, "categoria"),
        "ages": aggregates.by_key(session, filters, NeedCount.age_bracket),
        "response": aggregates.first_response(session, filters),
        "reach": aggregates.campaign_reach(session),
        "options": aggregates.options(session),
        "charts": [(c, Markup(inline_svg(c))) for c in charts.values()],
    }


def _settings(request: Request) -> tuple[int, tuple[str, ...]]:
    config = app_services(request).settings.config
    return config.observatory.min_count, tuple(config.territory.comuni)


@router.get("/observatory", response_class=HTMLResponse)
def observatory(request: Request, who: Admin) -> Response:
    """The observatory page, with the filters of the query string."""
    filters = _filters(request)
    k, comuni = _settings(request)
    with app_services(request).sessions() as session:
        context = page_data(session, filters, k, comuni)
    return page(
        request,
        "observatory.html",
        who,
        filters=filters,
        k=k,
        cell=lambda n: shown(n, k),
        theme=chart_data.theme_name,
        month=chart_data.month_name,
        comuni_all=comuni,
        channels=copy.group("channels"),
        channel_keys=CHANNELS,
        query=request.url.query,
        **context,
    )


@router.get("/observatory.csv")
def observatory_csv(request: Request, who: Admin) -> Response:
    """The filtered categoria x comune x month table as CSV ("<k" for suppressed counts)."""
    k = app_services(request).settings.config.observatory.min_count
    with app_services(request).sessions.begin() as session:
        rows = needs_rows(session, _filters(request), min_count=k)
        audit_action(session, who, "export_observatory", rows=len(rows))
    out = io.StringIO()
    write_csv(out, rows, suppressed=SUPPRESSED_CSV.format(k=k))
    return download(out.getvalue(), "text/csv; charset=utf-8", "bisogni.csv")


MEDIA = {"csv": "text/csv; charset=utf-8", "png": "image/png", "svg": "image/svg+xml"}


@router.get("/observatory/charts/{name}.{fmt}")
def observatory_chart(request: Request, who: Admin, name: str, fmt: str) -> Response:
    """One chart of the page as CSV, PNG or SVG, with the page's filters."""
    if name not in chart_data.NAMES or fmt not in MEDIA:
        raise HTTPException(status_code=404)
    filters = _filters(request)
    k, comuni = _settings(request)
    with app_services(request).sessions() as session:
        cells = needs_cells(session, filters)
        data = chart_data.charts(session, filters, cells, k=k, comuni=comuni)[name]
    if fmt == "csv":
        out = io.StringIO()
        chart_data.write_csv(out, data)
        body: str | bytes = out.getvalue()
    else:
        body = render(data, "png" if fmt == "png" else "svg")
    return download(body, MEDIA[fmt], f"{name}.{fmt}")
