"""The objects dbt's Jinja hands to SQL: relations, columns, and the error helpers raise.

``Relation`` renders as ``database.schema.identifier``. Identifiers are not quoted unless
they must be (a dash, a space, upper case): the SQL parser lower-cases unquoted names, so
plain rendering keeps a model's relation and the parser's name for it the same string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "BACKTICK_DIALECTS",
    "Column",
    "CompileProblem",
    "Relation",
    "quote_identifier",
]

# Dialects whose quoted identifiers use backticks; every other one uses double quotes.
BACKTICK_DIALECTS = frozenset({"bigquery", "spark", "spark2", "databricks", "hive", "mysql"})

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")


class CompileProblem(Exception):
    """Raised by the dbt helpers (``ref`` of an unknown model, a missing var, ...).

    The renderer turns it into a ``RenderError`` that carries the template line.
    """


def quote_identifier(name: str, dialect: str | None) -> str:
    """``name`` as SQL: bare when it is a plain lower-case identifier, else quoted."""
    if _PLAIN.match(name):
        return name
    quote = "`" if dialect in BACKTICK_DIALECTS else '"'
    return f"{quote}{name.replace(quote, quote * 2)}{quote}"


@dataclass(frozen=True)
class Relation:
    """A table or view (or an ephemeral model's CTE) as dbt's ``ref``/``source`` return it.

    Parts are kept lower-case, as the SQL parser names unquoted identifiers.
    """

    database: str | None
    schema: str | None
    identifier: str
    dialect: str | None = None
    type: str | None = None

    @classmethod
    def create(
        cls,
        database: str | None = None,
        schema: str | None = None,
        identifier: str | None = None,
        type: str | None = None,
        dialect: str | None = None,
        **_: Any,
    ) -> Relation:
        """``api.Relation.create(database=..., schema=..., identifier=...)``."""
        return cls(
            _lower(database), _lower(schema), (identifier or "").lower(), dialect, type
        )

    @property
    def name(self) -> str:
        return self.identifier

    @property
    def table(self) -> str:
        return self.identifier

    @property
    def is_cte(self) -> bool:
        return self.type == "cte"

    @property
    def is_table(self) -> bool:
        return self.type == "table"

    @property
    def is_view(self) -> bool:
        return self.type == "view"

    @property
    def dotted(self) -> str:
        """The unquoted dotted name, as a ``DatasetId`` names this relation."""
        return ".".join(p for p in (self.database, self.schema, self.identifier) if p)

    def include(
        self, database: bool = True, schema: bool = True, identifier: bool = True
    ) -> Relation:
        """A copy rendering only the chosen parts (dbt's ``relation.include(...)``)."""
        return replace(
            self,
            database=self.database if database else None,
            schema=self.schema if schema else None,
            identifier=self.identifier if identifier else "",
        )

    def incorporate(self, **kwargs: Any) -> Relation:
        """A copy with ``path={"schema": ...}`` or ``type=...`` changed."""
        path = kwargs.get("path") or {}
        return replace(
            self,
            database=_lower(path.get("database", self.database)),
            schema=_lower(path.get("schema", self.schema)),
            identifier=(path.get("identifier") or self.identifier).lower(),
            type=kwargs.get("type", self.type),
        )

    def render(self) -> str:
        """The relation as SQL text."""
        parts = (self.database, self.schema, self.identifier)
        return ".".join(quote_identifier(p, self.dialect) for p in parts if p)

    def __str__(self) -> str:
        return self.render()

    def __html__(self) -> str:  # Jinja's Markup protocol: render as text
        return self.render()


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Column:
    """A column as ``adapter.get_columns_in_relation`` returns it."""

    column: str
    data_type: str | None = None

    @property
    def name(self) -> str:
        return self.column

    @property
    def dtype(self) -> str | None:
        return self.data_type

    @property
    def quoted(self) -> str:
        return f'"{self.column}"'

    def is_string(self) -> bool:
        kind = (self.data_type or "").lower()
        return any(word in kind for word in ("char", "text", "string"))

    def is_number(self) -> bool:
        kind = (self.data_type or "").lower()
        return any(word in kind for word in ("int", "numeric", "decimal", "float", "double"))

    def string_size(self) -> int:
        match = re.search(r"\((\d+)\)", self.data_type or "")
        return int(match.group(1)) if match else 256

    def __str__(self) -> str:
        return self.column
