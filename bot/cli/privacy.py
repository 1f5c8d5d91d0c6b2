"""`frontdesk privacy export|erase|purge|rotate-key`: the residents' rights and data hygiene."""

from __future__ import annotations

import os

import typer
from cryptography.fernet import Fernet

from bot import crypto
from bot.cli.common import fail, open_sessions, print_json, settings_or_exit
from bot.db import console_repo
from bot.db.base import utcnow
from bot.privacy.erase import erase_subject
from bot.privacy.export import export_subject
from bot.privacy.registry import Subject
from bot.privacy.retention import UnknownRetentionKind, purge
from bot.privacy.rotate import rotate_all
from bot.settings import Settings

privacy_app = typer.Typer(help="Dati personali: accesso, cancellazione, conservazione.")
CHANNELS = ("telegram", "whatsapp", "webchat")


def configure_keys(settings: Settings) -> None:
    """Loads the data keys from FRONTDESK_DATA_KEY (or the embedded default's key file)."""
    key = settings.env.FRONTDESK_DATA_KEY
    try:
        crypto.configure(key.get_secret_value() if key else None)
    except crypto.DataKeyError as exc:
        fail(str(exc), code=2)


def _subject(channel: str, address: str) -> Subject:
    if channel not in CHANNELS:
        fail(f"unknown channel {channel!r} (use {', '.join(CHANNELS)})")
    if not address.strip():
        fail("empty address")
    return Subject(channel, address)


@privacy_app.command("export")
def export(channel: str, address: str) -> None:
    """Prints everything held about a resident as JSON (right of access)."""
    subject = _subject(channel, address)
    settings = settings_or_exit()
    configure_keys(settings)
    sessions = open_sessions(settings.env.DATABASE_URL)
    with sessions.begin() as session:
        document = export_subject(session, subject, via="cli")
    print_json(document)


@privacy_app.command("erase")
def erase(channel: str, address: str) -> None:
    """Deletes a resident's personal data (same code as "cancella i miei dati" in the chat)."""
    subject = _subject(channel, address)
    settings = settings_or_exit()
    configure_keys(settings)
    sessions = open_sessions(settings.env.DATABASE_URL)
    with sessions.begin() as session:
        deleted = erase_subject(session, subject, via="cli")
    print_json({"erased": sum(deleted.values()) > 0, "rows": deleted})


@privacy_app.command("purge")
def purge_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what would be deleted"),
) -> None:
    """Deletes data older than privacy.retention_days of config.yml; prints counts per table
    and per log file of privacy.log_dir ("files:var/rasa.log")."""
    settings = settings_or_exit()
    configure_keys(settings)
    sessions = open_sessions(settings.env.DATABASE_URL)
    days = settings.config.privacy.retention_days.model_dump()
    try:
        with sessions.begin() as session:
            counts = purge(
                session,
                retention_days=days,
                now=utcnow(),
                dry_run=dry_run,
                log_dir=settings.config.privacy.log_dir,
            )
    except UnknownRetentionKind as exc:
        fail(str(exc), code=2)
    for table, n in counts.items():
        typer.echo(f"{'da cancellare' if dry_run else 'cancellate'}: {table} {n}")
    print_json({"dry_run": dry_run, "rows": counts})


@privacy_app.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypts every stored text under the newest key.

    With FRONTDESK_DATA_KEY: put the new key first and keep the old ones after it, run this,
    then drop the old keys. Without it (embedded default) a new key is generated and
    prepended to var/data.key.
    """
    settings = settings_or_exit()
    configure_keys(settings)
    source = "env"
    if settings.env.FRONTDESK_DATA_KEY is None and crypto.ENV_VAR not in os.environ:
        path = crypto.DEFAULT_KEY_FILE
        keys = [Fernet.generate_key().decode(), *crypto.key_file_keys(path)]
        path.write_text("\n".join(keys) + "\n", encoding="utf-8")
        crypto.configure(",".join(keys))
        source = str(path)
    sessions = open_sessions(settings.env.DATABASE_URL)
    try:
        with sessions.begin() as session:
            counts = rotate_all(session)
            console_repo.audit(
                session, operator_id=None, action="privacy_rotate_key", detail={"rows": counts}
            )
    except crypto.DataKeyError as exc:
        fail(str(exc))
    print_json({"rotated": counts, "key_source": source})
