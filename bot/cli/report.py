"""`frontdesk report needs`: the anonymous needs observatory as JSON or CSV."""

from __future__ import annotations

import sys
from datetime import date
from typing import Literal

import typer

from bot.cli.common import audit_command, fail, open_sessions, print_json, settings_or_exit
from bot.observatory.report import SUPPRESSED_CSV, Filters, needs_rows, write_csv

report_app = typer.Typer(help="Rapporti anonimi dell'osservatorio dei bisogni.")


def _month(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value if len(value) > 7 else f"{value}-01").strftime("%Y-%m")
    except ValueError:
        fail(f"{option}: not a date (use YYYY-MM-DD or YYYY-MM): {value!r}")


@report_app.command("needs")
def needs(
    date_from: str = typer.Option(None, "--from", help="First month (YYYY-MM[-DD])"),
    date_to: str = typer.Option(None, "--to", help="Last month (YYYY-MM[-DD])"),
    output: str = typer.Option("json", "--format", help="json or csv"),
    min_count: int = typer.Option(None, "--min-count", help="Default: observatory.min_count"),
) -> None:
    """Requests per category, comune and month; counts below k are suppressed.

    JSON: one array, suppressed counts as null. CSV: the same columns, suppressed counts
    written as "<k" (e.g. "<5").
    """
    if output not in ("json", "csv"):
        fail(f"--format: unknown format {output!r} (use json or csv)")
    settings = settings_or_exit()
    k = min_count if min_count is not None else settings.config.observatory.min_count
    if k < 1:
        fail("--min-count: must be at least 1")
    filters = Filters(month_from=_month(date_from, "--from"), month_to=_month(date_to, "--to"))
    sessions = open_sessions(settings.env.DATABASE_URL)
    with sessions.begin() as session:
        rows = needs_rows(session, filters, min_count=k)
        audit_command(session, "export_needs", rows=len(rows))
    fmt: Literal["json", "csv"] = "csv" if output == "csv" else "json"
    if fmt == "csv":
        write_csv(sys.stdout, rows, suppressed=SUPPRESSED_CSV.format(k=k))
    else:
        print_json(rows)
