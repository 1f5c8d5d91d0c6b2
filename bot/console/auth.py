"""Console security: argon2 passwords, database-backed sessions, CSRF tokens, login limits.

The cookie holds only a random token; the database keeps its SHA-256, the operator and a
per-session CSRF token (OWASP's synchronizer-token pattern). Logging out or disabling an
account deletes the row, so a copied cookie stops working at once.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request
from limits import parse
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from bot.db import console_repo
from bot.db.base import utcnow
from bot.db.console_models import Operator
from bot.services import app_services
from bot.settings import ConsoleConfig, Settings

SESSION_COOKIE = "fd_console"
LOGIN_CSRF_COOKIE = "fd_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 defaults


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; unknown accounts cost the same time (no user probing)."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


class LoginRequired(Exception):
    """No valid session: pages redirect to the login form, the rest answer 401."""


class CsrfFailed(Exception):
    """A POST without the session's CSRF token."""


@dataclass(frozen=True)
class Principal:
    """The logged-in operator as the routes see it."""

    operator_id: int
    name: str
    role: str
    social_points: tuple[str, ...]
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def points(self) -> tuple[str, ...] | None:
        """The Social Points whose queues this operator sees (None: every one, for admins)."""
        return None if self.is_admin else self.social_points

    @classmethod
    def of(cls, operator: Operator, csrf: str) -> Principal:
        return cls(operator.id, operator.name, operator.role, tuple(operator.social_points), csrf)


class LoginLimiter:
    """Login attempts counted atomically in the shared `limits` storage (bot.web.limits).

    Each attempt is counted *before* the password is checked, by one atomic hit per key (a
    Lua script on Redis), so concurrent attempts cannot slip past the check, and with Redis
    every worker and host counts together. Three keys: the account from one address
    (`login_limit_per_account`, tight), the address over all accounts (`login_limit_per_ip`)
    and the account over all addresses (`login_limit_per_account_total`, loose and short),
    so a stranger guessing from one place never locks the operator out of their own office.
    A successful login clears the account-and-address counter.
    """

    def __init__(self, config: ConsoleConfig, storage: Storage | None = None) -> None:
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())
        self._pair = parse(config.login_limit_per_account)
        self._per_ip = parse(config.login_limit_per_ip)
        self._account = parse(config.login_limit_per_account_total)

    def attempt(self, *, ip: str, email: str) -> bool:
        """Counts one attempt; False when any of the three limits is spent."""
        return (
            self._limiter.hit(self._pair, "login-pair", email, ip)
            and self._limiter.hit(self._per_ip, "login-ip", ip)
            and self._limiter.hit(self._account, "login-account", email)
        )

    def succeeded(self, *, ip: str, email: str) -> None:
        self._limiter.clear(self._pair, "login-pair", email, ip)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


def open_session(request: Request, operator: Operator) -> str:
    """Stores a new login for the operator and returns the cookie value."""
    settings: Settings = app_services(request).settings
    token = new_token()
    expires = utcnow() + timedelta(hours=settings.config.console.session_hours)
    with app_services(request).sessions.begin() as session:
        operator = session.merge(operator)
        console_repo.create_session(
            session, operator=operator, token=token, csrf_token=new_token(), expires_at=expires
        )
    return token


def principal(request: Request) -> Principal:
    """FastAPI dependency: the logged-in operator, or LoginRequired."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    with app_services(request).sessions() as session:
        found = console_repo.session_operator(session, token=token)
    if found is None:
        raise LoginRequired()
    return Principal.of(*found)


async def check_csrf(request: Request, who: Principal) -> None:
    """Every state-changing request carries the session's token (form field or header)."""
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()  # Starlette caches it for the route's own Form fields
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not tokens_match(who.csrf, given):
        raise CsrfFailed()


def secure_cookies(settings: Settings) -> bool:
    """Cookies get the Secure flag when the public address is https."""
    return (settings.env.PUBLIC_BASE_URL or "").lower().startswith("https://")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def csrf_principal(request: Request) -> Principal:
    """FastAPI dependency for POST routes: logged in and carrying the CSRF token."""
    from starlette.concurrency import run_in_threadpool

    who = await run_in_threadpool(principal, request)
    await check_csrf(request, who)
    return who
