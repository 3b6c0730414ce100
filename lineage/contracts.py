"""Data contracts: what a dataset promises, whatever file format it was written in.

One vocabulary for the seed's contract YAML (``schema.fields[].constraints``,
``quality.freshness``, ``quality.row_count.warning``), the Open Data Contract Standard v3
(``schema[].properties[]``, ``quality[]``, ``slaProperties``), dbt model contracts and
tests from ``schema.yml`` and Great Expectations suites: ``parsers.contracts`` reads them
into these values, ``connectors.warehouse`` turns constraints into SQL, ``lineage.checks``
judges history rules, and drift reads them as a baseline. Pure: no I/O here.

Every value keeps the file and line it came from, so a check result or a lint error can
point at the line to fix.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from lineage.errors import InputError
from lineage.model import (
    Dataset,
    DatasetId,
    DatasetProfile,
    DataTest,
    LiveTable,
    ParseIssue,
    Schema,
)

__all__ = [
    "TODAY",
    "Constraint",
    "ConstraintKind",
    "Contract",
    "ContractField",
    "QualityRule",
    "RuleKind",
    "RuleSeverity",
    "Source",
    "bind",
    "contract_from_dataset",
    "contract_template",
    "lint",
    "parse_duration",
    "resolve_bound",
    "type_family",
]

# A MIN / MAX value meaning "the day the check runs" (GE's ``max_value: now``): kept as
# this text so a contract stays a constant; ``resolve_bound`` turns it into a date.
TODAY = "today"


class RuleSeverity(str, Enum):
    """What a broken constraint or rule is: a warning to look at, or an error that fails."""

    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Source:
    """Where a contract value was written: file, 1-based line (None when unknown)."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


class ConstraintKind(str, Enum):
    """Row-level promises about one column, checked over the rows of the table."""

    NOT_NULL = "not_null"
    UNIQUE = "unique"
    MAX_LENGTH = "max_length"
    MIN_LENGTH = "min_length"
    MIN = "min"  # numbers and dates/timestamps (ISO text), inclusive
    MAX = "max"
    ACCEPTED_VALUES = "accepted_values"
    PATTERN = "pattern"  # a regular expression every non-null value matches (whole value)
    TYPE = "type"  # the column's type is this one (compared per dialect through sqlglot)


@dataclass(frozen=True)
class Constraint:
    """One constraint on one column.

    ``value`` holds the threshold as written: an int for lengths, a number or ISO text for
    min/max, a tuple of texts for accepted values, a regex for pattern, a type name for
    type; None for not_null and unique.
    """

    kind: ConstraintKind
    column: str
    value: int | float | str | tuple[str, ...] | None = None
    severity: RuleSeverity = RuleSeverity.ERROR
    source: Source | None = None
    name: str | None = None  # the name the file gives it (GE expectation, dbt test), if any

    @property
    def label(self) -> str:
        """A stable check name: ``not_null(customer_id)``, ``max_length(cid)``."""
        return self.name or f"{self.kind.value}({self.column})"


class RuleKind(str, Enum):
    """Table-level quality rules, judged on figures (live, or from the metric history)."""

    FRESHNESS = "freshness"  # age of the newest loaded-at value <= max_age_seconds
    ROW_COUNT_VS_AVERAGE = "row_count_vs_average"  # within ±tolerance of the N-day average
    ROW_COUNT_VS_PREVIOUS = "row_count_vs_previous"  # within ±tolerance of the day before
    ROW_COUNT_MIN = "row_count_min"  # at least ``minimum`` rows
    NULL_RATE = "null_rate"  # null rate of ``column`` <= max_rate (0..1)
    CUSTOM_SQL = "custom_sql"  # ``sql`` returns zero rows


@dataclass(frozen=True)
class QualityRule:
    """One quality rule; only the fields its kind uses are set.

    ``tolerance`` is a fraction (0.15 for ±15%), ``max_rate`` a fraction, ``window_days``
    the averaging window (7 for "7d avg"), ``max_age_seconds`` the freshness limit,
    ``column`` the loaded-at column for freshness (None: the configured default) or the
    column of a null-rate rule.
    """

    kind: RuleKind
    severity: RuleSeverity = RuleSeverity.ERROR
    column: str | None = None
    max_age_seconds: float | None = None
    tolerance: float | None = None
    window_days: int | None = None
    minimum: int | None = None
    max_rate: float | None = None
    sql: str | None = None
    source: Source | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        """A stable check name: ``freshness``, ``row_count_vs_average(7d)``, ..."""
        if self.name:
            return self.name
        if self.kind is RuleKind.ROW_COUNT_VS_AVERAGE:
            return f"{self.kind.value}({self.window_days or 7}d)"
        if self.kind is RuleKind.NULL_RATE:
            return f"{self.kind.value}({self.column})"
        return str(self.kind.value)


@dataclass(frozen=True)
class ContractField:
    """A column as the contract documents it."""

    name: str
    type: str | None = None
    description: str | None = None
    required: bool = False  # ODCS ``required`` / dbt ``not_null``: also a NOT_NULL constraint
    primary_key: bool = False
    sensitive: bool = False  # never shown in samples of offending rows (PII, classification)
    constraints: tuple[Constraint, ...] = ()
    source: Source | None = None


@dataclass(frozen=True)
class Contract:
    """What one contract file (or one dbt model's contract) promises about one dataset.

    ``dataset`` is the binding key as written (``dataset:``, ODCS ``physicalName``, the dbt
    model's relation), None when the contract binds by its file's stem (``stem``). ``kind``
    says which format it was read from: ``seed``, ``odcs``, ``dbt`` or ``great_expectations``.
    """

    source: Source
    kind: str
    stem: str
    dataset: str | None = None
    fields: tuple[ContractField, ...] = ()
    rules: tuple[QualityRule, ...] = ()
    owners: tuple[str, ...] = ()
    description: str | None = None
    version: str | None = None

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        """Every column constraint, in field order."""
        return tuple(c for f in self.fields for c in f.constraints)

    def field(self, name: str) -> ContractField | None:
        """The field named ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((f for f in self.fields if f.name.lower() == wanted), None)


# -- durations and dynamic bounds ----------------------------------------------------------

_UNIT_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "jam"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "wk", "week", "weeks"), 604800),
}
_NUMBER = r"\d+(?:\.\d+)?"
_DURATION = re.compile(rf"(?:{_NUMBER}\s*[a-z]+\s*)+")
_DURATION_PART = re.compile(rf"({_NUMBER})\s*([a-z]+)")
_ISO_DURATION = re.compile(
    rf"p(?:({_NUMBER})w)?(?:({_NUMBER})d)?(?:t(?:({_NUMBER})h)?(?:({_NUMBER})m)?(?:({_NUMBER})s)?)?"
)
# "< 1h", "<= 24h", "≤1h" (and its mojibake): an upper bound is what a duration means here.
_UPPER_BOUND = re.compile(r"^(?:<=|<|≤|â‰¤)\s*")


def parse_duration(value: str | int | float) -> float:
    """Seconds in a duration as contracts write them.

    ``24h``, ``1h30m``, ``90 min``, ``2 days``, ``1w``, ISO-8601 ``PT1H`` / ``P1DT2H``; a
    bare number is seconds; a leading ``<`` / ``<=`` / ``≤`` is allowed (``< 1 h``).

    Raises:
        ValueError: the text is not a duration (unknown unit, negative, empty).
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"negative duration: {value!r}")
        return float(value)
    text = _UPPER_BOUND.sub("", str(value).strip().lower()).strip()
    if re.fullmatch(_NUMBER, text):
        return float(text)
    iso = _ISO_DURATION.fullmatch(text)
    if iso and text not in ("p", "pt") and not text.endswith("t"):
        weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in iso.groups())
        return (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds
    if not _DURATION.fullmatch(text):
        raise ValueError(f"not a duration: {value!r} (write e.g. 24h, 1h30m, PT1H)")
    total = 0.0
    for number, unit in _DURATION_PART.findall(text):
        if unit not in _UNIT_SECONDS:
            raise ValueError(f"unknown duration unit {unit!r} in {value!r} (s, m, h, d, w)")
        total += float(number) * _UNIT_SECONDS[unit]
    return total


def resolve_bound(
    value: int | float | str | tuple[str, ...] | None, today: date
) -> int | float | str | tuple[str, ...] | None:
    """A MIN / MAX value as the check compares it: ``TODAY`` becomes ``today`` in ISO text."""
    return today.isoformat() if value == TODAY else value


# -- dbt: a model's tests and enforced contract as a Contract -----------------------------

_DBT_PACKAGES = ("", "dbt_utils", "dbt_expectations")
_Made = list["Constraint | QualityRule"]


def contract_from_dataset(dataset: Dataset) -> Contract | None:
    """A dbt model's tests and enforced contract as one ``Contract(kind="dbt")``.

    Kept: ``not_null``, ``unique``, ``accepted_values``, dbt_utils ``accepted_range``,
    ``not_null_proportion``, ``recency`` and the dbt_expectations column expectations
    that say one simple thing (``..._to_be_between``, ``..._to_match_regex`` ...);
    enforced contract column types become TYPE constraints, a source's ``freshness``
    FRESHNESS rules, ``severity: warn`` WARNING. Skipped (dbt itself runs them):
    ``relationships`` (a promise about two tables), ``expression_is_true`` and other
    arbitrary SQL, custom tests. None when nothing is promised.
    """
    src = Source(dataset.source_file or str(dataset.id))
    order: dict[str, str] = {}  # lower name -> name as written, in schema order
    types: dict[str, str | None] = {}
    descriptions: dict[str, str | None] = {}
    for f in (dataset.schema or Schema()).fields:
        order.setdefault(f.name.lower(), f.name)
        types[f.name.lower()] = f.type
        descriptions[f.name.lower()] = f.description
    by_column: dict[str, list[Constraint]] = {}
    rules: list[QualityRule] = []
    for test in dataset.tests:
        try:
            kept = _from_dbt_test(test, src)
        except (TypeError, ValueError):  # arguments of the wrong kind: dbt will say so
            kept = []
        for made in kept:
            if isinstance(made, QualityRule):
                rules.append(made)
            else:
                order.setdefault(made.column.lower(), made.column)
                by_column.setdefault(made.column.lower(), []).append(made)
    if dataset.contract_enforced:
        for key, type_ in types.items():
            if type_:
                by_column.setdefault(key, []).append(
                    Constraint(ConstraintKind.TYPE, order[key], type_, source=src)
                )
    rules.extend(_dbt_freshness(dataset, src))
    if not by_column and not rules:
        return None
    fields = tuple(
        ContractField(
            name=name,
            type=types.get(key),
            description=descriptions.get(key),
            required=any(c.kind is ConstraintKind.NOT_NULL for c in by_column.get(key, ())),
            constraints=tuple(by_column.get(key, ())),
            source=src,
        )
        for key, name in order.items()
    )
    return Contract(
        source=src, kind="dbt", stem=re.split(r"[./]", dataset.id.name)[-1],
        dataset=dataset.id.name, fields=fields, rules=tuple(rules), owners=dataset.owners,
        description=dataset.description,
    )


def _from_dbt_test(test: DataTest, src: Source) -> _Made:
    package, _, short = test.name.rpartition(".")
    if package not in _DBT_PACKAGES:
        return []
    try:
        loaded = json.loads(test.arguments or "{}")
    except ValueError:
        return []
    args: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
    warn = test.severity.lower().startswith("warn")
    severity = RuleSeverity.WARNING if warn else RuleSeverity.ERROR
    column = test.column or args.get("column_name")

    def constraint(kind: ConstraintKind, value: Any = None) -> Constraint:
        return Constraint(kind, str(column), value, severity, src)

    if short == "recency" and args.get("field"):
        unit = _UNIT_SECONDS.get(str(args.get("datepart", "day")).lower())
        if unit is None:  # month, quarter, year: no fixed length, not guessed
            return []
        seconds = float(args.get("interval", 1)) * unit
        return [QualityRule(RuleKind.FRESHNESS, severity, column=str(args["field"]),
                            max_age_seconds=seconds, source=src)]
    if short == "expect_table_row_count_to_be_between" and args.get("min_value") is not None:
        return [QualityRule(RuleKind.ROW_COUNT_MIN, severity, minimum=int(args["min_value"]),
                            source=src)]
    if column is None:
        return []
    if short in ("not_null", "expect_column_values_to_not_be_null"):
        return [constraint(ConstraintKind.NOT_NULL)]
    if short in ("unique", "expect_column_values_to_be_unique"):
        return [constraint(ConstraintKind.UNIQUE)]
    if short in ("accepted_values", "expect_column_values_to_be_in_set"):
        values = args.get("values", args.get("value_set"))
        if isinstance(values, list):
            return [constraint(ConstraintKind.ACCEPTED_VALUES, tuple(str(v) for v in values))]
        return []
    if short == "not_null_proportion" and args.get("at_least") is not None:
        return [QualityRule(RuleKind.NULL_RATE, severity, column=str(column),
                            max_rate=1.0 - float(args["at_least"]), source=src)]
    if short == "expect_column_values_to_match_regex" and args.get("regex"):
        return [constraint(ConstraintKind.PATTERN, str(args["regex"]))]
    if short == "expect_column_values_to_be_of_type" and args.get("column_type"):
        return [constraint(ConstraintKind.TYPE, str(args["column_type"]))]
    pairs = {
        "accepted_range": (ConstraintKind.MIN, ConstraintKind.MAX),
        "expect_column_values_to_be_between": (ConstraintKind.MIN, ConstraintKind.MAX),
        "expect_column_value_lengths_to_be_between": (
            ConstraintKind.MIN_LENGTH, ConstraintKind.MAX_LENGTH),
    }.get(short)
    if pairs is None:
        return []
    made: _Made = []
    for kind, key in zip(pairs, ("min_value", "max_value"), strict=True):
        if args.get(key) is not None:
            value = args[key]
            made.append(constraint(kind, int(value) if "LENGTH" in kind.name else value))
    return made


def _dbt_freshness(dataset: Dataset, src: Source) -> list[QualityRule]:
    fresh = dataset.freshness
    if fresh is None:
        return []
    rules = []
    for after, severity in ((fresh.warn_after, RuleSeverity.WARNING),
                            (fresh.error_after, RuleSeverity.ERROR)):
        if after:
            try:
                seconds = parse_duration(after)
            except ValueError:
                continue
            rules.append(QualityRule(RuleKind.FRESHNESS, severity, fresh.loaded_at_field,
                                     max_age_seconds=seconds, source=src))
    return rules


# -- binding a contract to a dataset ----------------------------------------------------

_MAX_CANDIDATES = 10


def bind(contract: Contract, datasets: Sequence[DatasetId]) -> DatasetId:
    """The dataset ``contract`` is about, among ``datasets``.

    By ``contract.dataset`` when set: ``namespace/name`` or the exact name, else a unique
    dotted suffix (``silver.erp_cust_az12`` matches ``dwh.silver.erp_cust_az12``); else by
    the file's stem against the last part of each name. Case-insensitive.

    Raises:
        InputError: no dataset or more than one matches; names the file and up to ten
            candidates (the matches, or the closest names).
    """
    if contract.dataset:
        key = contract.dataset.strip().lower()
        what = f"dataset {contract.dataset!r}"
        found = [d for d in datasets if key in (str(d).lower(), d.name.lower())]
        if not found:
            found = [d for d in datasets if d.name.lower().endswith("." + key)
                     or str(d).lower().endswith("." + key)]
    else:
        key = contract.stem.lower()
        what = f"file stem {contract.stem!r}"
        found = [d for d in datasets if _last_part(d.name) == key]
    unique = sorted(set(found))
    if len(unique) == 1:
        return unique[0]
    file, line = contract.source.file, contract.source.line
    if unique:
        shown = ", ".join(str(d) for d in unique[:_MAX_CANDIDATES])
        raise InputError(f"{what} is ambiguous: it matches {len(unique)} datasets: {shown} "
                         "(write the full name in `dataset:`)", file=file, line=line)
    names = sorted({d.name for d in datasets})
    close = difflib.get_close_matches(key, [n.lower() for n in names], _MAX_CANDIDATES, 0.4)
    by_lower = {n.lower(): n for n in names}
    shown = ", ".join(by_lower[c] for c in close) or ", ".join(names[:_MAX_CANDIDATES])
    hint = f"; candidates: {shown}" if shown else ""
    raise InputError(f"{what} matches none of the {len(names)} known datasets{hint}",
                     file=file, line=line)


def _last_part(name: str) -> str:
    return re.split(r"[./]", name.lower())[-1]


# -- lint: a contract against the documented and live schemas ----------------------------

# The logical type names contracts write (seed, ODCS logicalType) whatever the warehouse.
_LOGICAL_TYPES = {"string": "string", "text": "string", "integer": "number", "int": "number",
                  "number": "number", "decimal": "number", "float": "number",
                  "boolean": "boolean", "bool": "boolean", "date": "date",
                  "timestamp": "timestamp", "datetime": "timestamp", "time": "time"}


def type_family(type_text: str, dialect: str | None = None) -> str | None:
    """The family of a SQL type: string, number, boolean, date, timestamp, time; None for
    the others (JSON, binary, arrays ...), which lint does not compare.

    Raises:
        ValueError: ``type_text`` is not a type of ``dialect`` (nor a logical type name).
    """
    logical = _LOGICAL_TYPES.get(type_text.strip().lower())
    if logical:
        return logical
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        built = exp.DataType.build(type_text, dialect=dialect, udt=False)
    except (SqlglotError, ValueError) as exc:
        raise ValueError(f"{type_text!r} is not a type of {dialect or 'SQL'}") from exc
    kind = built.this
    types = exp.DataType.Type
    if kind in exp.DataType.TEXT_TYPES or kind in (types.CHAR, types.NCHAR, types.NAME):
        return "string"
    if kind in exp.DataType.INTEGER_TYPES or kind in exp.DataType.REAL_TYPES:
        return "number"
    if kind is types.BOOLEAN:
        return "boolean"
    if kind in (types.DATE, types.DATE32):
        return "date"
    if kind in (types.TIME, types.TIMETZ):
        return "time"
    if kind in exp.DataType.TEMPORAL_TYPES:
        return "timestamp"
    return None


def lint(
    contract: Contract,
    *,
    documented: Schema | None = None,
    live: LiveTable | None = None,
    dialect: str | None = None,
) -> list[ParseIssue]:
    """What in ``contract`` cannot hold against the dataset's schemas, with file and line.

    Unknown columns (against the live schema, else the documented one; the message says
    which), a declared type that is no type of ``dialect`` or whose family contradicts the
    live type, and constraints meaningless for the column's type (max_length on a number,
    min on a boolean, a date bound that is no date). A not_null field over a nullable
    live column is fine: the check tests the rows.
    """
    issues: list[ParseIssue] = []
    columns: dict[str, str | None] | None = None
    where = ""
    if live is not None:
        columns = {c.name.lower(): c.type for c in live.columns}
        where = f"the live schema of {live.id.name}"
    elif documented is not None:
        columns = {f.name.lower(): f.type for f in documented.fields}
        where = "the documented schema"

    def report(message: str, source: Source | None) -> None:
        src = source or contract.source
        issues.append(ParseIssue(message, line=src.line, file=src.file))

    for field in contract.fields:
        known = columns is not None and field.name.lower() in columns
        if columns is not None and not known:
            report(f"unknown column {field.name!r}: not in {where}", field.source)
        live_type = columns.get(field.name.lower()) if columns and live is not None else None
        live_family = _family_or_none(live_type, dialect)
        declared = [(field.type, field.source)] + [
            (str(c.value), c.source) for c in field.constraints if c.kind is ConstraintKind.TYPE]
        family = live_family
        for type_text, source in declared:
            if not type_text:
                continue
            try:
                declared_family = type_family(type_text, dialect)
            except ValueError as exc:
                report(f"column {field.name!r}: {exc}", source)
                continue
            if live_family and declared_family and declared_family != live_family:
                report(f"column {field.name!r}: declared type {type_text!r} ({declared_family})"
                       f" contradicts the live type {live_type!r} ({live_family})", source)
            family = family or declared_family
        for constraint in field.constraints:
            problem = _constraint_problem(constraint, family)
            if problem:
                report(f"{constraint.label}: {problem}", constraint.source or field.source)
    for rule in contract.rules:
        if rule.column and columns is not None and rule.column.lower() not in columns:
            report(f"{rule.label}: unknown column {rule.column!r}: not in {where}", rule.source)
    return issues


def _family_or_none(type_text: str | None, dialect: str | None) -> str | None:
    if not type_text:
        return None
    try:
        return type_family(type_text, dialect)
    except ValueError:  # a live type sqlglot does not know: nothing to compare against
        return None


def _constraint_problem(constraint: Constraint, family: str | None) -> str | None:
    kind, value = constraint.kind, constraint.value
    if family is None:
        return None
    lengths = (ConstraintKind.MAX_LENGTH, ConstraintKind.MIN_LENGTH, ConstraintKind.PATTERN)
    if kind in lengths and family != "string":
        return f"{kind.value} makes no sense for a {family} column"
    if kind in (ConstraintKind.MIN, ConstraintKind.MAX):
        if family == "boolean":
            return f"{kind.value} makes no sense for a boolean column"
        if family == "number" and not _is_number(value):
            return f"{value!r} is not a number, the column is one"
        if family in ("date", "timestamp") and value != TODAY and not _is_iso_date(value):
            return f"{value!r} is not an ISO date, the column is a {family}"
    return None


def _is_number(value: object) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _is_iso_date(value: object) -> bool:
    from datetime import datetime

    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return True


# -- init: a contract template from the live schema and the latest profile ------------------

_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def contract_template(
    live: LiveTable, profile: DatasetProfile | None, *, dataset_name: str
) -> str:
    """The YAML ``lineage contract init`` writes, in the seed's shape.

    Every live column with its type; ``not_null`` for non-nullable columns and ``unique``
    for a one-column primary key are promised; what the profile observed (ranges,
    lengths, null rates, row count, the newest loaded-at value) is written as commented
    suggestions to uncomment. Reads back with ``parsers.contracts.read_contract`` into a
    contract bound to ``dataset_name``.
    """
    header = "live schema" if profile is None else (
        f"live schema and the profile of {profile.observed_at:%Y-%m-%d %H:%M}")
    out = [f"# Data contract for {dataset_name}, written by `lineage contract init`",
           f"# from the {header}.",
           "# Observed values are commented suggestions: uncomment what you promise.",
           f"dataset: {_yaml_text(dataset_name)}", "schema:", "  fields:"]
    single_key = live.primary_key if len(live.primary_key) == 1 else ()
    for column in live.columns:
        out.append(f"    - name: {_yaml_text(column.name)}")
        if column.type:
            out.append(f"      type: {_yaml_text(column.type)}")
        if column.comment:
            out.append(f"      description: {_yaml_text(column.comment)}")
        promised = ["not_null"] if column.nullable is False else []
        if column.name in single_key:
            promised.append("unique")
        suggested = _column_suggestions(column.name, profile)
        out.append("      constraints:" if promised or suggested else "      constraints: []")
        out.extend(f"        - {item}" for item in promised)
        out.extend(f"        # - {item}" for item in suggested)
        rate = None if profile is None else profile.metric("null_rate", column.name)
        if rate is not None:
            limit = max(1, int(-(-rate * 100 // 1)))  # the observed rate, rounded up to 1 %
            out += ["      # quality:",
                    f"      #   null_rate: '<= {limit}%'   # observed {rate:.2%}"]
    out += ["quality:", *_table_suggestions(profile)]
    return "\n".join(out) + "\n"


def _column_suggestions(column: str, profile: DatasetProfile | None) -> list[str]:
    if profile is None:
        return []
    found: list[str] = []
    for name in ("min", "max"):
        value = profile.metric(name, column)
        if value is not None:
            found.append(f"{name}: {_yaml_number(value)}   # observed {name}")
    for bound_column, low, high in profile.bounds:
        if bound_column == column:
            found += [f"{name}: {_yaml_text(value, quote=True)}   # observed {name}"
                      for name, value in (("min", low), ("max", high)) if value is not None]
    longest = profile.metric("max_length", column)
    if longest is not None:
        found.append(f"max_length: {int(longest)}   # observed longest value")
    return found


def _table_suggestions(profile: DatasetProfile | None) -> list[str]:
    lines = ["  # freshness: 24h   # the newest loaded-at value must be younger than this"]
    if profile is not None:
        for point in profile.metrics:
            if point.name == "last_loaded_at" and point.column:
                age = profile.observed_at.timestamp() - point.value
                lines = ["  # freshness:",
                         "  #   max_age: 24h",
                         f"  #   column: {_yaml_text(point.column)}"
                         f"   # newest value was {age / 3600:.1f} h old when profiled"]
                break
    rows = None if profile is None else profile.metric("row_count")
    observed = "" if rows is None else f"   # observed {int(rows)} rows"
    lines += ["  # row_count:", f"  #   warning: ±15% from 7d avg{observed}"]
    if rows is not None:
        lines.append(f"  # min_rows: {int(rows)}{observed}")
    return lines


def _yaml_text(text: str, *, quote: bool = False) -> str:
    """A YAML scalar reading back as ``text``: plain when safe, else quoted."""
    if not quote and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", text) and (
            text.lower() not in _YAML_WORDS):
        return text
    if any(ord(ch) < 32 for ch in text):
        return json.dumps(text)  # JSON strings are YAML double-quoted scalars
    return "'" + text.replace("'", "''") + "'"


def _yaml_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
