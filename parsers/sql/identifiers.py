"""Identifier case per dialect: which spellings of a name are the same object.

Every name is reported in one canonical form: unquoted identifiers in lower case (also
for Snowflake, whose canonical case is upper), a quoted identifier in lower case too
when the engine takes it for the unquoted name, else as written::

    snowflake  "ID"  = id  -> id       "Id" is its own column -> Id
    postgres   "id"  = id  -> id       "Id" is its own column -> Id
    bigquery   `Id`  = id  -> id       (columns are case-insensitive; tables keep case)
    tsql       [Id]  = id  -> id       (case-insensitive default collation)

The engine's rules are sqlglot's (``Dialect.normalization_strategy`` and
``Dialect.normalize_identifier``), not ours.
"""

from __future__ import annotations

from functools import lru_cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from parsers.sql.names import LOWERCASE_DIALECT

__all__ = ["normalize_case"]


def normalize_case(expression: exp.Expr, dialect_name: str | None) -> exp.Expr:
    """``expression`` with every identifier in its canonical form (modified in place)."""
    expression = normalize_identifiers(expression, dialect=LOWERCASE_DIALECT)
    dialect = _dialect(dialect_name)
    if dialect.normalization_strategy in _KEEP_QUOTED:
        # MySQL: a quoted name is exactly as written; Postgres: a quoted name with an
        # upper-case letter is never what an unquoted one folds to.
        return expression
    for node in expression.find_all(exp.Identifier):
        if node.quoted and isinstance(node.this, str) and node.this != node.this.lower():
            _fold_quoted(node, dialect)
    return expression


_KEEP_QUOTED = (NormalizationStrategy.CASE_SENSITIVE, NormalizationStrategy.LOWERCASE)


@lru_cache(maxsize=64)
def _dialect(name: str | None) -> Dialect:
    return Dialect.get_or_raise(name)


def _fold_quoted(node: exp.Identifier, dialect: Dialect) -> None:
    """Lower-case a quoted identifier the engine takes for the unquoted name."""
    text: str = node.this
    # In place, so dialects whose rule depends on where the name sits see its parent
    # (BigQuery folds columns but keeps table names as written).
    folded = dialect.normalize_identifier(node).name
    if folded != text:
        node.set("this", folded.lower())
        return
    # Case-sensitive quoting: "ID" on Snowflake is what unquoted id folds to.
    unquoted = dialect.normalize_identifier(exp.to_identifier(text, quoted=False))
    if isinstance(unquoted, exp.Identifier) and unquoted.name == text:
        node.set("this", text.lower())
