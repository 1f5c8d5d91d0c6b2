"""CSV catalogue files: every field of the record in one row, for spreadsheets.

Nested fields become dotted columns (`costo.modello`). List cells hold one item per line;
a `sedi` line is `nome; indirizzo; comune[; lat; lon]` and an `orari.fasce` line is
`lun,mar,mer 07:30-18:00`. Booleans are written `sì`/`no`. An empty cell means "not given".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable
from typing import Any

from pydantic import ValidationError

from catalog.problems import Problem, error_items, field_path
from catalog.schema import Service, validate_service
from catalog.yaml_io import service_to_dict

COLUMNS: tuple[str, ...] = (
    "id", "nome", "descrizione", "categoria", "tipo", "punto_accesso", "destinatari",
    "familiari", "eta_min", "eta_max",
    "requisiti.comuni_residenza", "requisiti.genitori_lavoratori", "requisiti.isee_max",
    "requisiti.isee_tipo", "requisiti.certificazioni", "requisiti.nota",
    "ente_titolare", "erogatore", "accreditamento", "area_servita", "sedi",
    "orari.fasce", "orari.nota", "periodo_attivita.dal", "periodo_attivita.al",
    "periodo_attivita.mesi", "costo.modello", "costo.importo", "costo.unita",
    "costo.percentuale", "costo.tetto", "costo.nota", "accesso.canali", "accesso.passi",
    "accesso.documenti", "accesso.finestra_domanda.dal", "accesso.finestra_domanda.al",
    "contatti.telefono", "contatti.email", "contatti.web", "richiede_valutazione", "fonte",
    "data_verifica", "provenienza",
)  # fmt: skip
LISTS = frozenset(
    {
        "familiari", "requisiti.comuni_residenza", "requisiti.certificazioni", "area_servita",
        "periodo_attivita.mesi", "accesso.canali", "accesso.passi", "accesso.documenti",
    }
)  # fmt: skip
SEDE_KEYS = ("nome", "indirizzo", "comune", "lat", "lon")
_FASCIA = re.compile(r"^\s*([a-z, ]+?)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = prefix + key
        if isinstance(value, dict) and name not in COLUMNS:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _cell(column: str, value: Any) -> str:
    if column == "sedi":
        return "\n".join("; ".join(str(s[k]) for k in SEDE_KEYS if k in s) for s in value)
    if column == "orari.fasce":
        return "\n".join(f"{','.join(f['giorni'])} {f['dalle']}-{f['alle']}" for f in value)
    if isinstance(value, list):
        return "\n".join(_cell(column, v) for v in value)
    if isinstance(value, bool):
        return "sì" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def dump_csv(services: Iterable[Service]) -> str:
    """The services as CSV text with a header row of `COLUMNS`."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for service in services:
        flat = _flatten(service_to_dict(service))
        writer.writerow({c: _cell(c, flat[c]) if c in flat else "" for c in COLUMNS})
    return buf.getvalue()


def _parse_cell(column: str, text: str) -> Any:
    """The cell as record data; raises ValueError for a malformed sedi/fasce line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if column == "sedi":
        sedi = []
        for line in lines:
            parts = [p.strip() for p in line.split(";")]
            if len(parts) not in (3, 5):
                raise ValueError(f"sede {line!r}: attesi 'nome; indirizzo; comune[; lat; lon]'")
            sedi.append(
                dict(zip(("nome", "indirizzo", "comune", "lat", "lon"), parts, strict=False))
            )
        return sedi
    if column == "orari.fasce":
        fasce = []
        for line in lines:
            m = _FASCIA.match(line)
            if m is None:
                raise ValueError(f"fascia {line!r}: attesa 'lun,mar 08:00-12:30'")
            giorni = [g.strip() for g in m.group(1).split(",") if g.strip()]
            fasce.append({"giorni": giorni, "dalle": m.group(2), "alle": m.group(3)})
        return fasce
    return lines if column in LISTS else text.strip()


def _unflatten(row: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for column, value in row.items():
        *parents, leaf = column.split(".")
        node = record
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return record


def _column_of(loc: tuple[int | str, ...]) -> str:
    """The CSV column holding the field at `loc` (the longest matching dotted prefix)."""
    path = field_path(loc)
    best = ""
    for column in COLUMNS:
        if (path == column or path.startswith((column + ".", column + "["))) and len(column) > len(
            best
        ):
            best = column
    return best or path


def parse_csv(
    text: str, file: str, places: Collection[str] | None = None
) -> tuple[list[Service], list[Problem]]:
    """Validates every row of one CSV catalogue file (header row required).

    Args:
        text: the file's content.
        file: the name used in problems.
        places: the comuni a service may serve (None: not checked, see `validate_service`).

    Returns:
        The valid services and all problems, each with the row's first line and its column.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in COLUMNS]
    problems = [Problem(file, 1, None, c, "colonna non prevista") for c in unknown]
    if "id" not in header:
        problems.append(Problem(file, 1, None, "id", "manca la colonna 'id'"))
        return [], problems
    services: list[Service] = []
    line = reader.line_num + 1
    for i, row in enumerate(reader):
        start, line = line, reader.line_num + 1  # a quoted cell may span several lines
        name = (row.get("id") or "").strip() or f"#{i + 1}"
        flat: dict[str, Any] = {}
        bad = False
        for column in COLUMNS:
            cell = row.get(column)
            if not cell or not cell.strip():
                continue
            try:
                flat[column] = _parse_cell(column, cell)
            except ValueError as exc:
                problems.append(Problem(file, start, name, column, str(exc)))
                bad = True
        if bad:
            continue
        try:
            services.append(validate_service(_unflatten(flat), places))
        except ValidationError as exc:
            problems.extend(
                Problem(file, start, name, _column_of(loc) or None, msg)
                for loc, msg in error_items(exc)
            )
    return services, problems
