"""Judging quality rules on figures: metric history in, check results out. Pure, no I/O.

Profiling writes one set of metric points per scan (``row_count`` of the dataset; per
column ``null_count``, ``null_rate`` 0..1, ``distinct_count``, ``min``, ``max``, and
``last_loaded_at`` in epoch seconds on the loaded-at column). ``judge`` reads them back:

- ``freshness``: age = ``now`` - the latest ``last_loaded_at``; at most ``max_age_seconds``;
- ``row_count_vs_average``: the latest ``row_count`` within ±``tolerance`` of the average
  over the ``window_days`` calendar days (UTC) before the latest point's day, one value
  per day (its last point); fewer than ``min_history_days`` such days: INSUFFICIENT_HISTORY;
- ``row_count_vs_previous``: the latest within ±``tolerance`` of the last point of the
  most recent earlier day (none: INSUFFICIENT_HISTORY);
- ``row_count_min``: the latest ``row_count`` at least ``minimum``;
- ``null_rate``: the latest ``null_rate`` of ``column`` at most ``max_rate``.

"The latest" figure is the ``live`` one when the check measured the table itself (its
own scan: ``COUNT(*)``, ``COUNT(col)``, ``MAX(loaded_at)``), else the newest point of the
history; each result says which (``details["measured"]``: ``live`` or ``profile``, and
``measured_at``). A history figure older than the rule's maximum age (``max_figure_age``,
default ``figure_max_age``: the window of a 7-day average, one day for the others) is
stale: INSUFFICIENT_HISTORY saying so, never PASSED, since yesterday's good figure says
nothing about today. Freshness needs no such limit: an old loaded-at value fails it.

A rule without the figures it needs is INSUFFICIENT_HISTORY (saying "run lineage
profile"), never PASSED; a broken rule (no tolerance, a custom SQL rule, which runs in
the warehouse) is ERROR. A violated rule is FAILED at severity error, WARNING at severity
warning. Points after ``now`` are ignored, so a judgement can be replayed for any moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Literal

from lineage.contracts import QualityRule, RuleKind, RuleSeverity
from lineage.errors import ConfigError
from lineage.model import DatasetId, DatasetProfile
from lineage.views import CheckResult, CheckStatus, MetricPoint

__all__ = ["DEFAULT_MIN_HISTORY_DAYS", "exceeds", "figure_max_age", "judge", "summarize", "worst"]

#: Days of history a row-count-vs-average rule needs before it judges anything.
DEFAULT_MIN_HISTORY_DAYS = 3

# From harmless to worst: a check that could not run hides more than one that failed.
_RANK = {
    CheckStatus.PASSED: 0,
    CheckStatus.INSUFFICIENT_HISTORY: 1,
    CheckStatus.WARNING: 2,
    CheckStatus.FAILED: 3,
    CheckStatus.ERROR: 4,
}
_FAIL_ON = {"warning": CheckStatus.WARNING, "error": CheckStatus.FAILED}
_PROFILE_HINT = "run lineage profile"
_DAY = 86400.0


def judge(
    rule: QualityRule,
    dataset: DatasetId,
    points: Sequence[MetricPoint],
    *,
    now: datetime,
    latest: DatasetProfile | None = None,
    live: DatasetProfile | None = None,
    max_figure_age: float | None = None,
    min_history_days: int = DEFAULT_MIN_HISTORY_DAYS,
    run_id: str | None = None,
) -> CheckResult:
    """The result of ``rule`` on ``dataset`` from its metric history.

    Args:
        rule: a freshness, row-count or null-rate rule.
        dataset: the dataset judged; points of other datasets are ignored.
        points: its metric history, in any order.
        now: the moment of the judgement (the result's ``observed_at``).
        latest: the newest profile, if not (yet) among ``points``; its figures count as
            points observed at its ``observed_at``.
        live: figures the check measured on the table just now; preferred to the history
            for the newest value (never part of a row-count rule's baseline).
        max_figure_age: seconds a history figure may be old and still be judged
            (default: ``figure_max_age(rule)``).
        min_history_days: the fewest earlier days a row-count-vs-average rule needs.
        run_id: the run the result belongs to.
    """
    moment = _utc(now)
    history = _history(dataset, points, latest, moment)
    measured = live if live is not None and live.dataset == dataset else None
    limit = figure_max_age(rule) if max_figure_age is None else max_figure_age
    details: dict[str, Any] = {"severity": rule.severity.value}
    if rule.source is not None:
        details["source"] = str(rule.source)
    status, column = _JUDGES.get(rule.kind, _not_here)(
        _Inputs(rule, history, moment, min_history_days, measured, limit), details
    )
    return CheckResult(dataset, rule.label, status, moment, column, run_id, details)


def figure_max_age(rule: QualityRule) -> float:
    """Seconds the newest figure of a history rule may be old by default: the averaging
    window of a row-count-vs-average rule, one day for the others (previous day, null
    rate, minimum rows)."""
    if rule.kind is RuleKind.ROW_COUNT_VS_AVERAGE:
        return (rule.window_days or 7) * _DAY
    return _DAY


def summarize(results: Iterable[CheckResult]) -> dict[CheckStatus, int]:
    """How many results have each status (every status listed, zeros included)."""
    counts = dict.fromkeys(CheckStatus, 0)
    for result in results:
        counts[result.status] += 1
    return counts


def worst(results: Iterable[CheckResult]) -> CheckStatus:
    """The worst status: passed < insufficient history < warning < failed < error.

    No results at all is PASSED (nothing was found wrong).
    """
    return max((r.status for r in results), key=_RANK.__getitem__, default=CheckStatus.PASSED)


def exceeds(results: Iterable[CheckResult], fail_on: Literal["warning", "error"]) -> bool:
    """Whether ``--fail-on fail_on`` should fail: any warning (or worse), or any failure
    or error. Insufficient history never fails a build: it is reported, not judged.

    Raises:
        ConfigError: ``fail_on`` is neither ``warning`` nor ``error``.
    """
    threshold = _FAIL_ON.get(str(fail_on).strip().lower())
    if threshold is None:
        raise ConfigError(f"--fail-on must be 'warning' or 'error', not {fail_on!r}")
    return _RANK[worst(results)] >= _RANK[threshold]


# --- the judges ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Inputs:
    """What a judge reads: the rule, the dataset's points (oldest first), the moment, the
    live figures (if measured) and how old a history figure may be."""

    rule: QualityRule
    points: Sequence[MetricPoint]
    now: datetime
    min_history_days: int
    live: DatasetProfile | None = None
    max_age: float = _DAY


@dataclass(frozen=True)
class _Figure:
    """The newest value of one metric and where it came from."""

    value: float
    at: datetime
    column: str | None
    live: bool


_Verdict = tuple[CheckStatus, "str | None"]
_ANY = "*"  # a column pattern: any column (freshness without a named column)


def _newest(inputs: _Inputs, name: str, column: str | None) -> _Figure | None:
    """The live figure ``name`` of ``column`` (``_ANY``: any column), else the newest
    history point of it."""
    if inputs.live is not None:
        at = _utc(inputs.live.observed_at)
        for metric in inputs.live.metrics:
            if metric.name == name and _fits(metric.column, column):
                return _Figure(metric.value, at, metric.column, True)
    found = [p for p in inputs.points if p.name == name and _fits(p.column, column)]
    if not found:
        return None
    point = found[-1]
    return _Figure(point.value, _utc(point.observed_at), point.column, False)


def _fits(found: str | None, wanted: str | None) -> bool:
    if wanted == _ANY:
        return True
    return found is None if wanted is None else _same(found, wanted)


def _measured(figure: _Figure, out: dict[str, Any]) -> None:
    """Say where the judged figure came from: the check's live scan, or a profile."""
    out["measured"] = "live" if figure.live else "profile"
    out["measured_at"] = figure.at.isoformat(timespec="seconds")


def _stale(inputs: _Inputs, figure: _Figure, what: str, out: dict[str, Any]) -> bool:
    """Whether a history figure is too old to judge; says so in ``out`` if it is."""
    age = (inputs.now - figure.at).total_seconds()
    if figure.live or age <= inputs.max_age:
        return False
    out["message"] = (
        f"stale: the newest {what} is from {figure.at.isoformat(timespec='minutes')}, "
        f"{_duration(age)} old (at most {_duration(inputs.max_age)}): {_PROFILE_HINT}"
    )
    return True


def _freshness(inputs: _Inputs, out: dict[str, Any]) -> _Verdict:
    rule, now = inputs.rule, inputs.now
    limit = rule.max_age_seconds
    if limit is None:
        return _broken(out, "the freshness rule has no maximum age")
    out["threshold"] = f"<= {_duration(limit)}"
    newest = _newest(inputs, "last_loaded_at", rule.column or _ANY)
    if newest is None:
        column = f" of {rule.column}" if rule.column else ""
        out["message"] = f"no loaded-at figure{column} yet: {_PROFILE_HINT}"
        return CheckStatus.INSUFFICIENT_HISTORY, rule.column
    _measured(newest, out)
    loaded_at = datetime.fromtimestamp(newest.value, timezone.utc)
    age = (now - loaded_at).total_seconds()
    out["observed"] = _duration(max(age, 0.0))
    ok = age <= limit
    when = loaded_at.isoformat(timespec="seconds")
    out["message"] = (
        f"last loaded {out['observed']} ago ({when}), "
        + ("within" if ok else "older than")
        + f" {_duration(limit)}"
    )
    return _status(ok, rule.severity), newest.column


def _vs_average(inputs: _Inputs, out: dict[str, Any]) -> _Verdict:
    return _row_count_change(inputs, out, window=inputs.rule.window_days or 7)


def _vs_previous(inputs: _Inputs, out: dict[str, Any]) -> _Verdict:
    return _row_count_change(inputs, out, window=None)


def _row_count_change(inputs: _Inputs, out: dict[str, Any], *, window: int | None) -> _Verdict:
    """The latest row count against a baseline of earlier days' (last) counts."""
    rule = inputs.rule
    tolerance = rule.tolerance
    if tolerance is None or tolerance < 0:
        return _broken(out, f"the {rule.kind.value} rule has no tolerance")
    latest = _newest(inputs, "row_count", None)
    if latest is None:
        out["message"] = f"no row count yet: {_PROFILE_HINT}"
        return CheckStatus.INSUFFICIENT_HISTORY, None
    _measured(latest, out)
    if _stale(inputs, latest, "row count", out):
        return CheckStatus.INSUFFICIENT_HISTORY, None
    today = latest.at.date()
    counts = [p for p in inputs.points if p.name == "row_count" and p.column is None]
    per_day = _last_per_day(p for p in counts if _utc(p.observed_at).date() < today)
    out["observed"] = _number(latest.value)
    if window is None:
        # The previous day, not any earlier one: a count from weeks ago is no baseline.
        reach = max(1, round(inputs.max_age / _DAY))
        recent = [d for d in per_day if (today - d).days <= reach]
        if not recent:
            last = f" (the last is of {max(per_day)})" if per_day else ""
            out["message"] = f"no row count of the day before {today}{last}: {_PROFILE_HINT}"
            return CheckStatus.INSUFFICIENT_HISTORY, None
        day = max(recent)
        baseline, what = per_day[day], f"previous day ({day}) {_number(per_day[day])}"
    else:
        days = [d for d in per_day if (today - d).days <= window]
        minimum = max(1, inputs.min_history_days)
        if len(days) < minimum:
            out["message"] = (
                f"{len(days)} of the {minimum} days of row counts needed "
                f"before {today}: {_PROFILE_HINT} daily"
            )
            return CheckStatus.INSUFFICIENT_HISTORY, None
        baseline = sum(per_day[d] for d in days) / len(days)
        what = f"{window}-day average {_number(baseline)}"
    out["threshold"] = f"±{_percent(tolerance)} of {what}"
    change = (
        (latest.value - baseline) / baseline
        if baseline
        else (0.0 if latest.value == 0 else float("inf"))
    )
    ok = abs(change) <= tolerance + 1e-12
    direction = "above" if change > 0 else "below"
    out["message"] = (
        f"row count {_number(latest.value)} is {_percent(abs(change))} {direction} the {what}"
        if change
        else f"row count {_number(latest.value)} equals the {what}"
    )
    return _status(ok, rule.severity), None


def _row_count_min(inputs: _Inputs, out: dict[str, Any]) -> _Verdict:
    rule = inputs.rule
    if rule.minimum is None:
        return _broken(out, "the row_count_min rule has no minimum")
    out["threshold"] = f">= {_number(rule.minimum)} rows"
    latest = _newest(inputs, "row_count", None)
    if latest is None:
        out["message"] = f"no row count yet: {_PROFILE_HINT}"
        return CheckStatus.INSUFFICIENT_HISTORY, None
    _measured(latest, out)
    if _stale(inputs, latest, "row count", out):
        return CheckStatus.INSUFFICIENT_HISTORY, None
    rows = latest.value
    out["observed"] = _number(rows)
    ok = rows >= rule.minimum
    out["message"] = (
        f"{_number(rows)} rows, "
        + ("at least" if ok else "fewer than")
        + (f" {_number(rule.minimum)}")
    )
    return _status(ok, rule.severity), None


def _null_rate(inputs: _Inputs, out: dict[str, Any]) -> _Verdict:
    rule = inputs.rule
    if rule.max_rate is None or rule.column is None:
        return _broken(out, "the null_rate rule needs a column and a maximum rate")
    column = rule.column
    out["threshold"] = f"<= {_percent(rule.max_rate)} nulls"
    latest = _newest(inputs, "null_rate", column)
    if latest is None:
        out["message"] = f"no null rate of {column} yet: {_PROFILE_HINT}"
        return CheckStatus.INSUFFICIENT_HISTORY, column
    _measured(latest, out)
    if _stale(inputs, latest, f"null rate of {column}", out):
        return CheckStatus.INSUFFICIENT_HISTORY, latest.column or column
    rate = latest.value
    out["observed"] = rate
    ok = rate <= rule.max_rate + 1e-12
    out["message"] = (
        f"null rate of {column} {_percent(rate)}, "
        + ("within" if ok else "above")
        + f" {_percent(rule.max_rate)}"
    )
    return _status(ok, rule.severity), latest.column or column


def _not_here(inputs: _Inputs, out: dict[str, Any]) -> _Verdict:
    rule = inputs.rule
    if rule.kind is RuleKind.CUSTOM_SQL:
        return _broken(out, "custom SQL runs in the warehouse (connectors.warehouse.checks)")
    return _broken(out, f"no judge for {rule.kind.value} rules")


_JUDGES: Mapping[RuleKind, Callable[[_Inputs, dict[str, Any]], _Verdict]] = {
    RuleKind.FRESHNESS: _freshness,
    RuleKind.ROW_COUNT_VS_AVERAGE: _vs_average,
    RuleKind.ROW_COUNT_VS_PREVIOUS: _vs_previous,
    RuleKind.ROW_COUNT_MIN: _row_count_min,
    RuleKind.NULL_RATE: _null_rate,
}


# --- helpers ---------------------------------------------------------------------------


def _history(
    dataset: DatasetId,
    points: Sequence[MetricPoint],
    latest: DatasetProfile | None,
    now: datetime,
) -> list[MetricPoint]:
    """The dataset's points up to ``now``, the latest profile's included, oldest first."""
    chosen = [p for p in points if p.dataset == dataset and _utc(p.observed_at) <= now]
    if latest is not None and latest.dataset == dataset and _utc(latest.observed_at) <= now:
        seen = {(p.name, p.column, _utc(p.observed_at)) for p in chosen}
        at = _utc(latest.observed_at)
        chosen.extend(
            MetricPoint(dataset, m.name, m.value, at, m.column)
            for m in latest.metrics
            if (m.name, m.column, at) not in seen
        )
    return sorted(chosen, key=lambda p: _utc(p.observed_at))


def _last_per_day(points: Iterable[MetricPoint]) -> dict[date, float]:
    """Each calendar day's (UTC) last value; ``points`` come oldest first."""
    out: dict[date, float] = {}
    for point in points:
        out[_utc(point.observed_at).date()] = point.value
    return out


def _utc(moment: datetime) -> datetime:
    """Aware UTC; a naive time is taken as UTC (what the catalog stores)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _same(found: str | None, wanted: str) -> bool:
    return found is not None and found.lower() == wanted.lower()


def _status(ok: bool, severity: RuleSeverity) -> CheckStatus:
    if ok:
        return CheckStatus.PASSED
    return CheckStatus.WARNING if severity is RuleSeverity.WARNING else CheckStatus.FAILED


def _broken(out: dict[str, Any], message: str) -> _Verdict:
    out["message"] = message
    return CheckStatus.ERROR, None


def _duration(seconds: float) -> str:
    """``24h``, ``90s``, ``3d`` (days from two on); other values get one decimal (``26.5h``)."""
    for unit, size, least in (("d", 86400, 172800), ("h", 3600, 3600), ("m", 60, 60)):
        if seconds >= least:
            amount = seconds / size
            return f"{amount:.0f}{unit}" if amount.is_integer() else f"{amount:.1f}{unit}"
    return f"{seconds:.0f}s"


def _percent(fraction: float) -> str:
    text = f"{fraction * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _number(value: float) -> str:
    """Thousands separated; no decimals for whole numbers (``1,000``)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
