"""Quick replies with variables, filled in for one case when the operator inserts them.

`{nome}` the operator's display name, `{servizio}` the last service the bot proposed,
`{comune}` the resident's comune, `{sede}` the case's Social Point. A variable without a
value for this case, or an unknown one, is left as written so the operator sees it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.catalog_models import CatalogServiceRow
from bot.db.models import Handoff

VARIABLES = ("nome", "servizio", "comune", "sede")
_VARIABLE = re.compile(r"\{([^{}\s]{1,40})\}")


def unknown(text: str) -> list[str]:
    """The variables in `text` that are not in VARIABLES, in order of appearance (once)."""
    return list(dict.fromkeys(n for n in _VARIABLE.findall(text) if n not in VARIABLES))


def render(text: str, values: Mapping[str, str | None]) -> tuple[str, list[str]]:
    """`text` with its variables filled; also the ones left unfilled (unknown or no value)."""
    left: list[str] = []

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if not value:
            left.append(match.group(0))
            return match.group(0)
        return value

    filled = _VARIABLE.sub(fill, text)
    return filled, list(dict.fromkeys(left))


def values_for(
    session: Session, *, handoff: Handoff, operator_name: str, point_name: str
) -> dict[str, str | None]:
    """The variables' values for one case (the service name read from the catalogue)."""
    summary = handoff.summary or {}
    proposed = summary.get("servizi_suggeriti") or []
    service = None
    if proposed:
        last = str(proposed[-1])
        service = (
            session.scalar(select(CatalogServiceRow.nome).where(CatalogServiceRow.id == last))
            or None
        )
    return {
        "nome": operator_name,
        "servizio": service,
        "comune": summary.get("comune"),
        "sede": point_name,
    }
