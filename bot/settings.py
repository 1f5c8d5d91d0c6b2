"""Settings: secrets and endpoints from the environment, everything else from config.yml.

Both are validated at start; a missing or invalid value fails with one line naming the key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from nlu.client import NluClient
from nlu.comuni import gazetteer
from territory.model import (
    SocialPoint,
    Territory,
    TerritoryError,
    load_territory,
    parse_territory,
    territory_path,
)

_RANGE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the key."""


class Env(BaseSettings):
    """Secrets and endpoints (names are part of the public interface)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=True)

    DATABASE_URL: str = "sqlite:///var/frontdesk.db"
    FRONTDESK_CONFIG: Path = Path("config.yml")
    PUBLIC_BASE_URL: str | None = None
    RASA_URL: str | None = None
    RASA_TOKEN: SecretStr | None = None
    TELEGRAM_BOT_TOKEN: SecretStr | None = None
    TELEGRAM_WEBHOOK_SECRET: SecretStr | None = None
    TELEGRAM_API_BASE_URL: str = "https://api.telegram.org/bot"
    TWILIO_ACCOUNT_SID: str | None = None
    TWILIO_AUTH_TOKEN: SecretStr | None = None
    TWILIO_WHATSAPP_FROM: str | None = None
    TWILIO_API_BASE_URL: str = "https://api.twilio.com"
    # Fernet keys for texts at rest, comma-separated, newest first (default: var/data.key).
    FRONTDESK_DATA_KEY: SecretStr | None = None
    # Where the abuse and login counters live, shared by all workers (bot.web.limits):
    # memory:// (one process, the embedded default) or redis://host:6379/0 in production.
    FRONTDESK_LIMITS_STORAGE: SecretStr = SecretStr("memory://")
    # Minutes a queued request may wait before its card in the console turns to a warning.
    FRONTDESK_WAIT_TARGET_MINUTES: int = Field(15, ge=1, le=24 * 60)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NluConfig(_Strict):
    mode: Literal["managed", "external"] = "managed"
    url: str = "http://127.0.0.1:5005"
    model_dir: Path = Path("var/models")
    timeout_seconds: float = Field(3.0, gt=0)
    retries: int = Field(2, ge=0, le=5)
    confidence_threshold: float = Field(0.55, ge=0, le=1)


class ChannelsConfig(_Strict):
    enabled: tuple[Literal["telegram", "whatsapp", "webchat"], ...] = ("webchat",)


class WebConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    # A web chat conversation idle this long is not resumed: the page starts a new one.
    chat_session_idle_hours: int = Field(24, ge=1, le=24 * 30)


class AbuseConfig(_Strict):
    """Abuse limits of the public endpoints (`limits` notation, e.g. "30 per minute")."""

    max_body_bytes: int = Field(16_384, ge=1024)  # /api/chat bodies (a message is <= 2000 chars)
    max_json_depth: int = Field(8, ge=2, le=64)
    # A Social Point's public wifi or a school's NAT puts many residents behind one address.
    chat_per_address: str = "120 per minute"  # /api/chat requests from one client address
    chat_per_session: str = "20 per minute"  # ... and for one conversation
    new_sessions_per_address: str = "60 per 10 minutes"  # new web chat conversations per address
    messages_per_resident: str = "20 per minute"  # Telegram/WhatsApp messages per sender
    # Priority cards from brand-new web chat sessions: after this many in the window, further
    # ones are folded into the last card (one card for a burst, with a count).
    priority_fold_after: int = Field(3, ge=1)
    priority_fold_minutes: int = Field(10, ge=1)
    new_session_minutes: int = Field(10, ge=1)  # a conversation this young is "brand-new"

    @field_validator(
        "chat_per_address", "chat_per_session", "new_sessions_per_address", "messages_per_resident"
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"not a rate like '30 per minute': {value!r}") from exc
        return value


class Titolare(_Strict):
    """The data controller named on /privacy (titolare del trattamento)."""

    name: str = "Ente capofila della Rete di Conciliazione"
    address: str = ""
    email: str = ""
    pec: str | None = None
    dpo_email: str | None = None  # responsabile della protezione dei dati


class RetentionDays(_Strict):
    """Days each kind of data is kept (keys are the registry's retention kinds)."""

    messages: int = Field(180, ge=1)  # message texts and web chat outbox
    conversation_state: int = Field(365, ge=1)  # conversations and what the interview learnt
    handoffs: int = Field(365, ge=1)  # handoff summaries, transcripts and operator notes
    campaign_outbox: int = Field(90, ge=1)
    logs: int = Field(30, ge=1)  # delivery receipts, de-duplication ids, log files
    subscribers: int = Field(365, ge=1)  # inactive or opted-out subscribers, after the last change
    consent_ledger: int = Field(3650, ge=1)  # proof of consent: the 10-year limitation period


class PrivacyConfig(_Strict):
    notice_url: str = "/privacy"
    titolare: Titolare = Titolare()
    retention_days: RetentionDays = RetentionDays()
    # Folder of the log files (*.log, *.log.N) the purge empties after retention_days.logs.
    log_dir: Path = Path("var")


class ObservatoryConfig(_Strict):
    min_count: int = Field(5, ge=1)  # smaller counts are suppressed ("<k") in every report


class CatalogConfig(_Strict):
    seed_dir: Path = Path("catalog/data")


class ConsoleConfig(_Strict):
    """The operator console and its queue (the session cookie lives in the database)."""

    queue_timeout_minutes: int = Field(10, ge=1)  # then the resident is offered a callback
    minutes_per_case: int = Field(8, ge=1)  # for the waiting estimate shown to residents
    session_hours: int = Field(10, ge=1, le=72)
    # Login attempts (`limits` notation): one account from one address, one address over all
    # accounts, one account from anywhere (loose and short: no lock-out by a stranger).
    login_limit_per_account: str = "5 per 15 minutes"
    login_limit_per_ip: str = "20 per 15 minutes"
    login_limit_per_account_total: str = "30 per 5 minutes"
    tick_seconds: int = Field(15, ge=5)  # how often queue notices and timeouts are checked
    telegram_operators_chat_id: str | None = None  # group told of new requests (no personal data)


class TelegramConfig(_Strict):
    max_retries: int = Field(3, ge=0, le=10)  # resends after a 429 RetryAfter
    polling_timeout_seconds: int = Field(30, ge=1, le=50)  # long-polling wait of getUpdates
    timeout_seconds: float = Field(5.0, ge=0.2, le=60)  # per Bot API call, then retried
    # Telegram's limit on a bot's sends to all chats together ("about 30 messages per
    # second"); bots with paid broadcasts may raise it.
    overall_rate: int = Field(30, ge=1, le=1000)


class WhatsAppConfig(_Strict):
    # Approved template (Twilio Content SID, HX...) used outside the 24-hour window, with the
    # reply flattened into one variable; without it such replies are not sent.
    template_content_sid: str | None = Field(None, pattern=r"^HX[0-9a-fA-F]{32}$")
    template_variable: str = "1"
    template_max_chars: int = Field(900, ge=50, le=1024)
    window_hours: int = Field(24, ge=1, le=24)


class CampaignsConfig(_Strict):
    """Broadcasts: when they may go out, how fast, and the consent wording in force."""

    timezone: str = "Europe/Rome"  # the territory's (filled in by load_config)
    quiet_hours: str = Field("20:00-09:00", pattern=_RANGE.pattern)  # may wrap midnight
    skip_holidays: bool = True  # Italian public holidays count as quiet all day
    telegram_rate: float = Field(30.0, gt=0)  # messages per second (Bot API broadcast limit)
    whatsapp_rate: float = Field(80.0, gt=0)  # Twilio's default WhatsApp throughput
    concurrency: int = Field(16, ge=1, le=256)  # API calls in flight at once per sender
    max_attempts: int = Field(5, ge=1, le=20)  # for 429 and 5xx answers
    inflight_timeout_seconds: int = Field(300, ge=1)  # then a claimed row counts as uncertain
    wording_version: str = "2026-11"  # version of the opt-in sentence residents agree to


class AppConfig(_Strict):
    """Typed view of config.yml."""

    territory: Territory
    # The Social Points in force: the territory's, unless config.yml lists its own.
    social_points: tuple[SocialPoint, ...] = Field(min_length=1)
    nlu: NluConfig = NluConfig()
    channels: ChannelsConfig = ChannelsConfig()
    web: WebConfig = WebConfig()
    abuse: AbuseConfig = AbuseConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    observatory: ObservatoryConfig = ObservatoryConfig()
    catalog: CatalogConfig = CatalogConfig()
    console: ConsoleConfig = ConsoleConfig()
    telegram: TelegramConfig = TelegramConfig()
    whatsapp: WhatsAppConfig = WhatsAppConfig()
    campaigns: CampaignsConfig = CampaignsConfig()

    @model_validator(mode="after")
    def _one_territory(self) -> AppConfig:
        for point in self.social_points:
            if unknown := sorted(set(point.comuni) - set(self.territory.comuni)):
                raise ValueError(f"Social Point {point.id} serves unknown {', '.join(unknown)}")
        if self.campaigns.timezone != self.territory.timezone:
            raise ValueError(
                f"campaigns.timezone {self.campaigns.timezone} differs from the territory's "
                f"{self.territory.timezone}: remove it, the territory's applies"
            )
        return self


class Settings(BaseModel):
    """Everything the application needs, passed in explicitly (never imported deep)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    env: Env
    config: AppConfig

    @property
    def timezone(self) -> ZoneInfo:
        """Local time of the territory: opening hours, quiet hours, dates shown to staff."""
        return self.config.territory.zone

    @property
    def rasa_url(self) -> str:
        return self.env.RASA_URL or self.config.nlu.url

    @property
    def rasa_token(self) -> str | None:
        return self.env.RASA_TOKEN.get_secret_value() if self.env.RASA_TOKEN else None

    def nlu_client(self, url: str | None = None, token: str | None = None) -> NluClient:
        """The Rasa client with config.yml's timeout, retries and threshold."""
        nlu = self.config.nlu
        return NluClient(
            url or self.rasa_url,
            token=token if url else self.rasa_token,
            timeout=nlu.timeout_seconds,
            retries=nlu.retries,
            threshold=nlu.confidence_threshold,
            places=gazetteer(self.config.territory),
        )


def _first_error(exc: ValidationError, prefix: str) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"])
    return f"{prefix}{key}: {err['msg']}"


def load_config(path: Path) -> AppConfig:
    """Reads and validates config.yml.

    Raises:
        SettingsError: with one line naming the file and the key.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(f"FRONTDESK_CONFIG: file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML ({exc.__class__.__name__})") from exc
    raw = dict(raw or {})
    if "territory" in raw:
        try:
            territory = _territory(raw["territory"], path)
        except TerritoryError as exc:
            raise SettingsError(f"{path}: territory: {exc}") from exc
        raw["territory"] = territory
        raw.setdefault("social_points", territory.social_points)
        raw["campaigns"] = {"timezone": territory.timezone, **(raw.get("campaigns") or {})}
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(_first_error(exc, f"{path}: ")) from exc


def _territory(selector: object, config_path: Path) -> Territory:
    """config.yml's `territory:`: a shipped territory's name, a file's path, or inline data."""
    if isinstance(selector, str):
        return load_territory(territory_path(selector, config_path.parent))
    return parse_territory(selector, "inline")


def load_settings() -> Settings:
    """Loads environment and config.yml.

    Raises:
        SettingsError: with one line naming the key.
    """
    try:
        env = Env()
    except ValidationError as exc:
        raise SettingsError(_first_error(exc, "environment variable ")) from exc
    return Settings(env=env, config=load_config(env.FRONTDESK_CONFIG))
