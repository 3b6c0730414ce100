"""One parsed SQL statement -> ``StatementLineage``: the dispatcher over statement kinds.

Each statement kind is reduced to "a query whose output columns land in a target":
INSERT and CREATE ... AS carry their query; MERGE, UPDATE and DELETE are rewritten into
a synthetic SELECT over the target joined to its sources, so one tracer
(``parsers.sql.tracer``) serves them all::

    MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.x = s.x
    -- traced as: SELECT s.x AS __p0 FROM t JOIN s ON t.id = s.id   (x <- __p0)

The kinds live in their own modules, all built on ``parsers.sql.binding`` (tables bound
to datasets, ``ScriptState``) and ``parsers.sql.query_tracing`` (a query traced into a
target):

* ``parsers.sql.queries``: SELECT, SELECT ... INTO, INSERT, CREATE, CACHE TABLE;
* ``parsers.sql.dml_rewrites``: MERGE, UPDATE, DELETE;
* ``parsers.sql.table_commands``: COPY, UNLOAD, DROP, TRUNCATE, ALTER.

Any other statement is ``OTHER``: no inputs, no outputs.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from lineage.model import SqlContext, StatementLineage
from parsers.sql.binding import ScriptState
from parsers.sql.dml_rewrites import DmlRewrites
from parsers.sql.identifiers import normalize_case
from parsers.sql.output_names import SourceText
from parsers.sql.queries import QueryStatements
from parsers.sql.shapes import prepare_shapes
from parsers.sql.table_commands import TableCommands

__all__ = ["ScriptState", "analyze_statement"]


def analyze_statement(
    expression: exp.Expr,
    *,
    context: SqlContext,
    state: ScriptState,
    source: SourceText | None = None,
) -> StatementLineage:
    """The lineage of one parsed statement (``expression`` is modified in place).

    ``source`` (the statement's text and tokens) lets unaliased output expressions be
    named by their text as written where the engine does so (``parsers.sql.output_names``).
    """
    # Names in one canonical case, so each spelling the engine equates is one column.
    expression = normalize_case(expression, context.dialect)
    notes = prepare_shapes(expression, context.dialect)
    statement = _Statement(expression, context, state)
    statement.source = source
    for note in notes:  # a shape the engine rejects: reported, the lineage a guess
        statement._warn(note)
        statement.confidence = min(statement.confidence, 0.5)
    return statement.run()


class _Statement(QueryStatements, DmlRewrites, TableCommands):
    """One statement, analysed by the handler of its kind."""

    def run(self) -> StatementLineage:
        handler = _HANDLERS.get(type(self.expression))
        if handler is None:
            for cls, candidate in _HANDLERS.items():
                if isinstance(self.expression, cls):
                    handler = candidate
                    break
        if handler is not None:
            handler(self)
        return StatementLineage(
            index=0,
            kind=self.kind,
            dialect=self.dialect,
            inputs=tuple(sorted(self.inputs)),
            outputs=tuple(sorted(set(self.outputs))),
            column_lineage=tuple(self.lineage),
            output_schemas=tuple(self.schemas),
            confidence=round(self.confidence, 2),
            warnings=tuple(self.warnings),
            temporary=self.temporary,
        )

    def _create_or_external(self) -> None:
        # CREATE [EXTERNAL] TABLE ... LOCATION without a query reads its location
        # (parsers.sql.table_commands); any other CREATE is a query statement.
        if not self._external_table():
            self._create()


_HANDLERS: dict[type[exp.Expr], Callable[[_Statement], None]] = {
    exp.Query: _Statement._query,
    exp.Insert: _Statement._insert,
    exp.Create: _Statement._create_or_external,
    exp.Merge: _Statement._merge,
    exp.Update: _Statement._update,
    exp.Delete: _Statement._delete,
    exp.Copy: _Statement._copy,
    exp.Command: _Statement._command,
    exp.Drop: _Statement._drop,
    exp.TruncateTable: _Statement._truncate,
    exp.Alter: _Statement._alter,
    exp.Cache: _Statement._cache,
}
