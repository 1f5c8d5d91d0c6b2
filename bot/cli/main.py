"""`frontdesk`: run the front desk, chat in the terminal, manage database and NLU."""

from __future__ import annotations

import asyncio
import getpass

import typer

from bot.cli.campaigns import campaign_app, subscribers_app
from bot.cli.catalog import catalog_app
from bot.cli.common import fail, open_sessions, print_json, settings_or_exit
from bot.cli.nlu import nlu_app
from bot.cli.nlu_runtime import NluEndpoint, nlu_endpoint
from bot.cli.operator import operator_app
from bot.cli.privacy import privacy_app
from bot.cli.report import report_app
from bot.cli.seed import seed_catalog_if_empty
from bot.cli.telegram import telegram_app
from bot.db.engine import normalise_url

app = typer.Typer(help="Front desk della Rete di Conciliazione.", no_args_is_help=True)
db_app = typer.Typer(help="Database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(nlu_app, name="nlu")
app.add_typer(catalog_app, name="catalog")
app.add_typer(operator_app, name="operator")
app.add_typer(telegram_app, name="telegram")
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(campaign_app, name="campaign")
app.add_typer(privacy_app, name="privacy")
app.add_typer(report_app, name="report")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Brings the database (DATABASE_URL) to the latest schema."""
    settings = settings_or_exit()
    open_sessions(settings.env.DATABASE_URL)
    print_json({"upgraded": True})


@app.command()
def run(
    host: str = typer.Option(None, help="Default: web.host of config.yml"),
    port: int = typer.Option(None, help="Default: web.port of config.yml"),
    telegram_polling: bool = typer.Option(
        False, "--telegram-polling", help="Fetch Telegram updates (no public URL needed)"
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Web worker processes (PostgreSQL only)"
    ),
) -> None:
    """Starts the NLU (if managed), migrates the database and serves the web chat."""
    import os

    import uvicorn

    from bot.web.app import create_app

    settings = settings_or_exit()
    if workers > 1 and not normalise_url(settings.env.DATABASE_URL).startswith("postgresql"):
        fail("--workers N needs PostgreSQL (DATABASE_URL): SQLite has a single writer")
    if workers > 1 and telegram_polling:
        fail("--telegram-polling runs in one process: use the webhook with --workers N")
    sessions = open_sessions(settings.env.DATABASE_URL)
    seed_catalog_if_empty(
        sessions, settings.config.catalog.seed_dir, places=settings.config.territory.places
    )
    host = host or settings.config.web.host
    port = port or settings.config.web.port
    with nlu_endpoint(settings) as endpoint:
        typer.echo(
            f"\nFront desk pronto. Apri la chat: http://{host}:{port}/chat  (Ctrl-C per uscire)\n"
        )
        if workers > 1:
            # Each worker builds its app from the environment: point it at this Rasa.
            os.environ["RASA_URL"] = endpoint.url
            if endpoint.token:
                os.environ["RASA_TOKEN"] = endpoint.token
            uvicorn.run(
                "bot.web.app:app_from_env",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="info",
            )
        else:
            web = create_app(
                settings, nlu=endpoint.client(settings), telegram_polling=telegram_polling
            )
            uvicorn.run(web, host=host, port=port, log_level="info")
    typer.echo("Front desk fermato.")


@app.command()
def chat(
    session: str = typer.Option(None, help="Conversation id (default: your user name)"),
) -> None:
    """The same conversation in the terminal. Type a number to press a button; Ctrl-D exits."""
    from bot.channels.terminal import Terminal
    from bot.context import flow_context_factory
    from bot.frontdesk import FrontDesk

    settings = settings_or_exit()
    sessions = open_sessions(settings.env.DATABASE_URL)
    seed_catalog_if_empty(
        sessions, settings.config.catalog.seed_dir, places=settings.config.territory.places
    )
    terminal = Terminal(session or f"terminal-{getpass.getuser()}")

    async def loop(endpoint: NluEndpoint) -> None:
        async with endpoint.client(settings) as client:
            desk = FrontDesk(
                sessions=sessions, nlu=client, context=flow_context_factory(settings, sessions)
            )
            while True:
                try:
                    line = await asyncio.to_thread(input, "🙂 ")
                except (EOFError, KeyboardInterrupt):
                    return
                if (message := terminal.parse(line)) is not None:
                    for reply in await desk.handle(message):
                        await terminal.send(reply)

    with nlu_endpoint(settings) as endpoint:
        typer.echo("Scrivi un messaggio (Ctrl-D per uscire).")
        asyncio.run(loop(endpoint))
