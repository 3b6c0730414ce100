"""dbt's cross-database macros (``dbt.*``) and the common dbt-utils macros, in Python.

Real dbt runs these as Jinja that queries the warehouse (``star`` asks for the columns of
a relation). Here the columns come from what the project declares or what the parser
already derived for the upstream model, handed in through ``HelperHost.columns_of``.
The SQL they produce follows dbt-utils 1.x closely enough that the column lineage is the
same as dbt's compiled SQL (which columns feed which, and through md5 or a cast).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from parsers.dbt.relation import Column, CompileProblem, Relation, quote_identifier

__all__ = ["STRING_TYPE_DIALECTS", "CrossDbMacros", "DbtUtilsMacros", "HelperHost"]

# Adapters whose string type is called ``string`` (the others say ``varchar``).
STRING_TYPE_DIALECTS = frozenset({"bigquery", "spark", "databricks", "hive"})

_NULL_KEY = "_dbt_utils_surrogate_key_null_"
_TIMESTAMP_FUNCTIONS = {
    "redshift": "getdate()", "postgres": "now()", "snowflake": "current_timestamp()",
    "bigquery": "current_timestamp()", "spark": "current_timestamp()",
    "databricks": "current_timestamp()",
}


class HelperHost(Protocol):
    """What the helpers need from the render under way."""

    adapter_type: str
    dialect: str | None
    parse_only: bool

    def columns_of(self, relation: Any) -> list[Column] | None: ...

    def var(self, name: str, default: Any = None) -> Any: ...

    def note(self, message: str) -> None: ...

    def package_macro(self, package: str, name: str) -> Callable[..., Any] | None: ...


class CrossDbMacros:
    """``dbt.type_string()``, ``dbt.dateadd(...)`` and friends; also global names."""

    def __init__(self, host: HelperHost) -> None:
        self._host = host

    @property
    def _adapter(self) -> str:
        return self._host.adapter_type

    # -- types ---------------------------------------------------------------------------

    def type_string(self) -> str:
        return "string" if self._adapter in STRING_TYPE_DIALECTS else "varchar"

    def type_timestamp(self) -> str:
        return "timestamp"

    def type_float(self) -> str:
        return "float64" if self._adapter == "bigquery" else "float"

    def type_numeric(self) -> str:
        return "numeric" if self._adapter == "bigquery" else "numeric(28,6)"

    def type_bigint(self) -> str:
        return "int64" if self._adapter == "bigquery" else "bigint"

    def type_int(self) -> str:
        return "int64" if self._adapter == "bigquery" else "integer"

    def type_boolean(self) -> str:
        return "bool" if self._adapter == "bigquery" else "boolean"

    # -- expressions ---------------------------------------------------------------------

    def current_timestamp(self) -> str:
        if self._adapter in _TIMESTAMP_FUNCTIONS:
            return _TIMESTAMP_FUNCTIONS[self._adapter]
        return "current_timestamp"

    def current_timestamp_backcompat(self) -> str:
        return self.current_timestamp()

    def current_timestamp_in_utc_backcompat(self) -> str:
        return self.current_timestamp()

    def string_literal(self, value: Any) -> str:
        return "'" + str(value).replace("'", "''") + "'"

    def escape_single_quotes(self, expression: Any) -> str:
        return str(expression).replace("'", "''")

    def concat(self, fields: Sequence[Any]) -> str:
        if self._adapter in ("postgres", "redshift"):
            return " || ".join(str(f) for f in fields)
        return f"concat({', '.join(str(f) for f in fields)})"

    def hash(self, field: Any) -> str:
        inner = f"md5(cast({field} as {self.type_string()}))"
        return f"to_hex({inner})" if self._adapter == "bigquery" else inner

    def cast(self, field: Any, type: Any) -> str:
        return f"cast({field} as {type})"

    def safe_cast(self, field: Any, type: Any) -> str:
        if self._adapter == "bigquery":
            return f"safe_cast({field} as {type})"
        if self._adapter in ("snowflake", "redshift", "duckdb", "databricks"):
            return f"try_cast({field} as {type})"
        return f"cast({field} as {type})"

    def dateadd(self, datepart: Any, interval: Any, from_date_or_timestamp: Any) -> str:
        if self._adapter == "bigquery":
            return (
                f"datetime_add(cast({from_date_or_timestamp} as datetime), "
                f"interval {interval} {datepart})"
            )
        if self._adapter == "postgres":
            return f"{from_date_or_timestamp} + (({interval}) * (interval '1 {datepart}'))"
        return f"dateadd({datepart}, {interval}, {from_date_or_timestamp})"

    def datediff(self, first_date: Any, second_date: Any, datepart: Any) -> str:
        if self._adapter == "bigquery":
            return (
                f"datetime_diff(cast({second_date} as datetime), "
                f"cast({first_date} as datetime), {datepart})"
            )
        if self._adapter == "postgres":
            return (
                f"date_part('{datepart}', "
                f"({second_date})::timestamp - ({first_date})::timestamp)"
            )
        return f"datediff({datepart}, {first_date}, {second_date})"

    def date_trunc(self, datepart: Any, date: Any) -> str:
        if self._adapter == "bigquery":
            return f"timestamp_trunc(cast({date} as timestamp), {datepart})"
        return f"date_trunc('{datepart}', {date})"

    def split_part(self, string_text: Any, delimiter_text: Any, part_number: Any) -> str:
        return f"split_part({string_text}, {delimiter_text}, {part_number})"

    def any_value(self, expression: Any) -> str:
        return f"any_value({expression})"

    def bool_or(self, expression: Any) -> str:
        return f"bool_or({expression})"

    def length(self, expression: Any) -> str:
        return f"length({expression})"

    def replace(self, field: Any, old_chars: Any, new_chars: Any) -> str:
        return f"replace({field}, {old_chars}, {new_chars})"

    def right(self, string_text: Any, length_expression: Any) -> str:
        return f"right({string_text}, {length_expression})"

    def position(self, substring_text: Any, string_text: Any) -> str:
        return f"position({substring_text} in {string_text})"

    def listagg(
        self,
        measure: Any,
        delimiter_text: Any = "','",
        order_by_clause: Any = None,
        limit_num: Any = None,
    ) -> str:
        order = f" within group ({order_by_clause})" if order_by_clause else ""
        return f"listagg({measure}, {delimiter_text}){order}"

    def cast_bool_to_text(self, field: Any) -> str:
        return f"cast({field} as {self.type_string()})"

    def last_day(self, date: Any, datepart: Any) -> str:
        return f"last_day({date}, {datepart})"

    def names(self) -> list[str]:
        """Every macro name this namespace offers (for the global context)."""
        return [
            n
            for n in dir(CrossDbMacros)
            if not n.startswith("_") and n != "names" and callable(getattr(CrossDbMacros, n))
        ]


class DbtUtilsMacros:
    """The ``dbt_utils`` namespace: the macros that need columns, and SQL helpers.

    A name not implemented here falls back to ``dbt_packages/dbt_utils`` when the project
    has it installed, then to the cross-database macros (dbt-utils < 1.0 had them).
    """

    def __init__(self, host: HelperHost, cross_db: CrossDbMacros) -> None:
        self._host = host
        self._cross_db = cross_db

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        macro = self._host.package_macro("dbt_utils", name)
        if macro is not None:
            return macro
        if hasattr(self._cross_db, name) and not name.startswith("_"):
            return getattr(self._cross_db, name)
        raise CompileProblem(
            f"dbt_utils.{name} is not supported without dbt_packages/dbt_utils installed"
        )

    # -- columns ---------------------------------------------------------------------------

    def _columns(self, relation: Any, macro: str) -> list[Column] | None:
        if not isinstance(relation, Relation):
            raise CompileProblem(
                f"dbt_utils.{macro} expected a Relation (ref() or source()), got {relation!r}"
            )
        return self._host.columns_of(relation)

    def get_filtered_columns_in_relation(
        self, from_: Any = None, except_: Iterable[str] = (), **kwargs: Any
    ) -> list[str]:
        relation = kwargs.get("from", from_)
        excluded = {str(e).lower() for e in kwargs.get("except", except_) or ()}
        columns = self._columns(relation, "get_filtered_columns_in_relation") or []
        return [c.column for c in columns if c.column.lower() not in excluded]

    def star(
        self,
        from_: Any = None,
        relation_alias: Any = False,
        except_: Iterable[str] = (),
        prefix: str = "",
        suffix: str = "",
        quote_identifiers: bool = True,
        **kwargs: Any,
    ) -> str:
        """``dbt_utils.star(from, except=[...], relation_alias=..., prefix=..., suffix=...)``."""
        relation = kwargs.get("from", from_)
        excluded = {str(e).lower() for e in kwargs.get("except", except_) or ()}
        columns = self._columns(relation, "star")
        if self._host.parse_only:
            return "*"
        if columns is None:
            self._host.note(
                f"dbt_utils.star: the columns of {relation} are unknown (declare them in a "
                "properties file); rendered '*'"
            )
            return f"{relation_alias}.*" if relation_alias else "*"
        lines = []
        for column in columns:
            if column.column.lower() in excluded:
                continue
            name = quote_identifier(column.column, self._host.dialect)
            item = f"{relation_alias}.{name}" if relation_alias else name
            if prefix or suffix:
                item += f" as {quote_identifier(f'{prefix}{column.column}{suffix}', None)}"
            lines.append(item)
        if not lines:
            self._host.note(f"dbt_utils.star: every column of {relation} is excluded")
            return "*"
        return ",\n  ".join(lines)

    def union_relations(
        self,
        relations: Sequence[Any],
        column_override: dict[str, str] | None = None,
        include: Iterable[str] = (),
        exclude: Iterable[str] = (),
        source_column_name: str | None = "_dbt_source_relation",
        where: str | None = None,
    ) -> str:
        """Union all of ``relations`` over the union of their columns, null-filled."""
        includes = {str(c).lower() for c in include or ()}
        excludes = {str(c).lower() for c in exclude or ()}
        override = {str(k).lower(): v for k, v in (column_override or {}).items()}
        per_relation: list[tuple[Any, dict[str, Column] | None]] = []
        superset: dict[str, Column] = {}
        for relation in relations:
            columns = self._columns(relation, "union_relations")
            if columns is None:
                per_relation.append((relation, None))
                continue
            kept: dict[str, Column] = {}
            for column in columns:
                key = column.column.lower()
                if (excludes and key in excludes) or (includes and key not in includes):
                    continue
                kept[key] = column
                stored = superset.get(key)
                if stored is None or (
                    column.is_string() and stored.is_string()
                    and column.string_size() > stored.string_size()
                ):
                    superset[key] = column
            per_relation.append((relation, kept))
        if self._host.parse_only:
            return " union all ".join(f"select * from {r}" for r in relations)
        string_type = self._cross_db.type_string()
        branches = []
        for relation, found in per_relation:
            items = []
            if source_column_name is not None:
                label = self._cross_db.string_literal(relation)
                items.append(f"cast({label} as {string_type}) as {source_column_name}")
            if found is None:
                self._host.note(
                    f"dbt_utils.union_relations: the columns of {relation} are unknown; "
                    "rendered '*'"
                )
                items.append("*")
            present = found or {}
            for key, column in superset.items() if found is not None else ():
                name = quote_identifier(column.column, self._host.dialect)
                value = name if key in present else "null"
                type_ = override.get(key, column.data_type)
                expression = f"cast({value} as {type_})" if type_ else value
                items.append(f"{expression} as {name}")
            body = ",\n        ".join(items)
            filter_ = f"\n    where {where}" if where else ""
            branches.append(f"(\n    select\n        {body}\n    from {relation}{filter_}\n)")
        return "\n\nunion all\n\n".join(branches)

    # -- keys and arithmetic -----------------------------------------------------------------

    def generate_surrogate_key(self, field_list: Any) -> str:
        """dbt-utils 1.x: ``md5(cast(coalesce(cast(f as varchar), '<null>') || '-' || ...))``."""
        fields = [field_list] if isinstance(field_list, str) else list(field_list)
        if self._host.var("surrogate_key_treat_nulls_as_empty_strings", False):
            null_value = ""
        else:
            null_value = _NULL_KEY
        return self._key(fields, null_value)

    def surrogate_key(self, field_list: Any, *more: Any) -> str:
        """dbt-utils < 1.0: nulls become '' (``surrogate_key('a', 'b')`` or a list)."""
        fields = [field_list, *more] if isinstance(field_list, str) else [*field_list, *more]
        return self._key(fields, "")

    def _key(self, fields: Sequence[Any], null_value: str) -> str:
        string_type = self._cross_db.type_string()
        parts: list[str] = []
        for position, field in enumerate(fields):
            if position:
                parts.append("'-'")
            parts.append(f"coalesce(cast({field} as {string_type}), '{null_value}')")
        return self._cross_db.hash(self._cross_db.concat(parts))

    def safe_add(self, field_list: Sequence[Any], *more: Any) -> str:
        fields = [field_list, *more] if isinstance(field_list, str) else [*field_list, *more]
        return "\n + \n".join(f"coalesce({f}, 0)" for f in fields)

    def safe_subtract(self, field_list: Sequence[Any]) -> str:
        return "\n - \n".join(f"coalesce({f}, 0)" for f in field_list)

    def safe_divide(self, numerator: Any, denominator: Any) -> str:
        return f"( {numerator} ) / nullif( ( {denominator} ), 0)"

    def group_by(self, n: int) -> str:
        return "group by " + ", ".join(str(i) for i in range(1, int(n) + 1))

    def deduplicate(self, relation: Any, partition_by: str, order_by: str) -> str:
        return (
            "with row_numbered as (\n"
            f"    select _inner.*, row_number() over (partition by {partition_by} "
            f"order by {order_by}) as rn\n"
            f"    from {relation} as _inner\n"
            ")\n"
            "select distinct data.*\n"
            f"from {relation} as data\n"
            "natural join row_numbered\n"
            "where row_numbered.rn = 1"
        )

    def pivot(
        self,
        column: str,
        values: Sequence[Any],
        alias: bool = True,
        agg: str = "sum",
        cmp: str = "=",
        prefix: str = "",
        suffix: str = "",
        then_value: Any = 1,
        else_value: Any = 0,
        quote_identifiers: bool = True,
        distinct: bool = False,
    ) -> str:
        items = []
        for value in values:
            expression = (
                f"{agg}({'distinct ' if distinct else ''}case when {column} {cmp} "
                f"'{self._cross_db.escape_single_quotes(value)}' then {then_value} "
                f"else {else_value} end)"
            )
            if alias:
                expression += f" as {quote_identifier(f'{prefix}{value}{suffix}', None)}"
            items.append(expression)
        return ",\n  ".join(items)

    def get_column_values(
        self, table: Any, column: str, order_by: str = "count(*) desc",
        max_records: int | None = None, default: Any = None, where: str | None = None,
    ) -> Any:
        # Needs a query; dbt itself returns ``default`` when it cannot run one.
        return [] if default is None else default

    def get_relations_by_pattern(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    def get_query_results_as_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {}
