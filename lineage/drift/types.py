"""Comparing two column types per dialect through sqlglot's data types, not as strings.

``character varying(50)`` (PostgreSQL), ``VARCHAR(50)`` (Redshift) and ``STRING``
(BigQuery) are read into one ``sqlglot.exp.DataType`` each and compared by what a reader
can store in them: string lengths, integer sizes, numeric precision and scale, date vs
timestamp. Defaults a dialect applies to a bare type are spelled out (Redshift's
``VARCHAR`` is 256 characters, BigQuery's ``NUMERIC`` is (38, 9)). sqlglot loads on the
first comparison only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = [
    "LOGICAL_FAMILIES",
    "TypeFacts",
    "TypeVerdict",
    "arrow_facts",
    "compare_families",
    "compare_logical",
    "compare_types",
    "dialect_of",
    "type_facts",
    "type_family",
]

_NUMERIC = frozenset({"integer", "decimal", "float"})
#: The logical type names contracts write (seed YAML, ODCS ``logicalType``) and the
#: families of physical types each accepts.
LOGICAL_FAMILIES: dict[str, frozenset[str]] = {
    "string": frozenset({"string"}), "text": frozenset({"string"}),
    "integer": frozenset({"integer"}), "int": frozenset({"integer"}),
    "long": frozenset({"integer"}), "number": _NUMERIC, "decimal": frozenset({"decimal"}),
    "numeric": frozenset({"decimal"}), "float": frozenset({"float"}),
    "double": frozenset({"float"}), "boolean": frozenset({"boolean"}),
    "bool": frozenset({"boolean"}), "date": frozenset({"date"}),
    "timestamp": frozenset({"timestamp"}), "datetime": frozenset({"timestamp"}),
    "time": frozenset({"time"}),
}  # fmt: skip

_SCHEMES = {"postgres": "postgres", "postgresql": "postgres", "redshift": "redshift",
            "snowflake": "snowflake", "bigquery": "bigquery", "duckdb": "duckdb",
            "sqlite": "sqlite", "mysql": "mysql", "trino": "trino", "databricks": "databricks",
            "spark": "spark", "hive": "hive", "mssql": "tsql", "sqlserver": "tsql",
            "oracle": "oracle", "clickhouse": "clickhouse", "awsathena": "athena"}  # fmt: skip


def dialect_of(namespace: str) -> str | None:
    """The sqlglot dialect a dataset namespace's scheme names (``postgres://db`` ->
    ``postgres``), None for files and unknown schemes (types then read dialect-free)."""
    scheme = namespace.partition("://")[0].split("+", 1)[0].lower()
    return _SCHEMES.get(scheme)


class TypeVerdict(str, Enum):
    SAME = "same"
    WIDENED = "widened"
    NARROWED = "narrowed"
    CHANGED = "changed"  # another family
    TIMEZONE = "timezone"  # timestamp <-> timestamp with time zone
    UNCOMPARABLE = "uncomparable"  # a type sqlglot cannot read, spelled differently


@dataclass(frozen=True)
class TypeFacts:
    """What matters of a type for its readers.

    ``family``: string, integer, decimal, float, boolean, date, timestamp, time, or
    ``other:<TYPE>``; ``size`` the string length (None: unbounded), integer bytes, float
    bytes or decimal precision (None: unbounded); ``scale`` a decimal's scale or a
    timestamp's fractional digits; ``zoned`` whether a timestamp carries a time zone.
    """

    family: str
    size: int | None = None
    scale: int | None = None
    zoned: bool = False
    text: str = ""


_UNBOUNDED_VARCHAR = {"redshift": 256}  # a bare VARCHAR elsewhere holds any length
_SNOWFLAKE_MAX = 16_777_216
_DECIMAL_DEFAULTS = {"bigquery": (38, 9), "duckdb": (18, 3), "redshift": (18, 0),
                     "snowflake": (38, 0)}  # fmt: skip; PostgreSQL's numeric is unbounded
_INTEGER_DIGITS = {1: 3, 2: 5, 4: 10, 8: 19, 16: 39}
_TIMESTAMP_DIGITS = 6  # microseconds, every dialect here when no precision is written


def type_facts(text: str, dialect: str | None = None) -> TypeFacts | None:
    """The facts of ``text`` in ``dialect``, None when sqlglot cannot read it.

    Without a dialect (files) Arrow's spellings come first: pyarrow names a Parquet
    column ``timestamp[us, tz=UTC]``, ``decimal128(18, 2)`` or ``large_string``, which
    sqlglot misreads (an array) or cannot read.
    """
    if dialect is None:
        arrow = arrow_facts(text)
        if arrow is not None:
            return arrow
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        built = exp.DataType.build(text, dialect=dialect, udt=False)
    except (SqlglotError, ValueError):
        return None
    return _facts(built, dialect, exp)


_ARROW_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}
_ARROW_FLOATS = {"halffloat": 2, "float16": 2, "float": 4, "float32": 4, "double": 8,
                 "float64": 8}  # fmt: skip
_ARROW_TIME = re.compile(r"(timestamp|time32|time64)\[(s|ms|us|ns)(?:, tz=(.+))?\]")
_ARROW_DECIMAL = re.compile(r"decimal(?:32|64|128|256)?\((\d+), ?(-?\d+)\)")
_ARROW_INTEGER = re.compile(r"u?int(8|16|32|64)")
#: Arrow's string types: 32-bit offsets hold at most 2 GiB of text per array, 64-bit
#: (``large_``) offsets no practical amount; ``string_view`` holds what ``string`` does.
_ARROW_STRINGS = {"string": 32, "utf8": 32, "string_view": 32, "large_string": 64,
                  "large_utf8": 64}  # fmt: skip


def arrow_facts(text: str) -> TypeFacts | None:
    """The facts of an Arrow type as pyarrow spells it (``str(pa.int32())``), else None."""
    spelled = text.strip()
    if spelled in _ARROW_STRINGS:
        return TypeFacts("string", None, text=spelled)
    if spelled in ("bool", "boolean"):
        return TypeFacts("boolean", text=spelled)
    if spelled in ("date32[day]", "date64[ms]"):
        return TypeFacts("date", text=spelled)
    if spelled in _ARROW_FLOATS:
        return TypeFacts("float", _ARROW_FLOATS[spelled], text=spelled)
    integer = _ARROW_INTEGER.fullmatch(spelled)
    if integer:
        return TypeFacts("integer", int(integer.group(1)) // 8, text=spelled)
    decimal = _ARROW_DECIMAL.fullmatch(spelled)
    if decimal:
        return TypeFacts("decimal", int(decimal.group(1)), int(decimal.group(2)), text=spelled)
    moment = _ARROW_TIME.fullmatch(spelled)
    if moment:
        family = "timestamp" if moment.group(1) == "timestamp" else "time"
        return TypeFacts(family, scale=_ARROW_DIGITS[moment.group(2)],
                         zoned=moment.group(3) is not None, text=spelled)  # fmt: skip
    return None


def _params(built: Any) -> list[int]:
    found = []
    for param in built.expressions:
        try:
            found.append(int(param.this.this if hasattr(param.this, "this") else param.this))
        except (TypeError, ValueError, AttributeError):
            try:
                found.append(int(param.sql()))
            except ValueError:
                continue
    return found


def _facts(built: Any, dialect: str | None, exp: Any) -> TypeFacts:
    t = exp.DataType.Type
    kind = built.this
    params = _params(built)
    sql = built.sql()
    if kind in exp.DataType.TEXT_TYPES or kind in (t.CHAR, t.NCHAR, t.BPCHAR, t.NAME):
        bounded_default = 1 if kind in (t.CHAR, t.NCHAR) else _UNBOUNDED_VARCHAR.get(dialect or "")
        size = params[0] if params else bounded_default
        if kind in (t.TEXT, t.MEDIUMTEXT, t.LONGTEXT) or (size or 0) >= _SNOWFLAKE_MAX:
            size = None
        return TypeFacts("string", size, text=sql)
    if kind in exp.DataType.INTEGER_TYPES and dialect == "snowflake":
        return TypeFacts("decimal", 38, 0, text=sql)  # INT, BIGINT ... are NUMBER(38,0) there
    if kind in exp.DataType.INTEGER_TYPES or kind is t.SERIAL or kind is t.BIGSERIAL:
        return TypeFacts("integer", _integer_bytes(kind, t), text=sql)
    if kind in (t.DECIMAL, t.BIGDECIMAL, t.MONEY, t.UDECIMAL):
        if kind is t.BIGDECIMAL and not params:
            params = [76, 38]
        if not params:
            default = _DECIMAL_DEFAULTS.get(dialect or "")
            if default is None:
                return TypeFacts("decimal", None, None, text=sql)
            params = list(default)
        scale = params[1] if len(params) > 1 else 0
        return TypeFacts("decimal", params[0], scale, text=sql)
    if kind in (t.FLOAT, t.DOUBLE):
        return TypeFacts("float", 4 if kind is t.FLOAT else 8, text=sql)
    if kind is t.BOOLEAN:
        return TypeFacts("boolean", text=sql)
    if kind in (t.DATE, t.DATE32):
        return TypeFacts("date", text=sql)
    if kind in (t.TIME, t.TIMETZ):
        return TypeFacts("time", zoned=kind is t.TIMETZ, text=sql)
    if kind in exp.DataType.TEMPORAL_TYPES:
        zoned = kind in (t.TIMESTAMPTZ, t.TIMESTAMPLTZ)
        digits = params[0] if params else _TIMESTAMP_DIGITS
        if kind in (t.TIMESTAMP_S,):
            digits = 0
        elif kind in (t.TIMESTAMP_MS,):
            digits = 3
        elif kind in (t.TIMESTAMP_NS,):
            digits = 9
        return TypeFacts("timestamp", scale=digits, zoned=zoned, text=sql)
    return TypeFacts(f"other:{kind.value}", text=sql)


def _integer_bytes(kind: Any, t: Any) -> int:
    sizes = {t.TINYINT: 1, t.UTINYINT: 1, t.SMALLINT: 2, t.USMALLINT: 2, t.MEDIUMINT: 4,
             t.INT: 4, t.UINT: 4, t.SERIAL: 4, t.BIGINT: 8, t.UBIGINT: 8, t.BIGSERIAL: 8,
             t.INT128: 16, t.UINT128: 16, t.INT256: 32, t.UINT256: 32}  # fmt: skip
    return int(sizes.get(kind, 8))


def compare_types(
    old: str, new: str, old_dialect: str | None = None, new_dialect: str | None = None
) -> tuple[TypeVerdict, str]:
    """How ``new`` differs from ``old`` for a reader, and why in a few words.

    Types compare across dialects (a BigQuery baseline against a Snowflake table).
    """
    spelled_alike = " ".join(old.lower().split()) == " ".join(new.lower().split())
    if spelled_alike and old_dialect == new_dialect:
        return TypeVerdict.SAME, ""
    a, b = type_facts(old, old_dialect), type_facts(new, new_dialect)
    if a is None or b is None:
        return TypeVerdict.UNCOMPARABLE, f"sqlglot cannot read {old if a is None else new!r}"
    return _compare(a, b)


def compare_logical(
    logical: str, physical: str, dialect: str | None = None
) -> tuple[TypeVerdict, str]:
    """A contract's logical type (``string``, ``number``) against a physical one: only the
    family can differ; a name that is not logical is compared as a type."""
    families = LOGICAL_FAMILIES.get(logical.strip().lower())
    if families is None:
        return compare_types(logical, physical, dialect, dialect)
    facts = type_facts(physical, dialect)
    if facts is None:
        return TypeVerdict.UNCOMPARABLE, f"sqlglot cannot read {physical!r}"
    if facts.family in families:
        return TypeVerdict.SAME, ""
    return TypeVerdict.CHANGED, f"{logical} becomes {_family(facts)}"


def _compare(a: TypeFacts, b: TypeFacts) -> tuple[TypeVerdict, str]:
    if a.family == b.family:
        return _same_family(a, b)
    numeric = {"integer", "decimal", "float"}
    if a.family in numeric and b.family in numeric:
        return _numeric(a, b)
    if (a.family, b.family) == ("date", "timestamp"):
        return TypeVerdict.WIDENED, "a date becomes a timestamp (midnight)"
    if (a.family, b.family) == ("timestamp", "date"):
        return TypeVerdict.NARROWED, "a timestamp loses its time of day"
    return TypeVerdict.CHANGED, f"{_family(a)} becomes {_family(b)}"


def _family(facts: TypeFacts) -> str:
    return facts.family.partition(":")[2].lower() if ":" in facts.family else facts.family


def _order(a: int | None, b: int | None) -> int:
    """-1 when b holds less than a, 1 when more, 0 when equal (None: unbounded)."""
    if a == b:
        return 0
    if a is None:
        return -1
    if b is None:
        return 1
    return 1 if b > a else -1


_VERDICT = {1: TypeVerdict.WIDENED, -1: TypeVerdict.NARROWED, 0: TypeVerdict.SAME}


def _same_family(a: TypeFacts, b: TypeFacts) -> tuple[TypeVerdict, str]:
    offsets = _ARROW_STRINGS.get(a.text), _ARROW_STRINGS.get(b.text)
    if a.family == "string" and None not in offsets and offsets[0] != offsets[1]:
        verdict = _VERDICT[_order(offsets[0], offsets[1])]
        return verdict, f"{offsets[0]}-bit offsets -> {offsets[1]}-bit (Arrow {b.text})"
    if a.family == "string":
        verdict = _VERDICT[_order(a.size, b.size)]
        return verdict, _span("length", a.size, b.size) if verdict is not TypeVerdict.SAME else ""
    if a.family in ("integer", "float"):
        verdict = _VERDICT[_order(a.size, b.size)]
        return verdict, f"{a.size} -> {b.size} bytes" if a.size != b.size else ""
    if a.family == "decimal":
        return _decimal(a, b)
    if a.family in ("timestamp", "time"):
        if a.zoned != b.zoned:
            return TypeVerdict.TIMEZONE, "time zone " + ("added" if b.zoned else "removed")
        verdict = _VERDICT[_order(a.scale, b.scale)]
        return verdict, _span("fractional digits", a.scale, b.scale) if a.scale != b.scale else ""
    if a.family.startswith("other:") and a.text != b.text:
        return TypeVerdict.CHANGED, f"{a.text} becomes {b.text}"
    return TypeVerdict.SAME, ""


def _span(what: str, a: int | None, b: int | None) -> str:
    return f"{what} {'unbounded' if a is None else a} -> {'unbounded' if b is None else b}"


def _digits(facts: TypeFacts) -> tuple[int | None, int | None]:
    """(integer digits, fraction digits) a numeric type holds exactly; None: unbounded."""
    if facts.family == "integer":
        return _INTEGER_DIGITS.get(facts.size or 8, 39), 0
    if facts.family == "decimal":
        if facts.size is None:
            return None, None
        return facts.size - (facts.scale or 0), facts.scale or 0
    return (7, None) if facts.size == 4 else (15, None)  # floats: exact integer digits


def _decimal(a: TypeFacts, b: TypeFacts) -> tuple[TypeVerdict, str]:
    (ia, fa), (ib, fb) = _digits(a), _digits(b)
    whole, fraction = _order(ia, ib), _order(fa, fb)
    what = f"precision/scale {_ps(a)} -> {_ps(b)}"
    if whole == fraction == 0:
        return TypeVerdict.SAME, ""
    if whole >= 0 and fraction >= 0:
        return TypeVerdict.WIDENED, what
    return TypeVerdict.NARROWED, what


def _ps(facts: TypeFacts) -> str:
    return "unbounded" if facts.size is None else f"({facts.size},{facts.scale or 0})"


def _numeric(a: TypeFacts, b: TypeFacts) -> tuple[TypeVerdict, str]:
    what = f"{a.family} {a.text} -> {b.family} {b.text}"
    if b.family == "float":  # approximate: exact only up to its integer digits
        (ia, fa), (ib, _) = _digits(a), _digits(b)
        fits = a.family == "float" or (fa == 0 and ia is not None and ib is not None and ia <= ib)
        return (TypeVerdict.WIDENED if fits else TypeVerdict.NARROWED), what
    if a.family == "float":
        return TypeVerdict.NARROWED, what + " (exact now: fractions or range lost)"
    (ia, fa), (ib, fb) = _digits(a), _digits(b)
    if _order(ia, ib) >= 0 and _order(fa, fb) >= 0:
        return TypeVerdict.WIDENED, what
    return TypeVerdict.NARROWED, what


# -- families: what a data frame's dtypes can say ------------------------------------------

#: Data frame dtypes (pandas / NumPy, pyarrow, polars) -> a coarse family, or None where
#: the dtype says nothing of the column (``object``, ``category``: any values at all).
#: Matched before sqlglot, which reads ``timestamp[us]`` as an array.
_FRAME_DTYPES: tuple[tuple[re.Pattern[str], str | None], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), family)
    for pattern, family in (
        (r"u?int(8|16|32|64)|halffloat|float(16|32|64)?|double|decimal(128|256)?\(.*\)"
         r"|decimal\(.*\)", "number"),
        (r"bool(ean)?", "boolean"),
        (r"str|string|large_string|u?tf8|large_utf8", "string"),
        (r"datetime64\[.*\]|timestamp\[.*\]|date(32|64)\[.*\]|date|datetime(\(.*\))?",
         "temporal"),
        (r"time(32|64)\[.*\]|time", "time"),
        (r"object|category|categorical.*|dictionary<.*>|null|list.*|large_list.*|struct.*"
         r"|array.*|binary|large_binary|bytes|timedelta.*|duration.*|period.*|interval.*",
         None),
    )
)  # fmt: skip
#: A frame's default text dtypes (pandas 3 ``str``, pyarrow ``large_string``, polars
#: ``String``): what a frame holds before it parses anything (dates, decimals, ids as
#: read from a file), so they say nothing of the column either.
_FRAME_TEXT = frozenset({"str", "large_string", "utf8", "large_utf8", "Utf8", "String"})
_COARSE = {"integer": "number", "decimal": "number", "float": "number", "date": "temporal",
           "timestamp": "temporal"}  # fmt: skip


def type_family(text: str, dialect: str | None = None) -> str | None:
    """The coarse family of a column type or a data frame dtype: ``number`` (integers,
    decimals, floats), ``string``, ``boolean``, ``temporal`` (dates and timestamps),
    ``time``, ``other:<TYPE>``; None when the spelling says nothing (``object``, a frame's
    default text dtype) or cannot be read: unknown, never guessed."""
    spelled = text.strip()
    if spelled in _FRAME_TEXT:
        return None
    for pattern, family in _FRAME_DTYPES:
        if pattern.fullmatch(spelled):
            return family
    facts = type_facts(spelled, dialect)
    if facts is None:
        return None
    return _COARSE.get(facts.family, facts.family)


def compare_families(
    old: str, new: str, old_dialect: str | None = None, new_dialect: str | None = None
) -> tuple[TypeVerdict, str]:
    """Whether ``new`` is still of ``old``'s coarse family (see ``type_family``).

    For observations whose types are a representation rather than the column's declared
    type (a data frame's ``int64`` for an ``INTEGER`` column, ``float64`` for a
    ``DECIMAL``): only a change of family is reported, and a side whose family is unknown
    is not compared.
    """
    a, b = type_family(old, old_dialect), type_family(new, new_dialect)
    if a is None or b is None or a == b:
        return TypeVerdict.SAME, ""
    return TypeVerdict.CHANGED, f"{_name(a)} becomes {_name(b)}"


def _name(family: str) -> str:
    return family.partition(":")[2].lower() if ":" in family else family
