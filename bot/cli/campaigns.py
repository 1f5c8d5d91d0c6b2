"""`frontdesk subscribers import` and `frontdesk campaign create|send|report|list|cancel`."""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import select

from bot.campaigns import importer, report, store
from bot.campaigns.audience import Audience
from bot.campaigns.sender import SendRefused, send_campaign
from bot.campaigns.subscriptions import topics
from bot.campaigns.transport import campaign_channels
from bot.cli.common import audit_command, fail, open_sessions, print_json, settings_or_exit
from bot.db.campaign_models import Campaign, CampaignStatus

subscribers_app = typer.Typer(help="Iscritti agli aggiornamenti.", no_args_is_help=True)
campaign_app = typer.Typer(help="Campagne di messaggi agli iscritti.", no_args_is_help=True)


@subscribers_app.command("import")
def import_subscribers(file: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """Imports opted-in residents from a CSV (channel,address,topics,comune,consent_at,
    consent_source); nothing is written unless every line is valid."""
    settings = settings_or_exit()
    rows, problems = importer.parse(file, comuni=settings.config.territory.comuni)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        fail(f"{file.name}: {len(problems)} errori, nessun iscritto importato")
    sessions = open_sessions(settings.env.DATABASE_URL)
    with sessions.begin() as session:
        done = importer.write(
            session, rows=rows, wording_version=settings.config.campaigns.wording_version
        )
    print_json({"residents": done.residents, "opt_ins": done.opt_ins, "withdrawn": done.withdrawn})


def _at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--at: non è una data ISO-8601: {text}")
    if moment.tzinfo is None:
        fail("--at: serve il fuso orario, per esempio 2026-12-01T10:00:00+01:00")
    return moment.astimezone(UTC)


@campaign_app.command("create")
def create(
    title: str = typer.Option(..., "--title"),
    text: str = typer.Option(..., "--text"),
    channel: str = typer.Option("all", "--channel", help="telegram | whatsapp | all"),
    topic: list[str] = typer.Option([], "--topic", help="Categoria di bisogno o novita"),
    comune: list[str] = typer.Option([], "--comune"),
    at: str | None = typer.Option(None, "--at", help="Invio programmato (ISO-8601 con fuso)"),
) -> None:
    """Creates a campaign and freezes its audience; prints {"id", "recipients"}."""
    settings = settings_or_exit()
    if channel not in ("telegram", "whatsapp", "all"):
        fail("--channel: telegram, whatsapp o all")
    if unknown := [t for t in topic if t not in topics()]:
        fail(f"--topic sconosciuto: {', '.join(unknown)} (validi: {', '.join(topics())})")
    if unknown := [c for c in comune if c not in settings.config.territory.comuni]:
        fail(f"--comune sconosciuto: {', '.join(unknown)}")
    if not text.strip() or not title.strip():
        fail("--title e --text non possono essere vuoti")
    audience = Audience(channel, tuple(topic), tuple(comune))
    sessions = open_sessions(settings.env.DATABASE_URL)
    with sessions.begin() as session:
        campaign, count = store.create_campaign(
            session, title=title, text=text, audience=audience, scheduled_at=_at(at)
        )
        audit_command(session, "campaign_create", campaign_id=campaign.id)
    print_json({"id": campaign.id, "recipients": count})


@campaign_app.command("send")
def send(
    campaign_id: int = typer.Argument(...),
    force: bool = typer.Option(False, "--force", help="Invia anche in orario di silenzio"),
) -> None:
    """Sends a campaign in the foreground; resumes where a previous run stopped."""
    settings = settings_or_exit()
    sessions = open_sessions(settings.env.DATABASE_URL)
    with sessions.begin() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            fail(f"la campagna {campaign_id} non esiste")
        summary = report.summary(session, campaign=campaign)
        audit_command(session, "campaign_send", campaign_id=campaign_id)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    # On stderr: stdout's last line is the JSON result other programs read.
    progress = Progress(
        *columns, TimeRemainingColumn(), transient=True, console=Console(stderr=True)
    )

    async def run() -> None:
        # Database and Twilio calls run in threads: enough of them for every worker of
        # both channels (the default pool is sized by CPU count, far below that).
        workers = 2 * settings.config.campaigns.concurrency + 4
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(workers))
        async with campaign_channels(settings, sessions) as channels:
            with progress:
                done = summary["recipients"] - summary["pending"]
                task = progress.add_task(campaign.title[:40], total=summary["recipients"])
                progress.update(task, completed=done)
                result = await send_campaign(
                    sessions=sessions,
                    campaign_id=campaign_id,
                    channels=channels,
                    config=settings.config.campaigns,
                    force=force,
                    progress=lambda n: progress.advance(task, n),
                )
        if result.paused:
            fail(f"invio sospeso: {result.paused}; riprendi con frontdesk campaign send")

    try:
        asyncio.run(run())
    except SendRefused as exc:
        fail(str(exc))
    with sessions() as session:
        final = session.get(Campaign, campaign_id)
        assert final is not None
        print_json(report.summary(session, campaign=final))


@campaign_app.command("report")
def report_cmd(
    campaign_id: int = typer.Argument(...),
    format: str = typer.Option("json", "--format", help="json | csv"),
) -> None:
    """Prints the campaign's outcome: counts per result and failures by reason (or CSV)."""
    if format not in ("json", "csv"):
        fail("--format: json o csv")
    settings = settings_or_exit()
    sessions = open_sessions(settings.env.DATABASE_URL)
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            fail(f"la campagna {campaign_id} non esiste")
        if format == "csv":
            sys.stdout.write(report.as_csv(session, campaign=campaign))
            return
        print_json(report.summary(session, campaign=campaign))


@campaign_app.command("list")
def list_cmd() -> None:
    """Prints every campaign as a JSON array."""
    settings = settings_or_exit()
    sessions = open_sessions(settings.env.DATABASE_URL)
    with sessions() as session:
        campaigns = session.scalars(select(Campaign).order_by(Campaign.id)).all()
        rows = [
            {
                "id": c.id,
                "title": c.title,
                "status": c.status,
                "channel": c.channel,
                "scheduled_at": c.scheduled_at.isoformat() if c.scheduled_at else None,
                "recipients": report.summary(session, campaign=c)["recipients"],
            }
            for c in campaigns
        ]
    print_json(rows)


@campaign_app.command("cancel")
def cancel_cmd(campaign_id: int = typer.Argument(...)) -> None:
    """Cancels a campaign: recipients not yet sent will not be."""
    settings = settings_or_exit()
    sessions = open_sessions(settings.env.DATABASE_URL)
    with sessions.begin() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            fail(f"la campagna {campaign_id} non esiste")
        if campaign.status == CampaignStatus.DONE:
            fail(f"la campagna {campaign_id} è già stata inviata")
        cancelled = store.cancel(session, campaign_id=campaign_id)
        audit_command(session, "campaign_cancel", campaign_id=campaign_id)
    print_json({"id": campaign_id, "status": "cancelled", "not_sent": cancelled})
