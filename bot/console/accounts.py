"""Creating operator accounts, shared by `frontdesk operator add` and the admin page."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from bot.console.auth import hash_password
from bot.db import console_repo
from bot.db.console_models import Role
from bot.settings import Settings

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 12


class AccountError(ValueError):
    """The account cannot be created; the message is one Italian line for the user."""


def create_operator(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    email: str,
    name: str,
    password: str,
    role: str,
    social_points: Sequence[str],
) -> int:
    """Validates and stores a new account; returns its id.

    Raises:
        AccountError: bad e-mail, short password, unknown role or Social Point, duplicate.
    """
    if not EMAIL.match(email.strip()):
        raise AccountError("e-mail non valida")
    if not name.strip():
        raise AccountError("il nome è obbligatorio")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"la password deve avere almeno {MIN_PASSWORD} caratteri")
    if role not in {r.value for r in Role}:
        raise AccountError("ruolo sconosciuto (operator o admin)")
    known = {p.id for p in settings.config.social_points}
    if unknown := sorted(set(social_points) - known):
        raise AccountError(f"Social Point sconosciuto: {', '.join(unknown)}")
    if role == Role.OPERATOR.value and not social_points:
        raise AccountError("un operatore appartiene ad almeno un Social Point")
    digest = hash_password(password)  # slow on purpose: outside the transaction
    try:
        with sessions.begin() as session:
            operator = console_repo.add_operator(
                session,
                email=email,
                name=name,
                password_hash=digest,
                role=Role(role),
                social_points=social_points,
            )
            return operator.id
    except console_repo.DuplicateEmail as exc:
        raise AccountError("esiste già un operatore con questa e-mail") from exc
