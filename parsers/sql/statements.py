"""One parsed SQL statement -> ``StatementLineage``.

Each statement kind is reduced to "a query whose output columns land in a target":
INSERT and CREATE ... AS carry their query; MERGE, UPDATE and DELETE are rewritten into
a synthetic SELECT over the target joined to its sources, so one tracer
(``sql_tracer``) serves them all::

    MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.x = s.x
    -- traced as: SELECT s.x AS __p0 FROM t JOIN s ON t.id = s.id   (x <- __p0)

Base tables are bound to their ``DatasetId`` once and renamed to a single flat
identifier, so sqlglot's qualifier sees one schema depth whatever mix of
``table`` / ``schema.table`` / ``db.schema.table`` the statement uses.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify_columns import qualify_columns
from sqlglot.optimizer.scope import build_scope
from sqlglot.schema import MappingSchema

from lineage.model import (
    ColumnLineage,
    DatasetId,
    Field,
    ParseWarning,
    Schema,
    SqlContext,
    StatementKind,
    StatementLineage,
)
from parsers.sql.names import LOWERCASE_DIALECT, location_dataset, table_parts
from parsers.sql.schema import SchemaRegistry
from parsers.sql.tracer import (
    CONDITIONAL,
    Edges,
    TableResolver,
    TempTable,
    edges_to_input_fields,
    input_fields_to_edges,
    merge_edges,
    trace_query,
)

__all__ = ["ScriptState", "analyze_statement"]

Kind = StatementKind

_UNLOAD = re.compile(r"^\s*\(\s*'((?:[^']|'')*)'\s*\)\s*TO\s*'([^']*)'", re.IGNORECASE | re.DOTALL)


@dataclass
class ScriptState:
    """What earlier statements of the script taught: created tables and temporary tables."""

    registry: SchemaRegistry
    created: dict[str, Schema] = field(default_factory=dict)
    temp_tables: dict[DatasetId, TempTable] = field(default_factory=dict)
    fingerprint: str = ""

    def columns_of(self, dataset: DatasetId) -> Sequence[str] | None:
        temp = self.temp_tables.get(dataset)
        if temp is not None:
            return list(temp.fields)
        schema = self.schema_of(dataset)
        return schema.names if schema is not None else None

    def schema_of(self, dataset: DatasetId) -> Schema | None:
        created = self.created.get(dataset.name)
        if created is not None:
            return created
        return self.registry.lookup(dataset.name)

    def apply(self, statement: StatementLineage) -> None:
        """Learn from a statement that ran: new tables, dropped tables, temporary lineage."""
        changed = False
        for dataset, schema in statement.output_schemas:
            self.created[dataset.name] = schema
            changed = True
        if statement.kind is Kind.DROP:
            for dataset in statement.outputs:
                self.created.pop(dataset.name, None)
                changed = self.temp_tables.pop(dataset, None) is not None or changed
        for lineage in statement.column_lineage:
            output = lineage.output
            if output is None or not (statement.temporary or output in self.temp_tables):
                continue
            previous = self.temp_tables.get(output)
            fields: dict[str, Edges] = (
                {k: dict(v) for k, v in previous.fields.items()} if previous else {}
            )
            for name, column_inputs in lineage.fields:
                merge_edges(fields.setdefault(name, {}), input_fields_to_edges(column_inputs))
            rows: Edges = dict(previous.dataset) if previous else {}
            merge_edges(rows, input_fields_to_edges(lineage.dataset))
            sources = frozenset(statement.inputs) | (previous.inputs if previous else frozenset())
            self.temp_tables[output] = TempTable(fields, rows, sources)
            changed = True
        if changed:
            digest = hashlib.sha1(self.fingerprint.encode(), usedforsecurity=False)
            digest.update(repr(statement.to_dict()).encode())
            self.fingerprint = digest.hexdigest()


def analyze_statement(
    expression: exp.Expr, *, context: SqlContext, state: ScriptState
) -> StatementLineage:
    """The lineage of one parsed statement (``expression`` is modified in place)."""
    expression = normalize_identifiers(expression, dialect=LOWERCASE_DIALECT)
    return _Statement(expression, context, state).run()


class _Statement:
    def __init__(self, expression: exp.Expr, context: SqlContext, state: ScriptState) -> None:
        self.expression = expression
        self.context = context
        self.dialect = context.dialect
        self.namespace = context.dataset_namespace
        self.state = state
        self.kind = Kind.OTHER
        self.inputs: set[DatasetId] = set()
        self.outputs: list[DatasetId] = []
        self.lineage: list[ColumnLineage] = []
        self.schemas: list[tuple[DatasetId, Schema]] = []
        self.warnings: list[ParseWarning] = []
        self.confidence = 1.0
        self.temporary = False
        self._bind_tables(expression)

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

    # -- binding tables to datasets ----------------------------------------------------

    def _bind_tables(self, expression: exp.Expr) -> None:
        cte_names = {cte.alias_or_name for cte in expression.find_all(exp.CTE)}
        for table in list(expression.find_all(exp.Table)):
            dynamic = table.this
            if isinstance(dynamic, exp.DynamicIdentifier) and isinstance(dynamic.this, exp.Literal):
                # Snowflake IDENTIFIER('db.schema.table') names a table by a string.
                named = exp.to_table(dynamic.this.name)
                for part in ("this", "db", "catalog"):
                    table.set(part, named.args.get(part))
            if not isinstance(table.this, exp.Identifier) or "dataset" in table.meta:
                continue
            if not table.args.get("db") and table.name in cte_names:
                continue
            parts = table_parts(table, self.context)
            if table.this.args.get("temporary"):  # T-SQL #tmp keeps its # in the name
                parts = [f"#{table.name}"]
            dataset = DatasetId(self.namespace, ".".join(parts))
            table.meta["dataset"] = dataset
            if table.this.args.get("temporary"):  # T-SQL #tmp
                table.meta["temporary"] = True
            if not table.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
            table.set("this", exp.to_identifier(dataset.name, quoted=True))
            table.set("db", None)
            table.set("catalog", None)

    def _dataset(self, node: exp.Expr | None) -> DatasetId | None:
        if isinstance(node, exp.Schema):
            node = node.this
        if isinstance(node, exp.Table):
            dataset = node.meta.get("dataset")
            if isinstance(dataset, DatasetId):
                return dataset
            if isinstance(node.this, exp.Literal):
                return location_dataset(node.this.name, self.namespace)
            if isinstance(node.this, exp.Var):  # a Snowflake stage: @stage/path
                return DatasetId(self.namespace, node.this.name)
        if isinstance(node, exp.Literal) and node.is_string:
            return location_dataset(node.name, self.namespace)
        if isinstance(node, exp.Directory):
            return location_dataset(node.this.name, self.namespace)
        return None

    def _tables_in(self, node: exp.Expr) -> set[DatasetId]:
        found: set[DatasetId] = set()
        for table in node.find_all(exp.Table):
            dataset = table.meta.get("dataset")
            if isinstance(dataset, DatasetId):
                temp = self.state.temp_tables.get(dataset)
                found.update(temp.inputs if temp is not None else (dataset,))
        return found

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
        self._expand_qualified_stars_over_using(query)
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
        root = build_scope(query)
        if root is None:
            self._warn("the query has no analysable scope")
            self.confidence = min(self.confidence, 0.5)
            return None
        resolver = TableResolver(
            dataset_of=lambda t: t.meta.get("dataset"),
            columns_of=self.state.columns_of,
            temp_tables=self.state.temp_tables,
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

    def _expand_qualified_stars_over_using(self, query: exp.Expr) -> None:
        """Expand ``o.*`` ourselves where a JOIN ... USING is present.

        sqlglot expands every star over a USING join to ``COALESCE(o.k, c.k)``, which is
        right for ``*`` but not for ``o.*``: that is ``o``'s own ``k``.
        """
        for select in list(query.find_all(exp.Select)):
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
                mapping[dataset.name] = dict.fromkeys(temp.fields, "UNKNOWN")
                continue
            schema = self.state.schema_of(dataset)
            if schema is not None:
                mapping[dataset.name] = {f.name: _sqlglot_type(f.type) for f in schema.fields}
        return MappingSchema(mapping, dialect=self.dialect, normalize=False)

    def _add(self, lineage: ColumnLineage | None) -> None:
        if lineage is not None:
            self.lineage.append(lineage)

    def _warn(self, message: str, column: str | None = None) -> None:
        self.warnings.append(ParseWarning(message, column))

    def _target_columns(self, dataset: DatasetId) -> Sequence[str] | None:
        return self.state.columns_of(dataset)

    # -- statement kinds ----------------------------------------------------------------

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
            if target is not None and lineage is not None:
                self.schemas.append((target, Schema(tuple(Field(n) for n, _ in lineage.fields))))
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
            if lineage is not None:
                types = {f.name: f.type for f in declared}
                self.schemas.append(
                    (target, Schema(tuple(Field(n, types.get(n)) for n, _ in lineage.fields)))
                )
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

    def _merge(self) -> None:
        merge = self.expression
        self.kind = Kind.MERGE
        target_node = merge.this
        target = self._dataset(target_node)
        using = merge.args.get("using")
        if target is None or using is None:
            return
        self.outputs.append(target)
        source_alias = using.alias_or_name
        projections: list[exp.Expr] = []
        # target column -> [(value projection, condition projection or None)]
        assignments: dict[str, list[tuple[str, str | None]]] = {}

        def project(node: exp.Expr) -> str:
            alias = f"__p{len(projections)}"
            projections.append(exp.alias_(node.copy(), alias))
            return alias

        whens = merge.args.get("whens")
        for when in whens.expressions if whens is not None else []:
            then = when.args.get("then")
            condition = when.args.get("condition")
            cond_alias = project(condition) if condition is not None else None
            pairs: list[tuple[str, exp.Expr]] = []
            if isinstance(then, exp.Update):
                for assignment in then.expressions:
                    if isinstance(assignment, exp.Star):
                        pairs.extend(self._star_pairs(using, source_alias))
                    elif isinstance(assignment, exp.EQ):
                        pairs.append((assignment.this.name, assignment.expression))
            elif isinstance(then, exp.Insert):
                if isinstance(then.this, exp.Star) or then.this is None:
                    pairs.extend(self._star_pairs(using, source_alias))
                else:
                    names = [c.name for c in then.this.expressions]
                    values = then.expression.expressions if then.expression is not None else []
                    pairs.extend(zip(names, values, strict=False))
            for name, value in pairs:
                assignments.setdefault(name, []).append((project(value), cond_alias))
        select = exp.Select(expressions=projections or [exp.Literal.number(1)])
        select.set("from_", exp.From(this=_without_joins(target_node)))
        on = merge.args.get("on")
        select.set("joins", [exp.Join(this=using.copy(), on=on.copy() if on is not None else None)])
        self._trace_assignments(select, target, assignments)

    def _star_pairs(self, source: exp.Expr, alias: str) -> list[tuple[str, exp.Expr]]:
        names: Sequence[str] | None = None
        dataset = self._dataset(source)
        if dataset is not None:
            names = self.state.columns_of(dataset)
        elif isinstance(source, exp.Subquery) and not any(
            isinstance(p, exp.Star) for p in source.this.selects
        ):
            names = source.this.named_selects
        if not names:
            self._warn(f"MERGE ... * needs the columns of {source.sql()!r}, which are unknown")
            self.confidence = min(self.confidence, 0.5)
            return []
        return [(name, exp.column(name, table=alias)) for name in names]

    def _update(self) -> None:
        update = self.expression
        self.kind = Kind.UPDATE
        target_node = update.this
        target = self._dataset(target_node)
        if target is None:
            return
        self.outputs.append(target)
        projections: list[exp.Expr] = []
        assignments: dict[str, list[tuple[str, str | None]]] = {}
        for assignment in update.expressions:
            if isinstance(assignment, exp.EQ):
                alias = f"__p{len(projections)}"
                projections.append(exp.alias_(assignment.expression.copy(), alias))
                assignments.setdefault(assignment.this.name, []).append((alias, None))
        select = exp.Select(expressions=projections or [exp.Literal.number(1)])
        select.set("from_", exp.From(this=_without_joins(target_node)))
        select.set("joins", self._joins(update))
        if update.args.get("where") is not None:
            select.set("where", update.args["where"].copy())
        self._trace_assignments(select, target, assignments)

    def _delete(self) -> None:
        delete = self.expression
        self.kind = Kind.DELETE
        target_node = delete.this
        target = self._dataset(target_node)
        if target is None:
            return
        self.outputs.append(target)
        select = exp.Select(expressions=[exp.Literal.number(1)])
        select.set("from_", exp.From(this=_without_joins(target_node)))
        joins = self._joins(delete)
        joins.extend(exp.Join(this=u.copy()) for u in delete.args.get("using") or [])
        select.set("joins", joins)
        if delete.args.get("where") is not None:
            select.set("where", delete.args["where"].copy())
        self._trace_assignments(select, target, {})

    def _joins(self, statement: exp.Expr) -> list[exp.Join]:
        joins: list[exp.Join] = [j.copy() for j in statement.this.args.get("joins") or []]
        from_ = statement.args.get("from_")
        if from_ is not None:
            joins.append(exp.Join(this=_without_joins(from_.this)))
            joins.extend(j.copy() for j in from_.this.args.get("joins") or [])
        return joins

    def _trace_assignments(
        self,
        select: exp.Select,
        target: DatasetId,
        assignments: dict[str, list[tuple[str, str | None]]],
    ) -> None:
        """Map synthetic projections back to target columns.

        The target's own columns that pick which of its rows change (MERGE's ON, UPDATE's
        and DELETE's WHERE) stay in ``dataset``; the target is an input only when one of
        its values is read into a column (``SET n = t.n + s.n``).
        """
        traced = self._trace(select, None)
        self.inputs.discard(target)
        if traced is None:
            return
        by_alias = {name: inputs for name, inputs in traced.fields}
        fields = []
        for column, sources in assignments.items():
            edges: Edges = {}
            for value_alias, cond_alias in sources:
                merge_edges(edges, input_fields_to_edges(by_alias.get(value_alias, ())))
                if cond_alias is not None:
                    merge_edges(
                        edges, input_fields_to_edges(by_alias.get(cond_alias, ())), CONDITIONAL
                    )
            fields.append((column, edges_to_input_fields(edges)))
            self.inputs |= {d for (d, _f) in edges}
        self.lineage.append(ColumnLineage(target, tuple(fields), traced.dataset))
        self.inputs |= {i.dataset for i in traced.dataset if i.dataset != target}

    def _copy(self) -> None:
        copy = self.expression
        target_node = copy.this
        files = copy.args.get("files") or []
        loading = bool(copy.args.get("kind"))
        target = self._dataset(target_node)
        query = next((f.this for f in files if isinstance(f, exp.Subquery)), None)
        is_location = isinstance(target_node, exp.Table) and "dataset" not in target_node.meta
        if query is not None or (is_location and loading):
            # COPY INTO 's3://...' FROM (SELECT ...): an unload.
            self.kind = Kind.UNLOAD
            if target is not None:
                self.outputs.append(target)
            if query is not None:
                self._add(self._trace(query, target))
            return
        self.kind = Kind.COPY
        locations = [d for d in (self._dataset(f) for f in files) if d is not None]
        if target is None:
            return
        if loading:
            self.outputs.append(target)
            self.inputs |= set(locations)
        else:  # COPY t TO 'file'
            self.inputs.add(target)
            self.outputs.extend(locations)

    def _command(self) -> None:
        command = self.expression
        if str(command.this).upper() != "UNLOAD":
            self.kind = Kind.OTHER
            return
        self.kind = Kind.UNLOAD
        match = _UNLOAD.match(command.expression.name if command.expression else "")
        if match is None:
            self._warn("UNLOAD could not be read: expected UNLOAD ('query') TO 'location'")
            self.confidence = 0.0
            return
        target = location_dataset(match.group(2), self.namespace)
        self.outputs.append(target)
        try:
            query = sqlglot.parse_one(match.group(1).replace("''", "'"), read=self.dialect)
        except SqlglotError as exc:
            self._warn(f"the query inside UNLOAD does not parse: {exc}")
            self.confidence = 0.0
            return
        query = normalize_identifiers(query, dialect=LOWERCASE_DIALECT)
        self._bind_tables(query)
        self._add(self._trace(query, target))

    def _drop(self) -> None:
        self.kind = Kind.DROP
        target = self._dataset(self.expression.this)
        if target is not None:
            self.outputs.append(target)

    def _truncate(self) -> None:
        self.kind = Kind.TRUNCATE
        self.outputs.extend(d for d in (self._dataset(t) for t in self.expression.expressions) if d)

    def _alter(self) -> None:
        self.kind = Kind.ALTER
        target = self._dataset(self.expression.this)
        if target is None:
            return
        actions = self.expression.args.get("actions") or []
        current = self.state.schema_of(target)
        renamed_to = next(
            (self._dataset(a.this) for a in actions if isinstance(a, exp.AlterRename)), None
        )
        if renamed_to is not None:  # ALTER TABLE a RENAME TO b: b is a's data
            self.inputs.add(target)
            self.outputs.append(renamed_to)
            if current is not None:
                self.schemas.append((renamed_to, current))
            return
        self.outputs.append(target)
        if current is None:
            return
        fields = list(current.fields)
        for action in actions:
            if isinstance(action, exp.ColumnDef):
                kind = action.args.get("kind")
                fields.append(Field(action.name, kind.sql(self.dialect).lower() if kind else None))
            elif isinstance(action, exp.RenameColumn) and action.args.get("to") is not None:
                old, new = action.this.name, action.args["to"].name
                fields = [Field(new, f.type, f.description) if f.name == old else f for f in fields]
            elif isinstance(action, exp.Drop) and isinstance(action.this, exp.Column):
                fields = [f for f in fields if f.name != action.this.name]
        if tuple(fields) != current.fields:
            self.schemas.append((target, Schema(tuple(fields))))

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
        if lineage is not None:
            self.schemas.append((target, Schema(tuple(Field(n) for n, _ in lineage.fields))))

    def _is_temp(self, dataset: DatasetId) -> bool:
        return dataset in self.state.temp_tables


_HANDLERS = {
    exp.Query: _Statement._query,
    exp.Insert: _Statement._insert,
    exp.Create: _Statement._create,
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


def _without_joins(table: exp.Expr) -> exp.Expr:
    copy = table.copy()
    copy.set("joins", None)
    return copy


def _declared_fields(target: exp.Expr, dialect: str | None) -> list[Field]:
    """Column names (and types, for DDL) declared on a CREATE target, in order."""
    if not isinstance(target, exp.Schema):
        return []
    fields = []
    for column in target.expressions:
        if isinstance(column, exp.ColumnDef):
            kind = column.args.get("kind")
            fields.append(Field(column.name, kind.sql(dialect).lower() if kind else None))
        elif isinstance(column, (exp.Identifier, exp.Column)):
            fields.append(Field(column.name))
    return fields


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
