"""`frontdesk catalog validate|import|export|search`: the service catalogue from the shell."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bot.cli.common import fail, open_sessions, print_json, settings_or_exit
from bot.db.catalog_repo import load_services, upsert_services
from catalog.comuni import territory_comune
from catalog.loader import LoadResult, dump, load_path
from catalog.matching import CatalogIndex, Match, NeedProfile, match
from catalog.schema import Service
from catalog.taxonomy import FAMILIARI, NEED_CATEGORIES

catalog_app = typer.Typer(help="Catalogo dei servizi.", no_args_is_help=True)
PROGRESS_FROM = 50  # services: below this an import is instant and a bar is just noise


def _places() -> tuple[str, ...]:
    """The comuni a service may serve: the territory's and its neighbours (config.yml)."""
    return tuple(settings_or_exit().config.territory.places)


def _loaded_or_exit(path: Path) -> LoadResult:
    result = load_path(path, places=_places())
    for problem in result.problems:
        print(problem)
    return result


PathArg = Annotated[Path, typer.Argument(help="File .yml/.csv o cartella")]


@catalog_app.command("validate")
def validate(path: PathArg) -> None:
    """Checks a catalogue and lists every problem with file, line, record and field."""
    result = _loaded_or_exit(path)
    print_json({"valid": result.ok, "services": len(result.services),
                "problems": len(result.problems)})  # fmt: skip
    if not result.ok:
        fail(f"{len(result.problems)} problemi nel catalogo {path}")


@catalog_app.command("import")
def import_(
    path: PathArg,
    partial: Annotated[
        bool, typer.Option("--partial", help="Non disattivare i servizi assenti (import parziale).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Mostra cosa cambierebbe, senza salvare.")
    ] = False,
) -> None:
    """Imports a valid catalogue in one transaction (upsert by id, idempotent).

    Services in the database but not in the catalogue are marked inactive (kept for history,
    reactivated by a later import), unless --partial.
    """
    result = _loaded_or_exit(path)
    if not result.ok:
        print_json({"imported": 0, "problems": len(result.problems)})
        fail(f"catalogo non valido ({len(result.problems)} problemi): nulla importato")
    sessions = open_sessions()
    console = Console(stderr=True)
    show_bar = console.is_terminal and len(result.services) >= PROGRESS_FROM
    with Progress(console=console, transient=True, disable=not show_bar) as bar:
        task = bar.add_task("Import", total=len(result.services))
        with sessions() as session, session.begin():
            report = upsert_services(
                session,
                services=result.services,
                deactivate_missing=not partial,
                progress=lambda n: bar.advance(task, n),
            )
            if dry_run:
                session.rollback()
    out: dict[str, object] = dict(report.counts())
    if report.deactivated or report.missing:
        out["deactivated_ids" if report.deactivated else "missing_ids"] = list(
            report.deactivated or report.missing
        )
    if dry_run:
        out["dry_run"] = True
    print_json(out)


@catalog_app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", help="yaml oppure csv")] = "yaml",
    out: Annotated[Path | None, typer.Option("--out", help="File di destinazione")] = None,
    include_inactive: Annotated[
        bool, typer.Option("--all", help="Anche i servizi disattivati")
    ] = False,
) -> None:
    """Writes the imported catalogue as YAML or CSV (re-importable as is).

    With --out the last line is JSON; without it stdout carries only the catalogue.
    """
    if fmt not in ("yaml", "csv"):
        fail(f"formato {fmt!r} non previsto: yaml oppure csv")
    with open_sessions()() as session:
        services = load_services(session, include_inactive=include_inactive)
    text = dump(services, fmt=fmt)
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    print_json({"exported": len(services), "format": fmt, "out": str(out)})


def _match_json(m: Match) -> dict[str, object]:
    return {
        "id": m.service.id,
        "nome": m.service.nome,
        "categoria": m.service.categoria,
        "tipo": m.service.tipo.value,
        "score": m.score,
        "reasons": [{"code": n.code.value, "params": dict(n.params)} for n in m.reasons],
        "checks": [{"code": n.code.value, "params": dict(n.params)} for n in m.checks],
    }


def _services(catalogo: Path | None) -> Sequence[Service]:
    if catalogo is None:
        with open_sessions()() as session:
            return load_services(session)
    result = load_path(catalogo, places=_places())
    if not result.ok:
        fail(f"catalogo {catalogo} non valido: {result.problems[0]}")
    return result.services


@catalog_app.command("search")
def search(
    categoria: Annotated[str | None, typer.Option(help="Categoria (tutte se assente)")] = None,
    comune: Annotated[str | None, typer.Option(help="Comune di residenza")] = None,
    eta: Annotated[list[float] | None, typer.Option(help="Età in anni (ripetibile)")] = None,
    familiare: Annotated[str | None, typer.Option(help="Per chi: figlio, madre...")] = None,
    isee: Annotated[float | None, typer.Option(help="Valore ISEE in euro")] = None,
    orario: Annotated[str | None, typer.Option(help="Serve fino alle (HH:MM)")] = None,
    genitori_lavoratori: Annotated[
        bool | None, typer.Option("--genitori-lavoratori/--no-genitori-lavoratori")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Al massimo N risultati per categoria")] = None,
    oggi: Annotated[str | None, typer.Option(help="Data AAAA-MM-GG (default: oggi)")] = None,
    catalogo: Annotated[
        Path | None, typer.Option(help="Cerca in un file/cartella invece che nel database")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Solo la riga JSON")] = False,
) -> None:
    """Shows the services that match a need, as the bot would rank them."""
    if categoria is not None and categoria not in NEED_CATEGORIES:
        fail(f"categoria {categoria!r} non prevista: {', '.join(NEED_CATEGORIES)}")
    if familiare is not None and familiare not in FAMILIARI:
        fail(f"familiare {familiare!r} non previsto: {', '.join(FAMILIARI)}")
    if comune is not None:
        canon = territory_comune(comune, _places())
        if canon is None:
            fail(f"comune {comune!r} sconosciuto")
        comune = canon
    try:
        local_now = datetime.now(settings_or_exit().timezone)
        today = date.fromisoformat(oggi) if oggi else local_now.date()
    except ValueError:
        fail(f"data {oggi!r} non valida: usa AAAA-MM-GG")
    index = CatalogIndex(_services(catalogo))
    matches: list[Match] = []
    for cat in [categoria] if categoria else NEED_CATEGORIES:
        profile = NeedProfile(
            categoria=cat,
            comune=comune,
            eta=tuple(eta or ()),
            familiare=familiare,
            genitori_lavoratori=genitori_lavoratori,
            orario=orario,
            isee=isee,
        )
        matches.extend(match(index, profile, today=today, limit=limit).matches)
    if not as_json:
        _print_table(matches)
    print_json({"matches": [_match_json(m) for m in matches], "unmet": not matches})


def _print_table(matches: Sequence[Match]) -> None:
    table = Table("id", "categoria", "tipo", "score", "perché", "da verificare")
    for m in matches:
        reasons = ", ".join(n.code.value for n in m.reasons)
        checks = ", ".join(n.code.value for n in m.checks)
        table.add_row(m.service.id, m.service.categoria, m.service.tipo.value,
                      f"{m.score:.2f}", reasons, checks)  # fmt: skip
    Console(width=160).print(table)
