"""`frontdesk telegram set-webhook`: points the bot at PUBLIC_BASE_URL and sets its menu."""

from __future__ import annotations

import asyncio
import re

import typer
from telegram.error import TelegramError

from bot.channels import factory
from bot.channels.telegram import BOT_COMMANDS
from bot.cli.common import fail, print_json, settings_or_exit
from bot.settings import Settings

telegram_app = typer.Typer(help="Telegram bot.", no_args_is_help=True)

WEBHOOK_PATH = "/webhooks/telegram"
# What Telegram accepts as secret_token (setWebhook): 1-256 of A-Z, a-z, 0-9, _ and -.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@telegram_app.command("set-webhook")
def set_webhook() -> None:
    """Registers PUBLIC_BASE_URL/webhooks/telegram with its secret, and the bot's commands."""
    settings = settings_or_exit()
    secret, url = _webhook_settings(settings)
    bot = factory.telegram(settings, max_retries=1)
    assert bot is not None  # _webhook_settings checked the token

    async def register() -> None:
        try:
            await bot.set_webhook(url=url, secret_token=secret)
        finally:
            await bot.stop()

    try:
        asyncio.run(register())
    except TelegramError as exc:
        # Only the class and Telegram's description: PTB may quote the token elsewhere.
        fail(f"Telegram refused the webhook: {type(exc).__name__}: {exc.message}")
    print_json({"webhook": url, "commands": [f"/{name}" for name, _ in BOT_COMMANDS]})


def _webhook_settings(settings: Settings) -> tuple[str, str]:
    env = settings.env
    if env.TELEGRAM_BOT_TOKEN is None:
        fail("TELEGRAM_BOT_TOKEN is not set", code=2)
    if env.TELEGRAM_WEBHOOK_SECRET is None:
        fail("TELEGRAM_WEBHOOK_SECRET is not set", code=2)
    if not env.PUBLIC_BASE_URL or not env.PUBLIC_BASE_URL.startswith("https://"):
        fail("PUBLIC_BASE_URL must be set to the public https:// address of the server", code=2)
    secret = env.TELEGRAM_WEBHOOK_SECRET.get_secret_value()
    if not _SECRET.match(secret):
        fail("TELEGRAM_WEBHOOK_SECRET: use 1-256 characters among A-Z a-z 0-9 _ -", code=2)
    url = env.PUBLIC_BASE_URL.rstrip("/") + WEBHOOK_PATH
    return secret, url
