"""YAML and JSON documents with the line of every value, for errors that point at a line.

Contracts are small hand-written files: each is composed into PyYAML nodes with the safe
loader (no Python objects), then walked into plain values while recording the 1-based line
of each path (``("schema", 0, "fields", 1, "name")``). The walk counts nodes, so aliases
that expand past ``MAX_NODES`` (a "billion laughs" file) are refused before any size of
memory is spent, and a self-referencing alias cannot loop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml

from lineage.errors import InputError

__all__ = ["MAX_NODES", "ContractError", "Document", "Path", "load_document", "load_json_document"]

MAX_NODES = 100_000  # far above any real contract; a few milliseconds of walking at most

Path = tuple[str | int, ...]


class ContractError(InputError):
    """A contract file that cannot be read as a contract: file, line, what is wrong.

    ``contract`` holds what could still be read when the problems were per item (an
    unknown expectation among good ones), else None; ``issues`` lists every problem.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        contract: Any = None,
        issues: tuple[Any, ...] = (),
    ) -> None:
        self.contract = contract
        self.issues = issues
        super().__init__(message, file=file, line=line)


@dataclass(frozen=True)
class Document:
    """One parsed file: its plain value and the line where each path starts."""

    file: str
    value: Any
    lines: dict[Path, int] = field(default_factory=dict, hash=False)

    def line(self, path: Path) -> int | None:
        """The line of ``path``, else of its nearest parent that has one."""
        while True:
            found = self.lines.get(path)
            if found is not None or not path:
                return found
            path = path[:-1]


def load_document(text: str, file: str) -> Document:
    """``text`` (YAML, or JSON which YAML reads too) as a ``Document``.

    Raises:
        ContractError: not YAML / JSON, or aliases past ``MAX_NODES``; with the line.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Path, int] = {}
        value = None if node is None else _Walk(loader, lines).value(node, ())
    except ContractError as exc:
        raise ContractError(exc.message, file=file, line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ContractError(f"not valid YAML: {exc.problem or exc}", file=file,
                            line=None if mark is None else mark.line + 1) from None
    except yaml.YAMLError as exc:
        raise ContractError(f"not valid YAML: {exc}", file=file) from None
    except RecursionError:
        raise ContractError("document nested too deeply", file=file) from None
    finally:
        loader.dispose()
    return Document(file, value, lines)


def load_json_document(text: str, file: str) -> Document:
    """JSON that YAML cannot read (tabs in odd places, ...): values without lines."""
    try:
        return Document(file, json.loads(text))
    except json.JSONDecodeError as exc:
        raise ContractError(f"not valid JSON: {exc.msg}", file=file, line=exc.lineno) from None


class _Walk:
    def __init__(self, loader: yaml.SafeLoader, lines: dict[Path, int]) -> None:
        self.loader = loader
        self.lines = lines
        self.count = 0

    def value(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise ContractError(f"document expands past {MAX_NODES} values (YAML aliases?)",
                                line=node.start_mark.line + 1)
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # YAML merge keys (<<: *base)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.scalar(key_node)
                self.lines[(*path, key)] = key_node.start_mark.line + 1
                out[key] = self.value(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise ContractError("a mapping key must be a plain value",
                                line=node.start_mark.line + 1)
        value = self.loader.construct_object(node)
        if isinstance(value, datetime | date):  # unquoted dates mean their ISO text here
            return value.isoformat()
        return value
