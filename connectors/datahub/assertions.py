"""Check results as DataHub assertions: one assertion per check, one run event per result.

A check result of ``Catalog.check_results()`` names (dataset, check label, column). A
declared test of the same dataset, name and column (a dbt test) already is an assertion
(``connectors.datahub.datasets``): its results become run events on it. Any other check
(contract constraints and quality rules: ``not_null(customer_id)``,
``row_count_vs_average(7d)``, ``freshness``) becomes an assertion of its own,
``urn:li:assertion:<guid of the dataset URN, the label and the column>``, with:

- ``assertionInfo``, described from the newest result that states a threshold::

    not_null(c)              DATASET  DATASET_COLUMN  NOT_NULL
    unique(c)                DATASET  DATASET_COLUMN  EQUAL_TO 1.0 on UNIQUE_PROPORTION
    min(c) / max(c)          DATASET  DATASET_COLUMN  GREATER_ / LESS_THAN_OR_EQUAL_TO value
    min_length / max_length  DATASET  DATASET_COLUMN  GREATER_ / LESS_THAN_OR_EQUAL_TO n
                                                      (aggregation _NATIVE_: a length)
    accepted_values(c)       DATASET  DATASET_COLUMN  IN [values]
    pattern(c)               DATASET  DATASET_COLUMN  REGEX_MATCH regex
    type(c)                  DATASET  DATASET_SCHEMA  EQUAL_TO type (aggregation _NATIVE_)
    null_rate(c)             DATASET  DATASET_COLUMN  LESS_THAN_OR_EQUAL_TO rate, NULL_PROPORTION
    row_count_min            DATASET  DATASET_ROWS    GREATER_THAN_OR_EQUAL_TO n, ROW_COUNT
    row_count_vs_*           DATASET  DATASET_ROWS    _NATIVE_ on ROW_COUNT (tolerance in text)
    freshness                FRESHNESS  DATASET_CHANGE, FIXED_INTERVAL schedule = the limit
    anything else            DATASET  DATASET_COLUMN / DATASET_ROWS  _NATIVE_

  ``description`` = the threshold and the contract's ``file:line``; ``source`` EXTERNAL
  (Silverline evaluates the check, not DataHub); ``nativeType`` = the label;
- ``dataPlatformInstance`` ``urn:li:dataPlatform:silverline`` (what DataHub's UI shows as
  the assertion's platform, as DataHub's own Great Expectations action does), and one
  ``dataPlatformInfo`` naming that platform ``Silverline``;
- ``status`` (not removed).

Each result is an ``assertionRunEvent`` (``timestampMillis`` = observed_at, status
COMPLETE)::

    passed                 SUCCESS
    warning                FAILURE, severity LOW
    failed                 FAILURE, severity HIGH
    error                  ERROR (error type UNKNOWN_ERROR, properties.message)
    insufficient_history   INIT: "not yet fully evaluated", never a pass or a failure

``nativeResults`` hold the status as written and the details (``observed``,
``threshold``, ``message``, ``severity``, ``source``, ...) as text, but never ``sample``
(offending rows stay in the catalog) nor ``sql``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from datahub.emitter.mce_builder import make_data_platform_urn
from datahub.metadata import schema_classes as sc

from connectors.datahub import events
from connectors.datahub.context import MCP, BuildContext
from lineage.model import DatasetId, DataTest
from lineage.views import CheckResult, CheckStatus

__all__ = [
    "PLATFORM",
    "PLATFORM_URN",
    "RESULTS",
    "AssertionAspects",
    "assertion_info",
    "check_assertion_urn",
    "run_event",
]

#: The platform of the assertions Silverline evaluates.
PLATFORM = "silverline"
PLATFORM_URN = make_data_platform_urn(PLATFORM)

#: Check statuses -> (assertion result, severity of a failure).
RESULTS: Mapping[CheckStatus, tuple[str, str | None]] = {
    **events.CHECK_RESULTS,
    CheckStatus.INSUFFICIENT_HISTORY: (sc.AssertionResultTypeClass.INIT, None),
}

# Details that never leave the catalog: offending rows, and the query that found them.
_WITHHELD = frozenset({"sample", "sql"})

_R = sc.AssertionResultTypeClass
_OP = sc.AssertionStdOperatorClass
_AGG = sc.AssertionStdAggregationClass
_PT = sc.AssertionStdParameterTypeClass

# Check names of other tools meaning one of ours (Great Expectations' expectations).
_ALIASES = {
    "expect_column_values_to_not_be_null": "not_null",
    "expect_column_values_to_be_unique": "unique",
    "expect_column_values_to_be_in_set": "accepted_values",
    "expect_column_distinct_values_to_be_in_set": "accepted_values",
    "expect_column_values_to_match_regex": "pattern",
    "expect_column_values_to_be_of_type": "type",
}
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")
_DURATION = re.compile(r"^<=\s*(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def check_assertion_urn(dataset_urn: str, check: str, column: str | None) -> str:
    """The stable URN of a check: the same formula as a declared test without arguments,
    so a check keeps the URN earlier pushes gave it."""
    return events.assertion_urn(dataset_urn, DataTest(check, column))


@dataclass(frozen=True)
class _Logic:
    operator: str
    aggregation: str
    parameters: sc.AssertionStdParametersClass | None = None
    scope: str | None = None  # None: by the column (DATASET_COLUMN or DATASET_ROWS)


def assertion_info(
    dataset_urn: str, field_urn: str | None, check: str, newest: CheckResult
) -> sc.AssertionInfoClass:
    """``assertionInfo`` of the check ``check``, from its newest result with a threshold."""
    details = newest.details
    threshold = _text(details.get("threshold"))
    source = _text(details.get("source"))
    kind = _kind(check)
    stable = _stable_threshold(kind, threshold)
    described = " ".join(p for p in (stable, f"({source})" if source else None) if p)
    custom = events.text_map(
        {"check": check, "column": newest.column, "severity": details.get("severity"),
         "source": source}
    )  # fmt: skip
    info = sc.AssertionInfoClass(
        type=sc.AssertionTypeClass.DATASET,
        description=described or None,
        customProperties=custom,
        source=sc.AssertionSourceClass(type=sc.AssertionSourceTypeClass.EXTERNAL),
    )
    window = _freshness_window(threshold) if kind == "freshness" else None
    if window is not None:
        info.type = sc.AssertionTypeClass.FRESHNESS
        info.freshnessAssertion = sc.FreshnessAssertionInfoClass(
            type=sc.FreshnessAssertionTypeClass.DATASET_CHANGE,
            entity=dataset_urn,
            schedule=sc.FreshnessAssertionScheduleClass(
                type=sc.FreshnessAssertionScheduleTypeClass.FIXED_INTERVAL,
                fixedInterval=window,
            ),
        )
        return info
    logic = _logic(kind, stable)
    scope = logic.scope or (
        sc.DatasetAssertionScopeClass.DATASET_COLUMN
        if field_urn
        else sc.DatasetAssertionScopeClass.DATASET_ROWS
    )
    info.datasetAssertion = sc.DatasetAssertionInfoClass(
        dataset=dataset_urn,
        scope=scope,
        fields=[field_urn] if field_urn else None,
        operator=logic.operator,
        aggregation=logic.aggregation,
        parameters=logic.parameters,
        nativeType=check,
        nativeParameters=events.text_map({"threshold": stable}) or None,
    )
    return info


def run_event(urn: str, dataset_urn: str, check: CheckResult) -> MCP:
    """The ``assertionRunEvent`` of one check result (never its sample rows)."""
    result, severity = RESULTS[check.status]
    when = events.millis(check.observed_at)
    details = {k: v for k, v in check.details.items() if k not in _WITHHELD}
    native = events.text_map({"status": check.native_status, **details})
    error = None
    if result == _R.ERROR:
        message = _text(check.details.get("message"))
        error = sc.AssertionResultErrorClass(
            type=sc.AssertionResultErrorTypeClass.UNKNOWN_ERROR,
            properties={"message": message} if message else None,
        )
    return MCP(
        entityUrn=urn,
        aspect=sc.AssertionRunEventClass(
            timestampMillis=when,
            runId=check.run_id or f"silverline-{when}",
            asserteeUrn=dataset_urn,
            status=sc.AssertionRunStatusClass.COMPLETE,
            assertionUrn=urn,
            result=sc.AssertionResultClass(
                type=result,
                severity=severity,
                nativeResults=native,
                error=error,
                **_figures(_kind(check.check), check.details.get("observed")),
            ),
        ),
    )


class AssertionAspects(BuildContext):
    """Builds the assertions of check results and their run events."""

    def _checks(self, checks: Sequence[CheckResult]) -> None:
        groups: dict[tuple[DatasetId, str, str | None], list[CheckResult]] = {}
        for check in checks:  # oldest first: the last of a group is its newest
            groups.setdefault((check.dataset, check.check, check.column), []).append(check)
        platform_named = False
        for key, results in groups.items():
            dataset_id, label, column = key
            dataset_urn = self.urn(dataset_id)
            urn = self.assertions.get(key)
            if urn is None:  # no declared test describes it: the check is the assertion
                urn = check_assertion_urn(dataset_urn, label, column)
                self.assertions[key] = urn
                field = self.field_urn(dataset_id, column) if column else None
                described = [r for r in results if r.details.get("threshold") is not None]
                newest = (described or results)[-1]
                self._emit(
                    urn,
                    assertion_info(dataset_urn, field, label, newest),
                    sc.DataPlatformInstanceClass(platform=PLATFORM_URN),
                    sc.StatusClass(removed=False),
                )
                platform_named = True
            self.result.mcps.extend(run_event(urn, dataset_urn, r) for r in results)
        if platform_named:
            self._emit(
                PLATFORM_URN,
                sc.DataPlatformInfoClass(
                    name=PLATFORM,
                    displayName="Silverline",
                    type=sc.PlatformTypeClass.OTHERS,
                    datasetNameDelimiter=".",
                ),
            )


def _kind(check: str) -> str:
    """Our rule or constraint kind a label names: ``max_length(cid)`` -> ``max_length``."""
    base = check.split("(", 1)[0].strip().rsplit(".", 1)[-1]
    return _ALIASES.get(base, base)


def _stable_threshold(kind: str, threshold: str | None) -> str | None:
    """The threshold without the figures that move each run: a row-count rule's baseline
    (``±15% of 7-day average 1,000``) goes in the run event, not the assertion."""
    if threshold is None:
        return None
    if kind == "row_count_vs_average":
        return re.sub(r"\s+[-+]?\d[\d,.]*$", "", threshold)
    if kind == "row_count_vs_previous":
        return re.sub(r"\s+\(.*$", "", threshold)
    return threshold


def _logic(kind: str, threshold: str | None) -> _Logic:
    text = threshold or ""
    if kind == "not_null":
        return _Logic(_OP.NOT_NULL, _AGG.IDENTITY)
    if kind == "unique":
        return _Logic(_OP.EQUAL_TO, _AGG.UNIQUE_PROPORTION, _value("1.0", _PT.NUMBER))
    if kind in ("min", "max", "min_length", "max_length"):
        operator = (
            _OP.GREATER_THAN_OR_EQUAL_TO if kind.startswith("min") else _OP.LESS_THAN_OR_EQUAL_TO
        )
        aggregation = _AGG._NATIVE_ if kind.endswith("_length") else _AGG.IDENTITY
        bound = re.sub(r"^(length\s*)?(<=|>=)\s*", "", text).strip()
        number = bool(_NUMBER.fullmatch(bound))
        parameters = _value(bound, _PT.NUMBER if number else _PT.STRING) if bound else None
        return _Logic(operator, aggregation, parameters)
    if kind == "accepted_values":
        values = [v.replace("''", "'") for v in re.findall(r"'((?:[^']|'')*)'", text)]
        parameters = _value(json.dumps(values), _PT.SET) if values else None
        return _Logic(_OP.IN, _AGG.IDENTITY, parameters)
    if kind == "pattern":
        regex = re.sub(r"^matches\s+|\s+\(whole value\)$", "", text)
        return _Logic(_OP.REGEX_MATCH, _AGG.IDENTITY, _value(regex, _PT.STRING) if regex else None)
    if kind == "type":
        declared = re.sub(r"^type\s+", "", text)
        return _Logic(
            _OP.EQUAL_TO,
            _AGG._NATIVE_,
            _value(declared, _PT.STRING) if declared else None,
            sc.DatasetAssertionScopeClass.DATASET_SCHEMA,
        )
    if kind == "null_rate":
        found = re.search(r"(\d+(?:\.\d+)?)\s*%", text)
        rate = None if found is None else _decimal(float(found.group(1)) / 100)
        return _Logic(
            _OP.LESS_THAN_OR_EQUAL_TO,
            _AGG.NULL_PROPORTION,
            _value(rate, _PT.NUMBER) if rate is not None else None,
        )
    if kind == "row_count_min":
        found = _NUMBER.search(text)
        rows = None if found is None else found.group(0).replace(",", "")
        return _Logic(
            _OP.GREATER_THAN_OR_EQUAL_TO, _AGG.ROW_COUNT, _value(rows, _PT.NUMBER) if rows else None
        )
    if kind in ("row_count_vs_average", "row_count_vs_previous"):
        return _Logic(_OP._NATIVE_, _AGG.ROW_COUNT)
    return _Logic(_OP._NATIVE_, _AGG._NATIVE_)


def _freshness_window(threshold: str | None) -> sc.FixedIntervalScheduleClass | None:
    """``<= 24h`` -> every 24 hours; None when the threshold is not a duration."""
    found = _DURATION.match((threshold or "").strip())
    if found is None:
        return None
    seconds = float(found.group(1)) * _UNITS[found.group(2)]
    for unit, size in (
        (sc.CalendarIntervalClass.DAY, 86400),
        (sc.CalendarIntervalClass.HOUR, 3600),
        (sc.CalendarIntervalClass.MINUTE, 60),
    ):
        if seconds >= size and (seconds / size).is_integer():
            return sc.FixedIntervalScheduleClass(unit=unit, multiple=int(seconds / size))
    return sc.FixedIntervalScheduleClass(
        unit=sc.CalendarIntervalClass.SECOND, multiple=max(1, round(seconds))
    )


def _figures(kind: str, observed: Any) -> dict[str, Any]:
    """The observed value in DataHub's own fields: the offending rows of a row-level
    constraint, or the measured figure of a rule (a null rate, a row count)."""
    if isinstance(observed, bool) or observed is None:
        return {}
    if isinstance(observed, str):
        if not _NUMBER.fullmatch(observed.strip()):
            return {}  # a duration (``26h``) or a type name
        observed = float(observed.replace(",", ""))
    if not isinstance(observed, (int, float)):
        return {}
    if kind in ("null_rate", "row_count_min", "row_count_vs_average", "row_count_vs_previous"):
        return {"actualAggValue": float(observed)}
    if float(observed).is_integer() and kind not in ("type", "freshness"):
        return {"unexpectedCount": int(observed)}
    return {}


def _value(value: str, kind: str) -> sc.AssertionStdParametersClass:
    return sc.AssertionStdParametersClass(value=sc.AssertionStdParameterClass(value, kind))


def _decimal(number: float) -> str:
    return f"{number:.6f}".rstrip("0").rstrip(".") or "0"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
