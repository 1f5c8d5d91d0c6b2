"""Reads a catalogue (one file or a folder of YAML/CSV files) and reports every problem."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from catalog.csv_io import dump_csv, parse_csv
from catalog.problems import Problem
from catalog.schema import Service
from catalog.yaml_io import dump_yaml, parse_yaml

SUFFIXES = {".yml": "yaml", ".yaml": "yaml", ".csv": "csv"}


@dataclass(frozen=True)
class LoadResult:
    """What a catalogue path holds.

    Attributes:
        services: every service, sorted by id; empty when there is any problem, because
            an invalid catalogue must never be partly imported.
        problems: every problem found, in file and line order.
        files: the files read.
    """

    services: tuple[Service, ...]
    problems: tuple[Problem, ...]
    files: tuple[Path, ...]

    @property
    def ok(self) -> bool:
        """True when the catalogue can be imported."""
        return not self.problems


def parse_text(
    text: str, *, fmt: str, file: str = "<testo>", places: Collection[str] | None = None
) -> tuple[list[Service], list[Problem]]:
    """Parses one catalogue text in `fmt` ("yaml" or "csv"); `places` as in `load_path`."""
    if fmt == "csv":
        return parse_csv(text, file, places)
    if fmt == "yaml":
        return parse_yaml(text, file, places)
    raise ValueError(f"unknown format {fmt!r}")


def catalogue_files(path: Path) -> list[Path]:
    """The catalogue files of a path: the file itself, or the folder's YAML/CSV files."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
    return [path]


def load_path(path: Path | str, *, places: Collection[str] | None = None) -> LoadResult:
    """Loads and validates a catalogue file or folder.

    Args:
        path: a `.yml`/`.yaml`/`.csv` file, or a folder containing them.
        places: the comuni a service may serve (the territory's `places`); None only
            tidies the names (for services already checked).

    Returns:
        The services (only if there are no problems at all) and every problem, including
        ids repeated across files.
    """
    path = Path(path)
    if not path.exists():
        return LoadResult((), (Problem(str(path), None, None, None, "percorso inesistente"),), ())
    files = catalogue_files(path)
    services: list[Service] = []
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for file in files:
        fmt = SUFFIXES.get(file.suffix.lower())
        if fmt is None:
            problems.append(Problem(str(file), None, None, None, "formato non supportato"))
            continue
        try:
            text = file.read_text(encoding="utf-8-sig")  # -sig: spreadsheets add a BOM
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(file), None, None, None, f"file illeggibile: {exc}"))
            continue
        found, found_problems = parse_text(text, fmt=fmt, file=str(file), places=places)
        problems.extend(found_problems)
        for service in found:
            if service.id in first_seen:
                where = first_seen[service.id]
                problems.append(
                    Problem(str(file), None, service.id, "id", f"id ripetuto (già in {where})")
                )
            else:
                first_seen[service.id] = str(file)
                services.append(service)
    if not files:
        problems.append(Problem(str(path), None, None, None, "nessun file .yml/.yaml/.csv"))
    ordered = tuple(sorted(services, key=lambda s: s.id)) if not problems else ()
    return LoadResult(ordered, tuple(problems), tuple(files))


def dump(services: list[Service] | tuple[Service, ...], *, fmt: str) -> str:
    """The services as a catalogue text in `fmt` ("yaml" or "csv"), sorted by id."""
    ordered = sorted(services, key=lambda s: s.id)
    if fmt == "csv":
        return dump_csv(ordered)
    if fmt == "yaml":
        return dump_yaml(ordered)
    raise ValueError(f"unknown format {fmt!r}")
