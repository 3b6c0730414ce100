"""A drift report as text: a Markdown PR comment and GitHub workflow annotations.

The rich table is the CLI's; JSON is ``DriftReport.to_dict``. Both renderers here are
plain functions of the report, so CI can call them without the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping

from lineage.drift.impact import DriftFinding, DriftReport
from lineage.drift.kinds import DriftSeverity
from lineage.model import DatasetId

__all__ = ["impact_summary", "to_github", "to_markdown"]

_ICON = {DriftSeverity.BREAKING: "🔴", DriftSeverity.WARNING: "🟡", DriftSeverity.INFO: "⚪"}
_LEVEL = {DriftSeverity.BREAKING: "error", DriftSeverity.WARNING: "warning",
          DriftSeverity.INFO: "notice"}  # fmt: skip
_LIMIT = 8  # names listed per cell before "+N more"


def _names(items: tuple[str, ...] | list[str]) -> str:
    shown = ", ".join(items[:_LIMIT])
    return shown + (f" +{len(items) - _LIMIT} more" if len(items) > _LIMIT else "")


def impact_summary(finding: DriftFinding) -> str:
    """The impact in one line: downstream columns (depth, DIRECT/INDIRECT), jobs, owners."""
    impact = finding.impact
    parts = []
    if impact.columns:
        parts.append("columns: " + _names([
            f"{r.label} ({r.distance}, {'DIRECT' if r.direct else 'INDIRECT'})"
            for r in impact.columns]))  # fmt: skip
    if impact.datasets:
        parts.append("datasets: " + _names([r.label for r in impact.datasets]))
    if impact.jobs:
        parts.append("jobs: " + _names(list(impact.jobs)))
    if impact.owners:
        parts.append("owners: " + _names(list(impact.owners)))
    if impact.contracts:
        parts.append("contracts: " + _names(list(impact.contracts)))
    if impact.star_consumers:
        parts.append("SELECT *: " + _names(list(impact.star_consumers)))
    if impact.positional_consumers:
        parts.append("positional INSERT: " + _names(list(impact.positional_consumers)))
    if impact.unknown_consumers:
        parts.append("unknown consumers: " + _names(list(impact.unknown_consumers)))
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: DriftReport) -> str:
    """A PR comment: counts, then one table row per finding, worst first."""
    counts = report.counts()
    lines = [
        "### Schema drift",
        "",
        f"Baseline `{report.baseline}` against `{report.observed}`: "
        f"**{counts['breaking']} breaking**, {counts['warning']} warning, "
        f"{counts['info']} info.",
        "",
    ]
    if not report.findings:
        lines.append("No drift: the observed schemas match the baseline.")
    else:
        lines += ["| | change | dataset | column | what | impact |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for f in report.findings:
            lines.append("| " + " | ".join(_cell(x) for x in (
                f"{_ICON[f.severity]} {f.severity.value}", f.kind, f"`{f.dataset.name}`",
                f"`{f.column}`" if f.column else "", f.message, impact_summary(f) or "—",
            )) + " |")  # fmt: skip
    if report.issues:
        lines += ["", "<details><summary>Not compared</summary>", ""]
        lines += [f"- {_cell(issue)}" for issue in report.issues]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(report: DriftReport, files: Mapping[DatasetId, str] | None = None) -> str:
    """GitHub workflow commands: ``::error file=...,title=...::message`` per breaking
    finding, ``::warning`` / ``::notice`` for the others. ``files`` gives the source file
    of a dataset (its SQL model or contract) for the annotation to sit on."""
    files = files or {}
    lines = []
    for f in report.findings:
        props = []
        where = files.get(f.dataset)
        if where:
            props.append(f"file={_escape_property(where)}")
        title = f"{f.kind}: {f.dataset.name}" + (f".{f.column}" if f.column else "")
        props.append(f"title={_escape_property(title)}")
        impact = impact_summary(f)
        message = f.message + (f" — impact: {impact}" if impact else "")
        lines.append(f"::{_LEVEL[f.severity]} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
