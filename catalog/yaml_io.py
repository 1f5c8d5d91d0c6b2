"""YAML catalogue files: parsing with line numbers, and writing."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from catalog.problems import Problem, error_items, field_path
from catalog.schema import Service, validate_service


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps times as text and refuses duplicate keys.

    YAML 1.1 reads an unquoted `16:30` as the base-60 integer 990; staff write hours
    unquoted, so sexagesimal numbers are not resolved here.
    """

    duplicates: list[tuple[str, yaml.Mark]]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                self.duplicates.append((str(key), key_node.start_mark))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    # An impossible date (2026-13-40) stays text, so validation reports it on its field.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)

_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _NUMBER_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# PyYAML's own number patterns minus the base-60 alternatives.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _node_line(node: yaml.Node, loc: Sequence[int | str]) -> int:
    """1-based line of the deepest node on the path `loc` (a key's line for mappings)."""
    line = node.start_mark.line
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if k.value == part), None)
            if hit is None:
                break
            line, node = hit[0].start_mark.line, hit[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1


def parse_yaml(
    text: str, file: str, places: Collection[str] | None = None
) -> tuple[list[Service], list[Problem]]:
    """Validates every record of one YAML catalogue file.

    The file is either a list of records or a mapping with the list under `servizi`.

    Args:
        text: the file's content.
        file: the name used in problems.
        places: the comuni a service may serve (None: not checked, see `validate_service`).

    Returns:
        The valid services and the problems found (every one, not only the first).
    """
    loader = _Loader(text)
    loader.duplicates = []
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return [], [Problem(file, line, None, None, f"YAML non valido: {exc}".splitlines()[0])]
    finally:
        loader.dispose()
    problems = [
        Problem(file, mark.line + 1, None, key, "chiave ripetuta nello stesso elemento")
        for key, mark in loader.duplicates
    ]
    records, nodes = _records(data, root)
    if records is None:
        return [], [
            *problems,
            Problem(file, 1, None, None, "atteso un elenco 'servizi:' di schede"),
        ]
    services: list[Service] = []
    for i, (record, node) in enumerate(zip(records, nodes, strict=True)):
        rid = record.get("id") if isinstance(record, dict) else None
        name = str(rid) if rid else f"#{i + 1}"
        if not isinstance(record, dict):
            problems.append(
                Problem(file, node.start_mark.line + 1, name, None, "scheda non valida")
            )
            continue
        try:
            services.append(validate_service(record, places))
        except ValidationError as exc:
            problems.extend(
                Problem(file, _node_line(node, loc), name, field_path(loc) or None, msg)
                for loc, msg in error_items(exc)
            )
    return services, problems


def _records(data: Any, root: yaml.Node | None) -> tuple[list[Any] | None, list[yaml.Node]]:
    if isinstance(data, dict) and isinstance(root, yaml.MappingNode) and set(data) == {"servizi"}:
        data = data["servizi"]
        root = root.value[0][1]
    if data is None:
        return [], []
    if not isinstance(data, list) or not isinstance(root, yaml.SequenceNode):
        return None, []
    return data, list(root.value)


def service_to_dict(service: Service) -> dict[str, Any]:
    """The record as plain data, without empty optional parts (what staff would write)."""
    return _prune(service.model_dump(mode="json"))


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def dump_yaml(services: Iterable[Service]) -> str:
    """The services as a YAML catalogue file (`servizi:` list), ordered as given."""
    body = {"servizi": [service_to_dict(s) for s in services]}
    return yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100)
