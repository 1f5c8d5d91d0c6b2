"""Encryption at rest of free texts (message texts, operator notes, handoff summaries,
callback phones, consent evidence).

Fernet (AES-128-CBC + HMAC-SHA256) through MultiFernet: the first key encrypts, every key
decrypts, so a key can be rotated while old rows are still readable. Keys come from
`FRONTDESK_DATA_KEY` (comma-separated, newest first); without it the embedded default keeps
one in `var/data.key`, created on first use.

The column types are SQLAlchemy TypeDecorators: models declare them, the ORM and Core
queries see plain text, the database sees only tokens. The keyring is process-wide because
a column type cannot receive settings; `configure` sets it explicitly (app, CLI, tests).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import JSON, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, operators
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

ENV_VAR = "FRONTDESK_DATA_KEY"
DEFAULT_KEY_FILE = Path("var/data.key")
# Fernet tokens are url-safe base64 of a version byte 0x80: they all start with this.
TOKEN_PREFIX = "gAAAAA"

_keys: list[str] = []


class DataKeyError(Exception):
    """The data key is missing, malformed or cannot decrypt a stored value."""


def parse_keys(value: str) -> list[str]:
    """Splits `FRONTDESK_DATA_KEY` into keys, checking each one.

    Raises:
        DataKeyError: when a key is not a valid Fernet key.
    """
    keys = [k.strip() for k in value.split(",") if k.strip()]
    if not keys:
        raise DataKeyError(f"{ENV_VAR}: empty")
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise DataKeyError(f"{ENV_VAR}: not a Fernet key (32 url-safe base64 bytes)") from exc
    return keys


def key_file_keys(path: Path = DEFAULT_KEY_FILE) -> list[str]:
    """The keys of the embedded default's key file, creating it with a new key if absent."""
    if not path.exists():
        _create_key_file(path)
    return parse_keys(path.read_text(encoding="utf-8").replace("\n", ","))


def _create_key_file(path: Path) -> None:
    """Writes a new key file readable by its owner only, atomically.

    The key goes into a private temporary file (created 0600 by `os.open`, never wider, and
    `fchmod`ed in case the umask removed bits) that is then hard-linked to its name: the link
    fails if another process got there first, and nobody ever reads a half-written key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, Fernet.generate_key() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
        log.warning("created a new data encryption key in %s (set %s in production)", path, ENV_VAR)
    except FileExistsError:  # another worker created it meanwhile: use theirs
        pass
    finally:
        tmp.unlink()


def require_key(database_url: str, key: str | None) -> None:
    """Refuses a shared database without `FRONTDESK_DATA_KEY`.

    Only the embedded SQLite may rely on the key file: with PostgreSQL several hosts (or
    workers on several machines) share the rows, and each would create a key of its own and
    be unable to read the others'.

    Raises:
        DataKeyError: one line naming the variable.
    """
    from sqlalchemy.engine import make_url

    from bot.db.engine import normalise_url

    if key or make_url(normalise_url(database_url)).get_backend_name() == "sqlite":
        return
    raise DataKeyError(
        f"{ENV_VAR} is required when DATABASE_URL is not the embedded SQLite"
        " (the same key on every host: see docs/privacy.md)"
    )


def environment_key() -> str | None:
    """FRONTDESK_DATA_KEY as the settings read it (process environment or .env file)."""
    from bot.settings import Env  # here: settings must not be needed to import the models

    try:
        key = Env().FRONTDESK_DATA_KEY
    except ValueError:  # another variable is invalid: that command will report it
        return os.environ.get(ENV_VAR)
    return key.get_secret_value() if key else None


def configure(value: str | None = None, *, key_file: Path = DEFAULT_KEY_FILE) -> None:
    """Sets the process keyring from a key list, the environment, or the key file."""
    global _keys
    value = value if value is not None else environment_key()
    _keys = parse_keys(value) if value else key_file_keys(key_file)


def existing_keys(key_file: Path = DEFAULT_KEY_FILE) -> list[str] | None:
    """The configured keys, else those of the environment or of an existing key file.

    None when there is no key yet: unlike `configure`, never creates the key file (a
    migration run from another folder or without the environment must not invent a key the
    application does not have).
    """
    if _keys:
        return list(_keys)
    value = environment_key()
    if value:
        return parse_keys(value)
    return key_file_keys(key_file) if key_file.exists() else None


def keyring() -> MultiFernet:
    """The MultiFernet of the configured keys (configured lazily on first use)."""
    if not _keys:
        configure()
    return _keyring(tuple(_keys))


# Memoised on the key list: every encrypted column of every row calls these, and building
# Fernet objects or deriving keys each time costs more than the encryption itself.
@functools.lru_cache(maxsize=4)
def _keyring(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


@functools.lru_cache(maxsize=16)
def _derived(keys: tuple[str, ...], purpose: str) -> list[bytes]:
    return [derive(k, purpose) for k in keys]


def derived_keys(purpose: str) -> list[bytes]:
    """One 256-bit key per data key (newest first), for `purpose` (HMAC-SHA256 derivation).

    Keyed hashes and signatures use these instead of the Fernet keys themselves, so each use
    has its own key and they rotate with FRONTDESK_DATA_KEY.
    """
    if not _keys:
        configure()
    return list(_derived(tuple(_keys), purpose))


def derive(key: str, purpose: str) -> bytes:
    """The 256-bit key for `purpose` derived from one Fernet key."""
    return hmac.new(base64.urlsafe_b64decode(key), purpose.encode(), hashlib.sha256).digest()


INDEX_PURPOSE = "address-index"


def address_index(channel: str, address: str, *, key: bytes | None = None) -> str:
    """The keyed blind index of a resident's address: HMAC-SHA256 (128 bits shown).

    The one pseudonym of an address in the database: lookups and unique keys use it, the
    logs quote its prefix. Unlike a plain hash it cannot be reversed by trying every phone
    number without the key. `key` defaults to the newest derived key (rotation passes the
    new one explicitly).
    """
    key = key or derived_keys(INDEX_PURPOSE)[0]
    return hmac.new(key, f"{channel}:{address}".encode(), hashlib.sha256).hexdigest()[:32]


def address_index_default(context: Any) -> str:
    """Column default: the index of the row's channel and (plain) address being inserted.

    Defaults run before the bind processors, so the address here is still the plain value
    that EncryptedText will turn into a token.
    """
    params = context.get_current_parameters()
    return address_index(params["channel"], params["address"])


def encrypt(text: str) -> str:
    """A Fernet token of the text, under the first key."""
    return keyring().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypts a token; values written before encryption existed are returned as they are."""
    if not token.startswith(TOKEN_PREFIX):
        return token
    try:
        return keyring().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise DataKeyError(f"stored value not readable with {ENV_VAR} (missing old key?)") from exc


def rotate_token(token: str) -> str:
    """Re-encrypts a token (or a legacy plaintext) under the first key."""
    if not token.startswith(TOKEN_PREFIX):
        return encrypt(token)
    return keyring().rotate(token.encode("ascii")).decode("ascii")


class EncryptedText(TypeDecorator[str]):
    """A Text column stored as a Fernet token."""

    impl = Text
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator[str]):
        """Refuses value comparisons: a token never equals the text (Fernet is randomised),
        so `Conversation.address == x` would silently match nothing. Compare the blind
        index instead (`address_hash == address_index(channel, x)`)."""

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            values = [o for o in other if o is not None and not isinstance(o, ClauseElement)]
            if op in _VALUE_OPERATORS and values:
                raise TypeError("encrypted column: compare its blind index, not its value")
            return super().operate(op, *other, **kwargs)

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value)

    @staticmethod
    def rotate_raw(raw: Any) -> Any:
        """The stored value re-encrypted under the first key."""
        return None if raw is None else rotate_token(raw)


_VALUE_OPERATORS = {
    operators.eq,
    operators.ne,
    operators.in_op,
    operators.not_in_op,
    operators.like_op,
    operators.ilike_op,
    operators.startswith_op,
    operators.contains_op,
}


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON column whose document is stored as `{"enc": token}`.

    Staying a JSON column keeps the schema (and the migrations) unchanged; rows written
    before encryption have no "enc" key and are read as they are.
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else {"enc": encrypt(json.dumps(value, ensure_ascii=False))}

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, dict) and set(value) == {"enc"}:
            return json.loads(decrypt(value["enc"]))
        return value

    @staticmethod
    def rotate_raw(raw: Any) -> Any:
        """The stored document re-encrypted under the first key."""
        if isinstance(raw, dict) and set(raw) == {"enc"}:
            return {"enc": rotate_token(raw["enc"])}
        return None if raw is None else {"enc": encrypt(json.dumps(raw, ensure_ascii=False))}
