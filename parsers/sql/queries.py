"""Statements that carry their query: SELECT (and T-SQL SELECT ... INTO), INSERT,
CREATE TABLE / VIEW [AS] and Spark CACHE TABLE.

The query is traced into the target as written; CREATE also records the new table's
schema (declared columns and types, or the query's output columns).
"""

from __future__ import annotations

from typing import TypeGuard

from sqlglot import exp

from lineage.model import ColumnLineage, Field, Schema, TransformationSubtype
from lineage.model import StatementKind as Kind
from lineage.model.sql_text import sql_text
from parsers.sql.query_tracing import TracedStatement
from parsers.sql.tracer import WILDCARD

__all__ = ["QueryStatements"]


class QueryStatements(TracedStatement):
    """The handlers of SELECT, INSERT, CREATE and CACHE."""

    def _query(self) -> None:
        query = self.expression
        into = query.args.get("into") if isinstance(query, exp.Select) else None
        if into is not None:  # T-SQL SELECT ... INTO t
            self.kind = Kind.CREATE_TABLE_AS
            query.set("into", None)
            target = self._dataset(into.this)
            self.temporary = bool(into.args.get("temporary")) or bool(
                isinstance(into.this, exp.Table) and into.this.meta.get("temporary")
            )
            if target is not None:
                self.outputs.append(target)
            lineage = self._trace(query, target)
            self._add(lineage)
            if target is not None and _columns_known(lineage):
                self.schemas.append((target, self._output_schema(query, lineage, [])))
            return
        self.kind = Kind.SELECT
        self._add(self._trace(query, None))

    def _insert(self) -> None:
        insert = self.expression
        self.kind = Kind.INSERT
        target_node = insert.this
        columns = (
            [c.name for c in target_node.expressions]
            if isinstance(target_node, exp.Schema)
            else None
        )
        target = self._dataset(target_node)
        if target is None:
            self._warn(f"the INSERT target {target_node.sql()!r} is not a table")
            return
        self.outputs.append(target)
        query = insert.expression
        if query is None:
            return
        with_ = insert.args.get("with_")
        if with_ is not None and isinstance(query, exp.Query) and not query.args.get("with_"):
            query.set("with_", with_)  # WITH ... INSERT INTO t SELECT: the CTEs feed the query
            insert.set("with_", None)
        if columns is None and not insert.args.get("by_name"):
            columns = list(self._target_columns(target) or []) or None
        self._add(self._trace(query, target, columns))
        if self._is_temp(target):
            self.temporary = True

    def _create(self) -> None:
        create = self.expression
        kind = str(create.args.get("kind") or "").upper()
        target_node = create.this
        target = self._dataset(target_node)
        if kind not in ("TABLE", "VIEW") or target is None:
            self.kind = Kind.OTHER
            return
        properties = create.args.get("properties")
        props = properties.expressions if properties is not None else []
        self.temporary = (
            any(isinstance(p, exp.TemporaryProperty) for p in props)
            or bool(isinstance(target_node, exp.Table) and target_node.meta.get("temporary"))
            or bool(
                isinstance(target_node, exp.Schema)
                and isinstance(target_node.this, exp.Table)
                and target_node.this.meta.get("temporary")
            )
        )
        materialized = any(isinstance(p, exp.MaterializedProperty) for p in props)
        self.outputs.append(target)
        declared = _declared_fields(target_node, self.dialect)
        query = create.expression
        if isinstance(query, exp.Query):
            if kind == "VIEW":
                self.kind = Kind.CREATE_MATERIALIZED_VIEW if materialized else Kind.CREATE_VIEW
            else:
                self.kind = Kind.CREATE_TABLE_AS
            rename = [f.name for f in declared] or None
            lineage = self._trace(query, target, rename)
            self._add(lineage)
            if _columns_known(lineage):
                self.schemas.append((target, self._output_schema(query, lineage, declared)))
            return
        self.kind = Kind.CREATE_TABLE
        # CREATE TABLE t LIKE s / CLONE s: the new table copies s's schema.
        sources = self._tables_in(create) - {target}
        self.inputs |= sources
        if declared:
            self.schemas.append((target, Schema(tuple(declared))))
        elif len(sources) == 1:
            copied = self.state.schema_of(next(iter(sources)))
            if copied is not None:
                self.schemas.append((target, copied))

    def _cache(self) -> None:
        """Spark ``CACHE TABLE t AS SELECT``: a temporary view for the rest of the session."""
        self.kind = Kind.CREATE_VIEW
        self.temporary = True
        target = self._dataset(self.expression.this)
        query = self.expression.expression
        if target is None or query is None:
            return
        self.outputs.append(target)
        lineage = self._trace(query, target)
        self._add(lineage)
        if _columns_known(lineage):
            self.schemas.append((target, self._output_schema(query, lineage, [])))

    def _output_schema(
        self, query: exp.Expr, lineage: ColumnLineage, declared: list[Field]
    ) -> Schema:
        """The new table's columns with the types that are certain: declared ones, a
        top-level CAST / TRY_CAST / ``::`` (``cid::VARCHAR(50)`` is varchar(50)), counts,
        and columns copied unchanged from a column whose type is known."""
        types = {f.name.lower(): f.type for f in declared}
        projections: dict[str, exp.Expr] = {}
        if isinstance(query, exp.Query):
            for select in query.selects:
                projections.setdefault(select.alias_or_name.lower(), select.unalias())
        fields = []
        for name, inputs in lineage.fields:
            key = name.lower()
            found = types.get(key) or _expression_type(projections.get(key), self.dialect)
            if found is None and len(inputs) == 1 and all(
                t.subtype is TransformationSubtype.IDENTITY for t in inputs[0].transformations
            ):
                source = self.state.schema_of(inputs[0].dataset)
                found = next(
                    (f.type for f in (source.fields if source else ())
                     if f.name.lower() == inputs[0].field.lower()),
                    None,
                )  # fmt: skip
            fields.append(Field(name, found))
        return Schema(tuple(fields))


def _columns_known(lineage: ColumnLineage | None) -> TypeGuard[ColumnLineage]:
    """Whether a new table's columns are known: traced, and no unexpanded wildcard."""
    return lineage is not None and all(name != WILDCARD for name, _ in lineage.fields)


def _expression_type(node: exp.Expr | None, dialect: str | None) -> str | None:
    """The type an expression certainly has, by its outermost node."""
    # TryCast is a Cast; an unknown target type says nothing.
    if isinstance(node, exp.Cast) and isinstance(node.to, exp.DataType) and not node.to.is_type(
        exp.DataType.Type.UNKNOWN
    ):
        return sql_text(node.to, dialect).lower()
    if isinstance(node, exp.Count):
        return "bigint"
    return None


def _declared_fields(target: exp.Expr, dialect: str | None) -> list[Field]:
    """Column names (and types, for DDL) declared on a CREATE target, in order."""
    if not isinstance(target, exp.Schema):
        return []
    fields = []
    for column in target.expressions:
        if isinstance(column, exp.ColumnDef):
            kind = column.args.get("kind")
            fields.append(Field(column.name, sql_text(kind, dialect).lower() if kind else None))
        elif isinstance(column, (exp.Identifier, exp.Column)):
            fields.append(Field(column.name))
    return fields
