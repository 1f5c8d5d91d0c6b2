"""Typed validation problems: where (file, line, record, field) and what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a catalogue file.

    Attributes:
        file: the file name as given to the loader.
        line: 1-based line of the record or field (None when unknown, e.g. a missing file).
        record: the service id, or `#N` (1-based position) when the id itself is missing.
        field: dotted path of the field, e.g. `requisiti.isee_max` or `sedi[0].comune`.
        message: what is wrong, in Italian for the network's staff.
    """

    file: str
    line: int | None
    record: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        what = " ".join(p for p in (f"[{self.record}]" if self.record else "", self.field) if p)
        return f"{where}: {what + ': ' if what else ''}{self.message}"

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return asdict(self)


def field_path(loc: Sequence[int | str]) -> str:
    """`('sedi', 0, 'comune')` -> `sedi[0].comune`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def error_items(exc: ValidationError) -> list[tuple[tuple[int | str, ...], str]]:
    """(location, Italian-friendly message) for every error of a pydantic validation."""
    items = []
    for err in exc.errors(include_url=False):
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "campo obbligatorio mancante"
        elif err["type"] == "extra_forbidden":
            msg = "campo non previsto (errore di battitura?)"
        items.append((tuple(err["loc"]), msg))
    return items
