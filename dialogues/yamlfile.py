"""YAML reading that keeps line numbers and reports duplicate keys, for writer-friendly problems."""

from __future__ import annotations

import re
from typing import Any

import yaml

_DROPPED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}


class _Loader(yaml.CSafeLoader):
    """SafeLoader with YAML 1.2-like scalars: `ja`, `yes`, `no` and `8:30` stay text."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


class YMap(dict[str, Any]):
    """A YAML mapping that remembers its line and the line of each key."""

    line: int
    key_lines: dict[str, int]


class YList(list[Any]):
    """A YAML sequence that remembers its line and the line of each item."""

    line: int
    item_lines: list[int]


class YamlError(Exception):
    """The file is not valid YAML; `line` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def line_of(value: Any, default: int = 1) -> int:
    """The line where a YMap or YList starts, else `default`."""
    return int(getattr(value, "line", default))


def parse(text: str) -> tuple[Any, list[tuple[str, int]]]:
    """The document in `text` with line info, and the (key, line) of every duplicate key."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlError(str(exc.problem or exc.context or "YAML error"), line) from exc
    except yaml.YAMLError as exc:
        raise YamlError(str(exc), 1) from exc
    finally:
        loader.dispose()
    duplicates: list[tuple[str, int]] = []
    if root is None:
        return None, duplicates
    constructor = _Loader("")
    try:
        return _convert(root, constructor, duplicates), duplicates
    except yaml.YAMLError as exc:
        raise YamlError(str(exc), 1) from exc
    finally:
        constructor.dispose()


def _convert(node: yaml.Node, constructor: _Loader, duplicates: list[tuple[str, int]]) -> Any:
    if isinstance(node, yaml.MappingNode):
        mapping = YMap()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            key = str(constructor.construct_object(key_node, deep=True))
            key_line = key_node.start_mark.line + 1
            if key in mapping:
                duplicates.append((key, key_line))
                continue
            mapping[key] = _convert(value_node, constructor, duplicates)
            mapping.key_lines[key] = key_line
        return mapping
    if isinstance(node, yaml.SequenceNode):
        items = YList()
        items.line = node.start_mark.line + 1
        items.item_lines = []
        for item in node.value:
            items.append(_convert(item, constructor, duplicates))
            items.item_lines.append(item.start_mark.line + 1)
        return items
    return constructor.construct_object(node, deep=True)
