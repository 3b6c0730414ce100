"""The contract vocabulary: constraints, quality rules, fields, contracts; durations.

Every value keeps the file and line it came from (``Source``), so a check result or a
lint error can point at the line to fix. Pure: no I/O here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum

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
    "parse_duration",
    "resolve_bound",
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

