"""History rules judged from metric points: (history, rule, expected) tables, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest

from lineage.checks import exceeds, figure_max_age, judge, summarize, worst
from lineage.contracts import QualityRule, RuleKind, RuleSeverity, Source
from lineage.errors import ConfigError
from lineage.model import DatasetId, DatasetProfile, ProfileMetric
from lineage.views import CheckResult, CheckStatus, MetricPoint

DS = DatasetId("postgres://db:5432", "dwh.silver.erp_customers")
OTHER = DatasetId("postgres://db:5432", "dwh.silver.erp_orders")
NOW = datetime(2026, 12, 1, 6, 30, tzinfo=timezone.utc)


def _counts(values: Sequence[float], *, dataset: DatasetId = DS) -> list[MetricPoint]:
    """One row_count point per day at 02:00 UTC, the last value today."""
    today = NOW.replace(hour=2, minute=0)
    start = today - timedelta(days=len(values) - 1)
    return [
        MetricPoint(dataset, "row_count", float(v), start + timedelta(days=i))
        for i, v in enumerate(values)
    ]


AVG_15 = QualityRule(
    RuleKind.ROW_COUNT_VS_AVERAGE, RuleSeverity.WARNING, tolerance=0.15, window_days=7,
    source=Source("contracts/erp_customers.yaml", 12),
)  # fmt: skip
AVG_25 = QualityRule(RuleKind.ROW_COUNT_VS_AVERAGE, tolerance=0.25, window_days=7)
PREV_10 = QualityRule(RuleKind.ROW_COUNT_VS_PREVIOUS, tolerance=0.10)
SEVEN_DAYS_THEN_DROP = [1000] * 7 + [800]  # seven days of history, then -20 % today


@pytest.mark.parametrize(
    ("history", "rule", "expected"),
    [
        (SEVEN_DAYS_THEN_DROP, AVG_15, CheckStatus.WARNING),  # severity warning
        (SEVEN_DAYS_THEN_DROP, AVG_25, CheckStatus.PASSED),
        ([1000, 1000, 800], AVG_15, CheckStatus.INSUFFICIENT_HISTORY),  # 2 earlier days
        ([1000, 1000, 1000, 1000], AVG_15, CheckStatus.PASSED),  # 3 earlier days: enough
        ([800], AVG_15, CheckStatus.INSUFFICIENT_HISTORY),
        ([], AVG_15, CheckStatus.INSUFFICIENT_HISTORY),
        ([1000, 1000, 1000, 1200], AVG_25, CheckStatus.PASSED),  # +20 % within ±25 %
        ([1000, 1000, 1000, 1300], AVG_25, CheckStatus.FAILED),  # +30 %, severity error
        ([0, 0, 0, 0], AVG_15, CheckStatus.PASSED),
        ([0, 0, 0, 5], AVG_15, CheckStatus.WARNING),
        ([1000, 905], PREV_10, CheckStatus.PASSED),  # -9.5 %
        ([1000, 880], PREV_10, CheckStatus.FAILED),  # -12 %
        ([880], PREV_10, CheckStatus.INSUFFICIENT_HISTORY),
    ],
)
def test_row_count_rules(history: list[float], rule: QualityRule, expected: CheckStatus) -> None:
    result = judge(rule, DS, _counts(history), now=NOW)
    assert result.status is expected, result.details
    assert result.dataset == DS
    assert result.check == rule.label
    assert result.observed_at == NOW


def test_average_details_say_what_was_compared() -> None:
    result = judge(AVG_15, DS, _counts(SEVEN_DAYS_THEN_DROP), now=NOW)
    assert result.check == "row_count_vs_average(7d)"
    assert result.details["observed"] == "800"
    assert result.details["threshold"] == "±15% of 7-day average 1,000"
    assert result.details["message"] == "row count 800 is 20% below the 7-day average 1,000"
    assert result.details["severity"] == "warning"
    assert result.details["source"] == "contracts/erp_customers.yaml:12"


def test_average_takes_each_days_last_point_within_the_window() -> None:
    points = _counts([1000] * 10 + [1000])
    # Old days outside the 7-day window do not count, however far off they are.
    points[0] = MetricPoint(DS, "row_count", 10.0, points[0].observed_at)
    # Yesterday's early scan is superseded by its later one: the day's value is 1000.
    yesterday = points[-2].observed_at
    points.append(MetricPoint(DS, "row_count", 1.0, yesterday - timedelta(hours=1)))
    # Other datasets' points and points after `now` are ignored.
    points += _counts([1] * 11, dataset=OTHER)
    points.append(MetricPoint(DS, "row_count", 5.0, NOW + timedelta(hours=1)))
    result = judge(AVG_15, DS, points, now=NOW)
    assert result.status is CheckStatus.PASSED, result.details
    assert result.details["threshold"] == "±15% of 7-day average 1,000"


def test_the_minimum_history_is_configurable() -> None:
    points = _counts([1000, 1000, 800])
    assert judge(AVG_15, DS, points, now=NOW).status is CheckStatus.INSUFFICIENT_HISTORY
    result = judge(AVG_15, DS, points, now=NOW, min_history_days=2)
    assert result.status is CheckStatus.WARNING
    insufficient = judge(AVG_15, DS, points, now=NOW)
    assert "run lineage profile" in insufficient.details["message"]


def test_previous_day_is_the_most_recent_earlier_day() -> None:
    points = _counts([500, 1000, 1000])  # 500 two days ago does not matter
    points.append(MetricPoint(DS, "row_count", 700.0, NOW - timedelta(minutes=30)))  # today
    result = judge(PREV_10, DS, points, now=NOW)  # latest 700 vs yesterday 1000: -30 %
    assert result.status is CheckStatus.FAILED
    assert "previous day (2026-11-30) 1,000" in result.details["threshold"]


def test_the_latest_profile_counts_as_the_newest_point() -> None:
    profile = DatasetProfile(DS, NOW, (ProfileMetric("row_count", 800.0),))
    history = _counts([1000] * 8)[:-1]  # seven earlier days, nothing today
    result = judge(AVG_15, DS, history, now=NOW, latest=profile)
    assert result.status is CheckStatus.WARNING
    assert result.details["observed"] == "800"
    # Already written as points too: counted once, still the newest.
    again = [*history, MetricPoint(DS, "row_count", 800.0, NOW)]
    assert judge(AVG_15, DS, again, now=NOW, latest=profile).details == result.details


def _loaded(hours_ago: float, column: str = "dwh_loaded_at") -> DatasetProfile:
    epoch = (NOW - timedelta(hours=hours_ago)).timestamp()
    return DatasetProfile(DS, NOW, (ProfileMetric("last_loaded_at", epoch, column),))


FRESH_24H = QualityRule(RuleKind.FRESHNESS, max_age_seconds=86400)


@pytest.mark.parametrize(
    ("hours_ago", "rule", "expected"),
    [
        (2, FRESH_24H, CheckStatus.PASSED),
        (24, FRESH_24H, CheckStatus.PASSED),
        (26.5, FRESH_24H, CheckStatus.FAILED),
        (2, QualityRule(RuleKind.FRESHNESS, RuleSeverity.WARNING, max_age_seconds=3600),
         CheckStatus.WARNING),
    ],
)  # fmt: skip
def test_freshness_by_age(hours_ago: float, rule: QualityRule, expected: CheckStatus) -> None:
    result = judge(rule, DS, [], now=NOW, latest=_loaded(hours_ago))
    assert result.status is expected
    assert result.column == "dwh_loaded_at"


def test_freshness_details_and_missing_figures() -> None:
    result = judge(FRESH_24H, DS, [], now=NOW, latest=_loaded(26.5))
    assert result.details["threshold"] == "<= 24h"
    assert result.details["observed"] == "26.5h"
    assert "older than 24h" in result.details["message"]
    # Points work as well as a profile; another column's loaded-at does not count.
    epoch = (NOW - timedelta(hours=1)).timestamp()
    points = [MetricPoint(DS, "last_loaded_at", epoch, NOW, "_loaded_at")]
    on_column = QualityRule(RuleKind.FRESHNESS, column="_loaded_at", max_age_seconds=7200)
    assert judge(on_column, DS, points, now=NOW).status is CheckStatus.PASSED
    elsewhere = QualityRule(RuleKind.FRESHNESS, column="dwh_loaded_at", max_age_seconds=7200)
    missing = judge(elsewhere, DS, points, now=NOW)
    assert missing.status is CheckStatus.INSUFFICIENT_HISTORY
    assert "run lineage profile" in missing.details["message"]


NULLS_5 = QualityRule(RuleKind.NULL_RATE, column="birth_date", max_rate=0.05)


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(0.0, CheckStatus.PASSED), (0.05, CheckStatus.PASSED), (0.12, CheckStatus.FAILED),
     (None, CheckStatus.INSUFFICIENT_HISTORY)],
)  # fmt: skip
def test_null_rate(rate: float | None, expected: CheckStatus) -> None:
    points = [MetricPoint(DS, "null_rate", 0.9, NOW - timedelta(days=1), "birth_date")]
    points.append(MetricPoint(DS, "null_rate", 0.0, NOW, "gender"))
    if rate is not None:
        points.append(MetricPoint(DS, "null_rate", rate, NOW, "birth_date"))
    else:
        points = points[1:]
    result = judge(NULLS_5, DS, points, now=NOW)
    assert result.status is expected, result.details
    assert result.column == "birth_date"
    if rate is None:
        assert "run lineage profile" in result.details["message"]
    elif rate == 0.12:
        assert result.details["observed"] == 0.12
        assert result.details["threshold"] == "<= 5% nulls"
        assert result.details["message"] == "null rate of birth_date 12%, above 5%"


def test_row_count_min_and_broken_rules() -> None:
    minimum = QualityRule(RuleKind.ROW_COUNT_MIN, minimum=900)
    assert judge(minimum, DS, _counts([1000, 800]), now=NOW).status is CheckStatus.FAILED
    assert judge(minimum, DS, _counts([800, 1000]), now=NOW).status is CheckStatus.PASSED
    assert judge(minimum, DS, [], now=NOW).status is CheckStatus.INSUFFICIENT_HISTORY
    no_tolerance = QualityRule(RuleKind.ROW_COUNT_VS_PREVIOUS)
    assert judge(no_tolerance, DS, _counts([1, 1]), now=NOW).status is CheckStatus.ERROR
    custom = QualityRule(RuleKind.CUSTOM_SQL, sql="SELECT 1")
    assert judge(custom, DS, [], now=NOW).status is CheckStatus.ERROR


def _result(status: CheckStatus) -> CheckResult:
    return CheckResult(DS, "c", status, NOW)


def test_summaries_and_fail_on() -> None:
    statuses = ("passed", "passed", "insufficient_history", "warning")
    results = [_result(CheckStatus(s)) for s in statuses]
    counts = summarize(results)
    assert counts[CheckStatus.PASSED] == 2
    assert counts[CheckStatus.WARNING] == 1
    assert counts[CheckStatus.ERROR] == 0
    assert sum(counts.values()) == 4
    assert worst(results) is CheckStatus.WARNING
    assert worst([]) is CheckStatus.PASSED
    assert exceeds(results, "warning")
    assert not exceeds(results, "error")
    assert exceeds([*results, _result(CheckStatus.FAILED)], "error")
    assert exceeds([_result(CheckStatus.ERROR)], "error")
    assert worst([_result(CheckStatus.FAILED), _result(CheckStatus.ERROR)]) is CheckStatus.ERROR
    history_only = [_result(CheckStatus.INSUFFICIENT_HISTORY)]
    assert not exceeds(history_only, "warning")
    with pytest.raises(ConfigError):
        exceeds(results, "info")  # type: ignore[arg-type]


# --- stale figures and live ones --------------------------------------------------------

TWENTY_DAYS = timedelta(days=20)
MIN_900 = QualityRule(RuleKind.ROW_COUNT_MIN, minimum=900)


def _aged(points: list[MetricPoint], by: timedelta) -> list[MetricPoint]:
    return [MetricPoint(p.dataset, p.name, p.value, p.observed_at - by, p.column) for p in points]


@pytest.mark.parametrize("rule", [AVG_15, PREV_10, MIN_900, NULLS_5], ids=lambda r: r.label)
def test_figures_of_twenty_days_ago_never_pass(rule: QualityRule) -> None:
    fine = [*_counts([1000] * 8), MetricPoint(DS, "null_rate", 0.0, NOW, "birth_date")]
    assert judge(rule, DS, fine, now=NOW).status is CheckStatus.PASSED
    result = judge(rule, DS, _aged(fine, TWENTY_DAYS), now=NOW)
    assert result.status is CheckStatus.INSUFFICIENT_HISTORY, result.details
    assert result.details["message"].startswith("stale: the newest")
    assert "run lineage profile" in result.details["message"]
    assert result.details["measured"] == "profile"
    # The caller may allow older figures; then they are judged again.
    lenient = judge(rule, DS, _aged(fine, TWENTY_DAYS), now=NOW, max_figure_age=21 * 86400)
    assert lenient.status is CheckStatus.PASSED, lenient.details


def test_default_maximum_ages() -> None:
    assert figure_max_age(AVG_15) == 7 * 86400  # the rule's own window
    assert figure_max_age(QualityRule(RuleKind.ROW_COUNT_VS_AVERAGE, window_days=3)) == 3 * 86400
    assert figure_max_age(PREV_10) == figure_max_age(NULLS_5) == figure_max_age(MIN_900) == 86400
    # Six days old is within a 7-day average's window, not within a day.
    six = _aged(_counts([1000] * 8), timedelta(days=6))
    assert judge(AVG_15, DS, six, now=NOW).status is CheckStatus.PASSED
    assert judge(MIN_900, DS, six, now=NOW).status is CheckStatus.INSUFFICIENT_HISTORY


def test_previous_day_is_the_day_before_not_any_earlier_one() -> None:
    points = _counts([1000, 1000])
    points[0] = MetricPoint(DS, "row_count", 1000.0, points[0].observed_at - TWENTY_DAYS)
    result = judge(PREV_10, DS, points, now=NOW)
    assert result.status is CheckStatus.INSUFFICIENT_HISTORY
    assert "no row count of the day before 2026-12-01" in result.details["message"]


def test_live_figures_come_first_and_say_so() -> None:
    live = DatasetProfile(DS, NOW, (
        ProfileMetric("row_count", 800.0), ProfileMetric("null_rate", 0.12, "birth_date"),
        ProfileMetric("last_loaded_at", (NOW - timedelta(hours=2)).timestamp(), "loaded_at"),
    ))  # fmt: skip
    stale = _aged([*_counts([1000] * 8), MetricPoint(DS, "null_rate", 0.0, NOW, "birth_date")],
                  TWENTY_DAYS)  # fmt: skip
    nulls = judge(NULLS_5, DS, stale, now=NOW, live=live)
    assert (nulls.status, nulls.details["measured"]) == (CheckStatus.FAILED, "live")
    assert nulls.details["measured_at"] == NOW.isoformat(timespec="seconds")
    assert judge(MIN_900, DS, stale, now=NOW, live=live).status is CheckStatus.FAILED
    fresh = judge(QualityRule(RuleKind.FRESHNESS, column="loaded_at", max_age_seconds=3600),
                  DS, [], now=NOW, live=live)  # fmt: skip
    assert (fresh.status, fresh.column, fresh.details["observed"]) == (
        CheckStatus.FAILED,
        "loaded_at",
        "2h",
    )
    # A live count against a fresh history: the baseline is the days before, never itself.
    week = _counts([1000] * 8)[:-1]
    average = judge(AVG_15, DS, week, now=NOW, live=live)
    assert average.status is CheckStatus.WARNING
    assert average.details["message"] == "row count 800 is 20% below the 7-day average 1,000"
    # Another dataset's live figures are not this one's.
    other = DatasetProfile(OTHER, NOW, live.metrics)
    assert judge(NULLS_5, DS, [], now=NOW, live=other).status is CheckStatus.INSUFFICIENT_HISTORY
