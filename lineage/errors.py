"""Silverline's one error hierarchy.

::

    LineageError                    base of everything Silverline raises on purpose
    ├── ConfigError                 lineage.yml / options / a schema file is invalid
    ├── InputError                  a file or object given by the user cannot be read
    │   └── SqlParseError           SQL that does not parse (file, statement, line, column)
    ├── CatalogError                the catalog store cannot be read or written
    └── ConnectorError              an outside system (DataHub, OpenLineage, warehouse) failed

Each error carries the context a user needs to find the problem: the file, line and
object it is about, shown in ``str(error)``. Third-party exceptions are translated at
the boundary (``raise ConnectorError(...) from exc``).
"""

from __future__ import annotations

__all__ = [
    "CatalogError",
    "ConfigError",
    "ConnectorError",
    "InputError",
    "LineageError",
    "SqlParseError",
]


class LineageError(Exception):
    """Base class; ``file``, ``line`` and ``obj`` say where the problem is when known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        obj: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.obj = obj
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.file:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
        elif self.line is not None:
            where = f"line {self.line}"
        if self.obj:
            where = f"{where} ({self.obj})" if where else self.obj
        return f"{where}: {self.message}" if where else self.message


class ConfigError(LineageError):
    """Raised when configuration, a command-line option or a schema file is invalid."""


class InputError(LineageError):
    """Raised when a user-supplied file or object cannot be read or understood."""


class SqlParseError(InputError):
    """Raised (only with ``--strict`` or by callers that ask for it) for SQL that does not parse."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        statement_index: int | None = None,
        text: str | None = None,
    ) -> None:
        self.column = column
        self.statement_index = statement_index
        self.text = text
        obj = None if statement_index is None else f"statement {statement_index}"
        super().__init__(message, file=file, line=line, obj=obj)


class CatalogError(LineageError):
    """Raised when the catalog store cannot be opened, migrated, read or written."""


class ConnectorError(LineageError):
    """Raised when an outside system (DataHub, an OpenLineage backend, a warehouse) fails."""
