"""Great Expectations: expectation suites as contracts, validation results as checks.

Both suite shapes: 0.x (``expectation_suite_name``, ``expectation_type``) and 1.x
(``name``, ``type``). How expectations map:

- ``expect_column_values_to_not_be_null`` / ``..._to_be_unique`` -> NOT_NULL / UNIQUE;
  ``..._to_be_between`` -> MIN and MAX (inclusive; ``strict_min`` / ``strict_max`` are
  reported as issues, the bound is kept inclusive); a ``max_value`` of now / today is
  ``lineage.contracts.TODAY``;
  ``..._to_be_in_set`` and ``expect_column_distinct_values_to_be_in_set`` ->
  ACCEPTED_VALUES; ``..._to_match_regex`` -> PATTERN (GE searches, PATTERN matches the
  whole value, so an unanchored regex gets ``.*`` on its open side);
  ``expect_column_value_lengths_to_be_between`` -> MIN_LENGTH / MAX_LENGTH;
  ``..._to_be_of_type`` -> TYPE; ``expect_column_to_exist`` -> a field, no constraint;
  ``expect_table_row_count_to_be_between`` -> ROW_COUNT_MIN (a maximum is an issue).
- ``mostly`` below 1 (a share of rows may fail) -> severity WARNING: the row-level check
  fails on any bad row, so a tolerant expectation must not fail the run.
- An unknown expectation type is an issue naming the file and index; the rest is read.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import datetime, timezone
from typing import Any

from lineage.contracts import (
    Constraint,
    ConstraintKind,
    Contract,
    ContractField,
    QualityRule,
    RuleKind,
    RuleSeverity,
    Source,
)
from lineage.model import DatasetId
from lineage.views import CheckResult, CheckStatus
from parsers.contracts.context import Context, bound_value, severity_of
from parsers.contracts.document import ContractError, Document

__all__ = ["SAMPLE_LIMIT", "expectation_items", "is_suite", "read_results", "read_suite"]

SAMPLE_LIMIT = 20  # offending values kept from a validation result
_STEM_SUFFIXES = re.compile(r"(?:[._-](?:quality|suite|expectations|warning|critical))+$",
                            re.IGNORECASE)
_Item = Constraint | QualityRule


def is_suite(value: Any) -> bool:
    """Whether a parsed document is an expectation suite."""
    return isinstance(value, Mapping) and isinstance(value.get("expectations"), list)


def read_suite(ctx: Context, stem: str) -> Contract:
    """The suite in ``ctx.doc`` as ``Contract(kind="great_expectations")``.

    Binds by ``meta.dataset`` / ``meta.data_asset_name`` if the suite names one, else by
    the file's stem without a ``_quality`` / ``_suite`` / ``_expectations`` suffix.
    """
    root: Mapping[str, Any] = ctx.doc.value
    order: dict[str, str] = {}
    constraints: dict[str, list[Constraint]] = {}
    rules: list[QualityRule] = []
    for i, raw in enumerate(root["expectations"]):
        path = ("expectations", i)
        if not isinstance(raw, Mapping):
            ctx.issue(f"expectation {i} is not a mapping", path)
            continue
        etype = str(raw.get("expectation_type") or raw.get("type") or "")
        kwargs = raw.get("kwargs") or {}
        try:
            items = expectation_items(etype, kwargs, ctx.source(path), raw.get("severity"))
        except (TypeError, ValueError) as exc:
            ctx.issue(f"expectation {i} ({etype or 'no type'}): {exc}", path)
            continue
        for note in _notes(etype, kwargs):
            ctx.issue(f"expectation {i} ({etype}): {note}", path)
        column = kwargs.get("column")
        if column is not None:
            order.setdefault(str(column).lower(), str(column))
        for item in items:
            if isinstance(item, QualityRule):
                rules.append(item)
            else:
                constraints.setdefault(item.column.lower(), []).append(item)
    meta = _mapping(root.get("meta"))
    dataset = meta.get("dataset") or meta.get("data_asset_name")
    fields = tuple(
        ContractField(name=name, constraints=tuple(constraints.get(key, ())),
                      required=any(c.kind is ConstraintKind.NOT_NULL
                                   for c in constraints.get(key, ())),
                      source=next((c.source for c in constraints.get(key, ())), None)
                      or ctx.source(()))
        for key, name in order.items())
    name = root.get("expectation_suite_name") or root.get("name")
    return Contract(
        source=ctx.source(()), kind="great_expectations",
        stem=_STEM_SUFFIXES.sub("", stem) or stem,
        dataset=None if not dataset else str(dataset), fields=fields, rules=tuple(rules),
        description=None if name is None else f"Great Expectations suite {name}",
    )


def expectation_items(
    etype: str, kwargs: Mapping[str, Any], source: Source, severity: Any = None
) -> list[_Item]:
    """The constraints and rules one expectation states.

    Raises:
        ValueError: an unknown expectation type, or kwargs it cannot use.
    """
    level = severity_of(severity) if severity not in (None, "critical") else RuleSeverity.ERROR
    mostly = kwargs.get("mostly")
    if isinstance(mostly, int | float) and not isinstance(mostly, bool) and mostly < 1:
        level = RuleSeverity.WARNING
    column = kwargs.get("column")
    if etype == "expect_table_row_count_to_be_between":
        if kwargs.get("min_value") is None:
            raise ValueError("only a min_value can be checked")
        return [QualityRule(RuleKind.ROW_COUNT_MIN, level, minimum=int(kwargs["min_value"]),
                            source=source)]
    if etype not in _COLUMN_EXPECTATIONS:
        raise ValueError("unknown expectation type (the ones read are listed in "
                         "docs/contracts.md)")
    if not column:
        raise ValueError("needs kwargs.column")
    col = str(column)

    def make(kind: ConstraintKind, value: Any = None) -> Constraint:
        return Constraint(kind, col, value, level, source)

    kind = _COLUMN_EXPECTATIONS[etype]
    if kind is None:  # expect_column_to_exist
        return []
    if kind is ConstraintKind.ACCEPTED_VALUES:
        values = kwargs.get("value_set")
        if not isinstance(values, list) or not values:
            raise ValueError("needs kwargs.value_set, a list")
        return [make(kind, tuple(str(v) for v in values))]
    if kind is ConstraintKind.PATTERN:
        regex = str(kwargs.get("regex") or "")
        if not regex:
            raise ValueError("needs kwargs.regex")
        return [make(kind, ("" if regex.startswith("^") else ".*") + regex
                     + ("" if regex.endswith("$") else ".*"))]
    if kind is ConstraintKind.TYPE:
        return [make(kind, str(kwargs.get("type_") or kwargs.get("type")))]
    if kind in (ConstraintKind.MIN, ConstraintKind.MIN_LENGTH):  # a between: both bounds
        upper = ConstraintKind.MAX if kind is ConstraintKind.MIN else ConstraintKind.MAX_LENGTH
        made: list[_Item] = []
        for bound_kind, key in ((kind, "min_value"), (upper, "max_value")):
            if kwargs.get(key) is not None:
                value = bound_value(kwargs[key])
                made.append(make(bound_kind, int(value) if "LENGTH" in bound_kind.name
                                 else value))
        if not made:
            raise ValueError("needs a min_value or a max_value")
        return made
    return [make(kind)]


_COLUMN_EXPECTATIONS: Mapping[str, ConstraintKind | None] = {
    "expect_column_values_to_not_be_null": ConstraintKind.NOT_NULL,
    "expect_column_values_to_be_unique": ConstraintKind.UNIQUE,
    "expect_column_values_to_be_between": ConstraintKind.MIN,
    "expect_column_values_to_be_in_set": ConstraintKind.ACCEPTED_VALUES,
    "expect_column_distinct_values_to_be_in_set": ConstraintKind.ACCEPTED_VALUES,
    "expect_column_values_to_match_regex": ConstraintKind.PATTERN,
    "expect_column_value_lengths_to_be_between": ConstraintKind.MIN_LENGTH,
    "expect_column_values_to_be_of_type": ConstraintKind.TYPE,
    "expect_column_to_exist": None,
}


def _notes(etype: str, kwargs: Mapping[str, Any]) -> list[str]:
    notes = [f"{key} is checked as an inclusive bound" for key in ("strict_min", "strict_max")
             if kwargs.get(key)]
    if etype == "expect_table_row_count_to_be_between" and kwargs.get("max_value") is not None:
        notes.append(f"max_value {kwargs['max_value']} is not checked (only the minimum)")
    return notes


def read_results(
    doc: Document, dataset: DatasetId, *, observed_at: datetime,
    sensitive: Collection[str] = (),
) -> list[CheckResult]:
    """A GE validation result as check results of ``dataset``: one per constraint or rule
    the expectation states, named like the suite's constraints (``not_null(customer_id)``).

    ``observed_at`` is used when the result carries no run time; offending-value samples
    of ``sensitive`` columns are left out.

    Raises:
        ContractError: the document has no ``results`` list.
    """
    root = doc.value
    if not isinstance(root, Mapping) or not isinstance(root.get("results"), list):
        raise ContractError("not a Great Expectations validation result (no results list)",
                            file=doc.file, line=doc.line(()))
    meta = _mapping(root.get("meta"))
    run_id, moment = _run(meta)
    hidden = {c.lower() for c in sensitive}
    out: list[CheckResult] = []
    for i, raw in enumerate(root["results"]):
        if not isinstance(raw, Mapping):
            continue
        config = raw.get("expectation_config") or {}
        etype = str(config.get("expectation_type") or config.get("type") or "")
        kwargs = config.get("kwargs") or {}
        column = None if kwargs.get("column") is None else str(kwargs["column"])
        try:
            items = expectation_items(etype, kwargs, Source(doc.file, doc.line(("results", i))),
                                      config.get("severity"))
        except (TypeError, ValueError):
            items = []
        labels = [(item.label, item.severity) for item in items] or [
            (f"{etype}({column})" if column else etype, RuleSeverity.ERROR)]
        details = _details(raw, etype, meta, sample=column is None or column.lower() not in hidden)
        if len(labels) > 1:  # a between: GE says whether the range held, not which bound
            details["expectation_covers"] = [label for label, _ in labels]
        for label, severity in labels:
            status = _status(raw, severity)
            out.append(CheckResult(dataset=dataset, check=label, status=status,
                                   observed_at=moment or observed_at, column=column,
                                   run_id=run_id, details=details,
                                   native_status="success" if raw.get("success") else "failure"
                                   if status is not CheckStatus.ERROR else "exception"))
    return out


def _status(raw: Mapping[str, Any], severity: RuleSeverity) -> CheckStatus:
    info = raw.get("exception_info") or {}
    if isinstance(info, Mapping) and info.get("raised_exception"):
        return CheckStatus.ERROR
    if raw.get("success") is True:
        return CheckStatus.PASSED
    return CheckStatus.WARNING if severity is RuleSeverity.WARNING else CheckStatus.FAILED


def _details(
    raw: Mapping[str, Any], etype: str, meta: Mapping[str, Any], *, sample: bool
) -> dict[str, Any]:
    result = _mapping(raw.get("result"))
    details: dict[str, Any] = {"expectation": etype}
    for key in ("observed_value", "element_count", "unexpected_count", "unexpected_percent",
                "missing_count"):
        if key == "observed_value" and not sample and isinstance(result.get(key), list):
            continue  # the distinct values of a sensitive column are its values
        if result.get(key) is not None:
            details[key] = result[key]
    if sample and result.get("partial_unexpected_list"):
        details["sample"] = list(result["partial_unexpected_list"])[:SAMPLE_LIMIT]
    batch = meta.get("active_batch_definition") or meta.get("batch_spec") or {}
    if isinstance(batch, Mapping):
        asset = batch.get("data_asset_name") or batch.get("path") or batch.get("table_name")
        if asset:
            details["batch"] = str(asset)
    info = raw.get("exception_info") or {}
    if isinstance(info, Mapping) and info.get("exception_message"):
        details["error"] = str(info["exception_message"])
    return details


def _run(meta: Mapping[str, Any]) -> tuple[str | None, datetime | None]:
    run = meta.get("run_id")
    if isinstance(run, Mapping):
        name = run.get("run_name") or run.get("run_time")
        moment = _moment(run.get("run_time")) or _moment(meta.get("validation_time"))
        return (None if name is None else str(name)), moment
    return (None if run is None else str(run)), _moment(meta.get("validation_time"))


def _moment(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:  # GE 0.x: 20240301T020301.123456Z
            moment = datetime.strptime(text, "%Y%m%dT%H%M%S.%fZ")
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
