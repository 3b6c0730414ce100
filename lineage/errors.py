"""Silverline's one error hierarchy.

::

    LineageError                    base of everything Silverline raises on purpose
    ├── ConfigError                 lineage.yml / options / a schema file is invalid
    ├── InputError                  a file or object given by the user cannot be read
    │   └── SqlParseError           SQL that does not parse (file, statement, line, column)
    ├── CatalogError                the catalog store cannot be read or written
    ├── SchemaDriftError            a job declared ``on_drift="fail"`` wrote a schema that
    │                               breaks its documented one (never retried)
    └── ConnectorError              an outside system (DataHub, OpenLineage, warehouse) failed
        ├── TemporaryConnectorError     worth retrying later: no answer, a timeout, HTTP 408,
        │                               429 or 5xx, a busy broker or database, a full disk
        └── PermanentConnectorError     retrying cannot help: refused credentials or content
                                        (other 4xx), not the expected server, bad settings,
                                        no permission to write a file

Each error carries the context a user needs to find the problem: the file, line and
object it is about, shown in ``str(error)``. Third-party exceptions are translated at
the boundary, once per connector (``connectors.datahub.errors``,
``connectors.openlineage.errors``), into one of the two kinds of ``ConnectorError``:
whoever retries or spools (the OpenLineage emitter and spool, the DataHub REST sink)
does so for temporary errors only. A plain ``ConnectorError`` says nothing either way.
"""

from __future__ import annotations

__all__ = [
    "CatalogError",
    "ConfigError",
    "ConnectorError",
    "InputError",
    "LineageError",
    "PermanentConnectorError",
    "SchemaDriftError",
    "SqlParseError",
    "TemporaryConnectorError",
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


class SchemaDriftError(LineageError):
    """Raised by a job declared ``@job(..., on_drift="fail")`` when an output's schema
    breaks its documented schema: the run ends FAIL with this message, and it is not
    retried (running again writes the same schema).

    ``datasets`` names the datasets, ``changes`` each breaking change in a few words.
    """

    def __init__(
        self,
        message: str,
        *,
        datasets: tuple[str, ...] = (),
        changes: tuple[str, ...] = (),
        obj: str | None = None,
    ) -> None:
        self.datasets = datasets
        self.changes = changes
        super().__init__(message, obj=obj)


class ConnectorError(LineageError):
    """Raised when an outside system (DataHub, an OpenLineage backend, a warehouse) fails.

    Connectors raise one of the two subclasses below, which say whether retrying can help;
    catch ``ConnectorError`` itself to handle both alike.
    """


class TemporaryConnectorError(ConnectorError):
    """Raised when an outside system failed in a way that may pass: it did not answer, timed
    out, answered HTTP 408, 429 or 5xx, was busy or out of space. Retrying later may work."""


class PermanentConnectorError(ConnectorError):
    """Raised when an outside system refused in a way that retrying cannot change: the
    credentials or the content were refused (other HTTP 4xx), the server is not the one
    expected, a setting is invalid, or a file cannot be written (permissions, a file where a
    folder should be). Something must be fixed first."""
