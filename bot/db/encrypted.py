"""Encrypted columns: SQLAlchemy TypeDecorators over bot.crypto's keyring.

Models declare them, the ORM and Core queries see plain text, the database sees only
Fernet tokens. Addresses also get a blind index (`address_index_default`) to look rows up by.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, operators
from sqlalchemy.types import TypeDecorator

from bot.crypto import address_index, decrypt, encrypt, rotate_token


def address_index_default(context: Any) -> str:
    """Column default: the index of the row's channel and (plain) address being inserted.

    Defaults run before the bind processors, so the address here is still the plain value
    that EncryptedText will turn into a token.
    """
    params = context.get_current_parameters()
    return address_index(params["channel"], params["address"])


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
