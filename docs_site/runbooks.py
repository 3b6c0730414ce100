"""Runbooks generated from metadata: who to call, what the SLA is, what it depends on,
what breaks, which checks guard it, how to recover, and where to look first.

Pure functions over ``SiteFacts``; the commands and queries are templates filled with the
dataset's own names (queries built with sqlglot, never by string formatting).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from docs_site.context import LIST_LIMIT
from docs_site.facts import DatasetFacts, SiteFacts
from docs_site.lineage_data import ColumnLineageIndex, DownstreamEntry
from lineage.model import DatasetId, Job, redact_url
from lineage.model.sql_text import sql_text
from lineage.views import CheckResult, RunState

if TYPE_CHECKING:
    from lineage.contracts import Constraint

__all__ = [
    "CheckLine",
    "DatasetRunbook",
    "MatrixRow",
    "dataset_runbook",
    "dialect_of",
    "job_commands",
    "masked",
    "restore_hint",
    "violation_query",
]

_DIALECTS = {
    "postgres": "postgres", "postgresql": "postgres", "duckdb": "duckdb", "sqlite": "sqlite",
    "mysql": "mysql", "snowflake": "snowflake", "bigquery": "bigquery", "redshift": "redshift",
    "trino": "trino", "databricks": "databricks", "spark": "spark", "mssql": "tsql",
}  # fmt: skip


@dataclass(frozen=True)
class CheckLine:
    """A check that guards the dataset: its name, threshold and latest result."""

    name: str
    threshold: str
    severity: str
    last: CheckResult | None


@dataclass(frozen=True)
class MatrixRow:
    """One row of the troubleshooting matrix, filled with this dataset's facts."""

    symptom: str
    cause: str
    facts: str
    action: str


@dataclass
class DatasetRunbook:
    """Everything the dataset runbook page shows."""

    owners: tuple[str, ...]
    escalation: list[str]
    sla: list[str]
    schedule: str | None
    upstream: list[tuple[DownstreamEntry, str]]  # (entry, last run state of its writers)
    downstream: list[DownstreamEntry]  # the nearest (LIST_LIMIT)
    checks: list[CheckLine]
    commands: list[tuple[str, str]]  # (what, command)
    queries: list[tuple[str, str]]  # (constraint, SQL)
    matrix: list[MatrixRow]
    failed_upstream_runs: list[str] = field(default_factory=list)
    upstream_total: int = 0  # every dataset upstream, however far
    downstream_total: int = 0


def dialect_of(namespace: str) -> str | None:
    """The sqlglot dialect a namespace's scheme names (``postgres://`` -> postgres)."""
    scheme = namespace.split("://", 1)[0].split("+", 1)[0].lower()
    return _DIALECTS.get(scheme)


def restore_hint(namespace: str, facts: DatasetFacts) -> str:
    """How to get yesterday's data back, per warehouse kind and table format."""
    layout = facts.layout.layout if facts.layout else None
    name = facts.id.name
    if layout is not None and layout.format == "iceberg":
        snap = layout.snapshots[-2].id if len(layout.snapshots) > 1 else "<snapshot-id>"
        return (
            "Iceberg: roll back to a previous snapshot (CALL system.rollback_to_snapshot("
            f"'{name}', {snap})) or read it with time travel."
        )
    if layout is not None and layout.format == "delta":
        return f"Delta: RESTORE TABLE {name} TO VERSION AS OF <version> (see DESCRIBE HISTORY)."
    scheme = namespace.split("://", 1)[0].lower()
    hints = {
        "s3": "S3: restore the previous object versions of the prefix (bucket versioning), "
        "or reload the files from the landing zone and rerun the ingestion.",
        "postgres": "PostgreSQL: point-in-time recovery into a scratch instance "
        "(pg_basebackup + WAL), then copy the table back; or pg_restore -t from the nightly "
        "dump.",
        "duckdb": "DuckDB: restore the .duckdb file from its backup copy (or IMPORT DATABASE "
        "from the last EXPORT DATABASE) and rerun the jobs after it.",
        "snowflake": "Snowflake: CREATE TABLE ... CLONE ... AT (OFFSET => -3600) or UNDROP TABLE.",
        "bigquery": "BigQuery: SELECT ... FOR SYSTEM_TIME AS OF a timestamp within the "
        "time-travel window.",
        "file": "Files: restore the folder from backup and rerun the ingestion.",
    }
    for key, hint in hints.items():
        if scheme.startswith(key):
            return hint
    return "Rebuild from the upstream datasets: rerun the producing jobs in order."


def _pretty(query: Any, dialect: str | None) -> str:
    import sqlglot

    try:
        return sql_text(query, dialect, pretty=True)
    except sqlglot.errors.SqlglotError:
        return sql_text(query, None, pretty=True)


def violation_query(constraint: Constraint, table: str, dialect: str | None) -> str | None:
    """SQL returning the rows that break ``constraint`` (None for kinds with no row test)."""
    from sqlglot import exp

    from lineage.contracts import ConstraintKind

    column = exp.column(constraint.column, quoted=True)
    relation = exp.to_table(table, dialect=dialect)
    kind, value = constraint.kind, constraint.value
    query = exp.select("*").from_(relation)
    if kind is ConstraintKind.NOT_NULL:
        condition: exp.Expression = column.is_(exp.null())
    elif kind is ConstraintKind.UNIQUE:
        grouped = (
            exp.select(column.copy(), exp.Count(this=exp.Star()).as_("n")).from_(relation)
            .group_by(column.copy()).having(exp.Count(this=exp.Star()) > 1)
        )  # fmt: skip
        return _pretty(grouped, dialect)
    elif kind is ConstraintKind.MAX_LENGTH and isinstance(value, int):
        condition = exp.Length(this=column) > value
    elif kind is ConstraintKind.MIN_LENGTH and isinstance(value, int):
        condition = exp.Length(this=column) < value
    elif kind in (ConstraintKind.MIN, ConstraintKind.MAX) and isinstance(value, int | float | str):
        bound = exp.convert(value)
        condition = column < bound if kind is ConstraintKind.MIN else column > bound
    elif kind is ConstraintKind.ACCEPTED_VALUES and isinstance(value, tuple):
        condition = exp.not_(column.isin(*[exp.convert(v) for v in value]))
    elif kind is ConstraintKind.PATTERN and isinstance(value, str):
        condition = exp.not_(exp.RegexpLike(this=column, expression=exp.convert(value)))
    else:
        return None
    return _pretty(query.where(condition), dialect)


def failed_writers(site: SiteFacts) -> set[DatasetId]:
    """Datasets whose producing job's last run failed or was aborted."""
    failed = (RunState.FAIL.value, RunState.ABORT.value)
    return {d for d in site.datasets if site.writer_state(d) in failed}


def dataset_runbook(
    facts: DatasetFacts, site: SiteFacts, index: ColumnLineageIndex,
    owners: dict[DatasetId, tuple[str, ...]], failed: set[DatasetId] | None = None,
) -> DatasetRunbook:  # fmt: skip
    """The runbook of one dataset; ``failed`` is ``failed_writers(site)`` (a site build
    passes it, computed once)."""
    dataset = facts.dataset
    escalation = _escalation(facts, site, owners)
    nearest = index.nearest([facts.id], owners, upstream=True, limit=LIST_LIMIT)
    upstream = [(e, site.writer_state(e.dataset)) for e in nearest.entries]
    # However far upstream the failed run is: stale data here starts there.
    failed_upstream = index.reached_among(
        facts.id, failed_writers(site) if failed is None else failed, upstream=True
    )
    downstream = index.nearest([facts.id], owners, upstream=False, limit=LIST_LIMIT)
    checks = _checks(facts)
    dialect = dialect_of(dataset.id.namespace)
    queries = []
    for contract in facts.contracts:
        for constraint in contract.constraints:
            sql = violation_query(constraint, dataset.id.name, dialect)
            if sql:
                queries.append((constraint.label, sql))
    return DatasetRunbook(
        owners=owners.get(facts.id, ()),
        escalation=escalation,
        sla=_sla(facts),
        schedule=_text(facts.meta.get("schedule") or facts.meta.get("cron")),
        upstream=upstream,
        downstream=downstream.entries,
        checks=checks,
        commands=_commands(facts, site),
        queries=queries,
        matrix=_matrix(facts, site, [d.name for d in failed_upstream]),
        failed_upstream_runs=[d.name for d in failed_upstream],
        upstream_total=nearest.total,
        downstream_total=downstream.total,
    )


def job_commands(job: Job) -> list[tuple[str, str]]:
    """How to rerun a job, by its kind."""
    commands: list[tuple[str, str]] = []
    model = job.name.rsplit(".", 1)[-1]
    if job.kind.startswith("dbt"):
        commands.append(("Rerun the model", f"dbt run --select {model}"))
        commands.append((
            "Backfill one day",
            f"dbt run --select {model} --vars '{{backfill_date: YYYY-MM-DD}}'",
        ))  # fmt: skip
        commands.append(("Rebuild it and everything downstream", f"dbt build --select {model}+"))
    elif job.kind == "sql":
        where = job.source_file or "<the SQL file>"
        commands.append(("Rerun the SQL", f"psql -f {where}  # or your warehouse client"))
    else:
        where = job.source_file or "<the module defining the job>"
        commands.append((
            f'Rerun the decorated job "{job.name}"',
            f"python {where}  # runs @lineage.job(name=\"{job.name}\")",
        ))  # fmt: skip
    commands.append(("Deliver events spooled while the backend was down", "lineage events replay"))
    commands.append(("Refresh the catalog and this site", "lineage scan && lineage docs build"))
    return commands


def _commands(facts: DatasetFacts, site: SiteFacts) -> list[tuple[str, str]]:
    commands: list[tuple[str, str]] = []
    seen: set[str] = set()
    for key in facts.writers:
        job = site.jobs.get(key)
        for what, command in job_commands(job) if job else []:
            if command not in seen:
                seen.add(command)
                commands.append((what, command))
    if not commands:
        commands.append(("Deliver spooled events", "lineage events replay"))
    name = facts.id.name.rsplit(".", 1)[-1]
    commands.append(("Re-check the contract", f"lineage check {name}"))
    commands.append(("Restore", restore_hint(facts.id.namespace, facts)))
    return commands


def _escalation(
    facts: DatasetFacts, site: SiteFacts, owners: dict[DatasetId, tuple[str, ...]]
) -> list[str]:
    chain: dict[str, None] = {}
    for key in ("escalation", "oncall", "on_call"):
        value = facts.meta.get(key)
        if isinstance(value, str):
            chain[value] = None
        elif isinstance(value, list):
            chain.update(dict.fromkeys(str(v) for v in value))
    chain.update(dict.fromkeys(owners.get(facts.id, ())))
    for writer in facts.writers:
        job = site.jobs.get(writer)
        chain.update(dict.fromkeys(job.owners if job else ()))
    return list(chain)


def _sla(facts: DatasetFacts) -> list[str]:
    from lineage.contracts import RuleKind

    out: list[str] = []
    for contract in facts.contracts:
        for rule in contract.rules:
            if rule.kind is RuleKind.FRESHNESS and rule.max_age_seconds is not None:
                column = f" on {rule.column}" if rule.column else ""
                out.append(
                    f"Fresh within {_duration(rule.max_age_seconds)}{column} "
                    f"({rule.severity.value}, contract {contract.source})"
                )
    freshness = facts.dataset.freshness
    if freshness is not None:
        if freshness.warn_after:
            out.append(f"dbt freshness: warn after {freshness.warn_after}")
        if freshness.error_after:
            out.append(f"dbt freshness: error after {freshness.error_after}")
    return out


def _checks(facts: DatasetFacts) -> list[CheckLine]:
    latest = {r.check: r for r in facts.latest_checks}
    lines: list[CheckLine] = []
    for contract in facts.contracts:
        for constraint in contract.constraints:
            value = constraint.value
            threshold = "" if value is None else (
                ", ".join(value) if isinstance(value, tuple) else str(value))  # fmt: skip
            lines.append(CheckLine(constraint.label, threshold, constraint.severity.value,
                                   latest.pop(constraint.label, None)))  # fmt: skip
        for rule in contract.rules:
            lines.append(CheckLine(rule.label, _rule_threshold(rule), rule.severity.value,
                                   latest.pop(rule.label, None)))  # fmt: skip
    for test in facts.dataset.tests:
        label = f"{test.name}({test.column})" if test.column else test.name
        if any(line.name == label for line in lines):
            continue  # the contract already lists it (dbt tests are contract rules too)
        lines.append(CheckLine(label, "" if test.arguments == "{}" else test.arguments,
                               test.severity, latest.pop(label, None)))  # fmt: skip
    for name, result in sorted(latest.items()):
        threshold = str(result.details.get("threshold", ""))
        lines.append(CheckLine(name, threshold, "", result))
    return lines


def _rule_threshold(rule: object) -> str:
    from lineage.contracts import QualityRule

    assert isinstance(rule, QualityRule)
    if rule.max_age_seconds is not None:
        return f"<= {_duration(rule.max_age_seconds)}"
    if rule.tolerance is not None:
        return f"±{rule.tolerance:.0%} of the {rule.window_days or 1}-day figure"
    if rule.minimum is not None:
        return f">= {rule.minimum} rows"
    if rule.max_rate is not None:
        return f"null rate <= {rule.max_rate:.1%}"
    return rule.sql or ""


def _matrix(facts: DatasetFacts, site: SiteFacts, failed: Sequence[str]) -> list[MatrixRow]:
    loaded = [p for p in facts.metrics if p.name == "last_loaded_at"]
    last_loaded = (
        _epoch(max(p.value for p in loaded)) if loaded else "no last_loaded_at recorded"
    )
    last = site.last_run(facts)
    run_text = f"last run {last.state.value} at {last.first_event_at:%Y-%m-%d %H:%M}" if last \
        else "no run recorded"  # fmt: skip
    stale = (
        f"Latest load: {last_loaded}; {run_text}; failed upstream runs: "
        + (", ".join(failed) if failed else "none")
    )
    layout = facts.layout
    if layout is not None:
        files = layout.layout.file_count
        average = layout.layout.total_bytes // files if files else 0
        small = [f.message for f in layout.findings if f.kind == "small_files"]
        files_text = f"{files} files, average {_bytes(average)}" + (
            f"; {small[0]}" if small else "; no small-files finding")  # fmt: skip
        partitions = layout.layout.partition_columns
        part_text = (
            f"partitioned by {', '.join(partitions)} ({len(layout.layout.partitions)} partitions)"
            if partitions else "not partitioned: every query reads every file"
        )
    else:
        files_text = "no file layout observed (not a bronze folder, or never introspected)"
        live_parts = [c.name for c in facts.live.table.columns if c.partition] if facts.live else []
        part_text = f"partitioned by {', '.join(live_parts)}" if live_parts else \
            "no partition columns known"  # fmt: skip
    name = facts.id.name
    return [
        MatrixRow("Stale data", "a failed or late upstream run", stale,
                  "Fix and rerun the failed upstream job, then this one; replay spooled events."),
        MatrixRow("Small files", "many tiny appends: compaction needed", files_text,
                  f"Compact {name} (rewrite into ~128 MB files), then re-introspect."),
        MatrixRow("Slow queries", "missing partitions or partition pruning", part_text,
                  "Filter on the partition columns; add partitioning on the load date."),
    ]  # fmt: skip


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _epoch(value: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(value, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def masked(text: str) -> str:
    """A namespace or URL as the site may show it (no password)."""
    return redact_url(text)
