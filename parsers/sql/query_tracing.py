"""Tracing a statement's query into its target.

The query is qualified against the schemas the script knows (``ScriptState``), its
scopes are traced by ``parsers.sql.tracer``, and the output columns are renamed to the
target's columns where the statement names them (``INSERT INTO t (a, b) SELECT ...``).
Lowering confidence and collecting warnings on the way is part of the job.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify_columns import qualify_columns
from sqlglot.optimizer.scope import build_scope
from sqlglot.schema import MappingSchema

from lineage.model import ColumnLineage, DatasetId
from lineage.model import StatementKind as Kind
from parsers.sql.binding import BoundStatement
from parsers.sql.lateral_aliases import protect_source_references
from parsers.sql.output_names import name_outputs
from parsers.sql.sources import TableResolver
from parsers.sql.tracer import WILDCARD, trace_query
from parsers.sql.transformations import Edges, edges_to_input_fields

__all__ = ["TracedStatement"]

_CREATES = frozenset({Kind.CREATE_TABLE_AS, Kind.CREATE_VIEW, Kind.CREATE_MATERIALIZED_VIEW})


class TracedStatement(BoundStatement):
    """A bound statement that can trace a query into one of its targets."""

    # -- tracing a query into a target -------------------------------------------------

    def _trace(
        self,
        query: exp.Expr,
        output: DatasetId | None,
        rename: Sequence[str] | None = None,
    ) -> ColumnLineage | None:
        self.inputs |= self._tables_in(query)
        # CREATE VIEW v AS (WITH ... SELECT ...): dbt wraps model bodies in parentheses.
        while isinstance(query, exp.Subquery) and isinstance(query.this, exp.Query):
            query = query.this
        if isinstance(query, exp.Values) or not isinstance(query, exp.Query):
            return None
        schema = self._mapping_schema(query)
        selects = list(query.find_all(exp.Select))  # one walk serves both rewrites
        self._expand_qualified_stars_over_using(selects)
        protected = protect_source_references(selects, self.dialect, not schema.empty)
        # Engine names of unaliased outputs, read before qualification rewrites the columns.
        named = name_outputs(query, self.dialect, self.kind in _CREATES, self.source)
        try:
            qualify_columns(
                query,
                schema,
                expand_alias_refs=True,
                expand_stars=True,
                infer_schema=False,
                dialect=self.dialect,
            )
        except (SqlglotError, KeyError, ValueError, TypeError, AttributeError) as exc:
            self._warn(f"columns could not be fully qualified: {exc}")
            self.confidence = min(self.confidence, 0.5)
        protected.restore(query)
        if named is not None:
            for warning in named.apply():
                self._warn(warning)
        root = build_scope(query)
        if root is None:
            self._warn("the query has no analysable scope")
            self.confidence = min(self.confidence, 0.5)
            return None
        resolver = TableResolver(
            dataset_of=lambda t: t.meta.get("dataset"),
            columns_of=self.state.columns_of,
            temp_tables=self.state.temp_tables,
            dialect=self.dialect,
        )
        traced = trace_query(root, resolver)
        self.warnings.extend(traced.warnings)
        if traced.relied_on_query:
            self.confidence = min(self.confidence, 0.9)
        if traced.warnings:
            self.confidence = min(self.confidence, 0.6)
        if traced.unexpanded_star:
            self.confidence = min(self.confidence, 0.5)
        names = [name for name, _ in traced.columns]
        if rename and names == [WILDCARD]:
            return self._pass_through(output, rename, traced.columns[0][1], traced.dataset)
        if rename and WILDCARD in names:
            self._warn("the target's columns cannot be matched by position past an unexpanded *")
            rename = None
        if rename:
            if len(rename) < len(names):
                self._warn(
                    f"the query yields {len(names)} columns but the target names {len(rename)}"
                )
            names = [rename[i] if i < len(rename) else n for i, n in enumerate(names)]
        fields = tuple(
            (name, edges_to_input_fields(edges))
            for name, (_, edges) in zip(names, traced.columns, strict=True)
        )
        return ColumnLineage(output, fields, edges_to_input_fields(traced.dataset))

    def _pass_through(
        self, output: DatasetId | None, columns: Sequence[str], wildcard: Edges, dataset: Edges
    ) -> ColumnLineage:
        """``INSERT INTO t1 SELECT * FROM t2`` with only t1's columns known: each column
        of t1 from the same-named column of t2 (the wildcard, expanded on t1's side)."""
        self._warn(
            "the target's columns are taken to be the same-named columns of "
            f"{', '.join(sorted({d.name for d, _ in wildcard}))} (unexpanded wildcard)"
        )
        fields = tuple(
            (
                column,
                edges_to_input_fields(
                    {(d, column if f == WILDCARD else f): set(v) for (d, f), v in wildcard.items()}
                ),
            )
            for column in columns
        )
        return ColumnLineage(output, fields, edges_to_input_fields(dataset))

    def _expand_qualified_stars_over_using(self, selects: Sequence[exp.Select]) -> None:
        """Expand ``o.*`` ourselves where a JOIN ... USING is present.

        sqlglot expands every star over a USING join to ``COALESCE(o.k, c.k)``, which is
        right for ``*`` but not for ``o.*``: that is ``o``'s own ``k``.
        """
        for select in selects:
            joins = select.args.get("joins") or []
            if not any(j.args.get("using") for j in joins):
                continue
            tables = {
                t.alias_or_name: t
                for t in [
                    select.args.get("from_") and select.args["from_"].this,
                    *(j.this for j in joins),
                ]
                if isinstance(t, exp.Table)
            }
            projections: list[exp.Expr] = []
            for projection in select.expressions:
                table = (
                    tables.get(projection.table)
                    if (
                        isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
                    )
                    else None
                )
                dataset = table.meta.get("dataset") if table is not None else None
                columns = self.state.columns_of(dataset) if isinstance(dataset, DatasetId) else None
                if columns is None:
                    projections.append(projection)
                    continue
                projections.extend(
                    exp.alias_(exp.column(c, table=projection.table), c) for c in columns
                )
            select.set("expressions", projections)

    def _mapping_schema(self, query: exp.Expr) -> MappingSchema:
        mapping: dict[str, object] = {}
        for table in query.find_all(exp.Table):
            dataset = table.meta.get("dataset")
            if not isinstance(dataset, DatasetId) or dataset.name in mapping:
                continue
            temp = self.state.temp_tables.get(dataset)
            if temp is not None:
                if WILDCARD not in temp.fields:
                    mapping[dataset.name] = dict.fromkeys(temp.fields, "UNKNOWN")
                continue
            schema = self.state.schema_of(dataset)
            if schema is not None:
                mapping[dataset.name] = {f.name: _sqlglot_type(f.type) for f in schema.fields}
        return MappingSchema(mapping, dialect=self.dialect, normalize=False)


@lru_cache(maxsize=8192)
def _sqlglot_type(native: str | None) -> str:
    """The native type if sqlglot can read it, else UNKNOWN (types repeat: cached)."""
    if not native:
        return "UNKNOWN"
    try:
        exp.DataType.build(native)
    except (SqlglotError, ValueError):
        return "UNKNOWN"
    return native
