"""Contracts and checks for the workspace: ``lineage check`` and ``lineage contract``.

Contracts come from the contracts folder (the seed's YAML, ODCS, Great Expectations
suites) and from dbt's ``schema.yml`` tests already in the catalog. The checks of every
contract of a dataset are merged (``plan_checks``: a check two contracts state runs once,
naming both), and a column any of them marks sensitive is hidden from all their samples.
Constraints run as SQL in the warehouse (``connectors.warehouse.checks``); history rules
are judged by ``lineage.checks`` on the catalog's metric history, their newest figures
measured live in the constraints' own scan of the table when the warehouse is reachable
(``connectors.warehouse.checks.check_table``). Every result is stored with the lineage that
explains it: a failed column check names its DIRECT chain down to the root column and the
expression on the way (``<- bronze.erp_cust_az12.bdate, TRY_CAST``), then the INDIRECT
columns, so the person on call starts at the cause.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.checks import judge
from lineage.config import ProjectConfig
from lineage.contracts import (
    Constraint,
    ConstraintKind,
    Contract,
    QualityRule,
    RuleKind,
    bind,
    contract_from_dataset,
    lint,
    resolve_bound,
)
from lineage.errors import ConnectorError, InputError
from lineage.graph import LineageGraph
from lineage.model import (
    DatasetId,
    DatasetProfile,
    ParseIssue,
    namespace_of,
    redact_text,
)
from lineage.views import CheckResult, CheckStatus, ObservedSchema
from lineage.workspace.causes import JobExpressions, with_cause
from lineage.workspace.check_plans import BoundContract, CheckPlan, plan_checks, source_key
from lineage.workspace.live import loaded_at_columns, sql_dialect, warehouse_source

if TYPE_CHECKING:
    from connectors.warehouse.figures import FigureRequest
    from lineage.catalog import Catalog

__all__ = ["BoundContract", "CheckPlan", "CheckReport", "contracts_folder", "lint_contracts",
           "load_contracts", "plan_checks", "run_checks", "sensitive_columns"]  # fmt: skip

@dataclass
class CheckReport:
    """One ``lineage check``: its run, the results, and what could not be read or bound."""

    run_id: str
    results: list[CheckResult] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)
    contracts: list[BoundContract] = field(default_factory=list)


def contracts_folder(config: ProjectConfig) -> Path:
    """``contracts.path`` of lineage.yml, else ``contracts/`` at the project root."""
    return config.contracts.path or config.root / "contracts"


def _configured_folder(config: ProjectConfig) -> None:
    """A ``contracts.path`` lineage.yml names must be a folder: checking nothing and
    passing would hide a typo. (No setting and no ``contracts/``: just no contracts.)

    Raises:
        InputError: the configured path does not exist or is a file, naming both.
    """
    path = config.contracts.path
    if path is not None and not path.is_dir():
        state = "is a file, not a folder" if path.exists() else "no such folder"
        source = str(config.source) if config.source is not None else None
        raise InputError(f"contracts.path {path}: {state}", file=source)


def load_contracts(
    catalog: Catalog, config: ProjectConfig
) -> tuple[list[BoundContract], list[ParseIssue]]:
    """Every contract of the contracts folder bound to its dataset, plus dbt's contracts.

    A broken file, or one that binds to no dataset or to several, is an issue naming the
    file; every other contract is still returned.
    """
    bound, issues, _ = _load_all(catalog, config)
    return bound, issues


def sensitive_columns(
    catalog: Catalog, config: ProjectConfig, dataset: DatasetId
) -> frozenset[str]:
    """The columns of ``dataset`` never to show in a sample, lower-cased: every field
    marked sensitive (pii, a classification, dbt meta) by any contract bound to it."""
    return _load_all(catalog, config)[2].get(dataset, frozenset())


def _load_all(
    catalog: Catalog, config: ProjectConfig
) -> tuple[list[BoundContract], list[ParseIssue], dict[DatasetId, frozenset[str]]]:
    """The bound contracts, the issues, and the sensitive columns per dataset: the union
    over every contract of the dataset, whatever its format (a dbt model whose only
    promise is a pii column counts, though it has nothing to check)."""
    from parsers.contracts import read_contracts

    folder = contracts_folder(config)
    contracts, issues = read_contracts(folder) if folder.is_dir() else ([], [])
    datasets = catalog.datasets()
    ids = [d.id for d in datasets]
    bound: list[BoundContract] = []
    sensitive: dict[DatasetId, set[str]] = {}
    for contract in contracts:
        try:
            bound.append(BoundContract(contract, bind(contract, ids)))
        except InputError as exc:
            issues.append(
                ParseIssue(exc.message, line=contract.source.line, file=contract.source.file)
            )
    for dataset in datasets:
        from_dbt = contract_from_dataset(dataset)
        if from_dbt is None:
            continue
        if from_dbt.constraints or from_dbt.rules:
            bound.append(BoundContract(from_dbt, dataset.id))
        else:
            sensitive.setdefault(dataset.id, set()).update(_sensitive_of(from_dbt))
    for item in bound:
        sensitive.setdefault(item.dataset, set()).update(_sensitive_of(item.contract))
    return bound, issues, {d: frozenset(names) for d, names in sensitive.items() if names}


def _sensitive_of(contract: Contract) -> set[str]:
    return {f.name.lower() for f in contract.fields if f.sensitive}


def lint_contracts(catalog: Catalog, config: ProjectConfig) -> list[ParseIssue]:
    """Every problem of every contract against the catalog: unreadable or unbound files,
    unknown columns, types the warehouse does not have; each with file and line."""
    _configured_folder(config)
    bound, issues = load_contracts(catalog, config)
    live = catalog.live_schemas()
    dialect = sql_dialect(config.warehouse.url) if config.warehouse.url else None
    for item in bound:
        dataset = catalog.dataset(item.dataset)
        observed = live.get(item.dataset)
        issues.extend(
            lint(
                item.contract,
                documented=dataset.schema if dataset else None,
                live=observed.table if observed else None,
                dialect=dialect,
            )
        )
    return issues


def run_checks(
    catalog: Catalog,
    config: ProjectConfig,
    datasets: Sequence[DatasetId] = (),
    *,
    run_id: str | None = None,
    sample_limit: int = 5,
    statement_timeout: float | None = None,
    now: datetime | None = None,
    max_figure_age: float | None = None,
) -> CheckReport:
    """Check every bound contract (only those of ``datasets`` when given) and record the
    results under one run. A query that fails is that check's ERROR; the rest still run.

    The checks of all contracts of a dataset are merged first (``plan_checks``), so a
    check two contracts state is run, printed and stored once. ``max_figure_age`` (seconds)
    overrides how old a profile's figure may be for a history rule
    (``lineage.checks.figure_max_age``).

    Raises:
        InputError: lineage.yml's ``contracts.path`` is not a folder.
    """
    moment = now or datetime.now(timezone.utc)
    _configured_folder(config)
    report = CheckReport(run_id=run_id or str(uuid.uuid4()))
    bound, report.issues, sensitive = _load_all(catalog, config)
    wanted = set(datasets)
    report.contracts = [b for b in bound if not wanted or b.dataset in wanted]
    live = catalog.live_schemas()
    url = config.warehouse.url
    timeout = statement_timeout or config.warehouse.statement_timeout
    with _Warehouse(url) as warehouse:
        for plan in plan_checks(report.contracts, sensitive):
            context = _Context(catalog, config, warehouse, moment, report.run_id,
                               sample_limit, timeout, max_figure_age)  # fmt: skip
            report.results.extend(_check_dataset(context, plan, live.get(plan.dataset)))
    failed = sorted({r.dataset for r in report.results if _is_failure(r)})
    if failed:
        # Only what lies upstream of a failed check: the catalog's indexes, not its whole
        # graph (a catalog of 10,000 models would be read in full for one failure).
        found = catalog.lineage_slice(failed, upstream=True, downstream=False)
        graph = LineageGraph.build(found.datasets, found.jobs, found.edges)
        expressions = JobExpressions(found.jobs, config.sql_context.dialect)
        report.results = [with_cause(graph, r, expressions) for r in report.results]
    for result in report.results:
        catalog.record_check_result(
            result.dataset, result.check, result.status, result.observed_at,
            result.column, result.run_id, dict(result.details),
        )  # fmt: skip
    return report


class _Warehouse:
    """The configured warehouse, opened once for every contract (no source: not set)."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.namespace = namespace_of(url)[0] if url else None
        self.source: Any = None
        self._opened = ExitStack()

    def __enter__(self) -> _Warehouse:
        if self.url is not None:
            self.source = self._opened.enter_context(warehouse_source(self.url))
        return self

    def __exit__(self, *_: object) -> None:
        self._opened.close()


@dataclass(frozen=True)
class _Context:
    """What every dataset's checks of one run share."""

    catalog: Catalog
    config: ProjectConfig
    warehouse: _Warehouse
    now: datetime
    run_id: str
    sample_limit: int
    timeout: float | None
    max_figure_age: float | None


# Rules whose newest figure the check measures itself when the warehouse is reachable.
_MEASURED = (RuleKind.FRESHNESS, RuleKind.ROW_COUNT_MIN, RuleKind.NULL_RATE,
             RuleKind.ROW_COUNT_VS_AVERAGE, RuleKind.ROW_COUNT_VS_PREVIOUS)  # fmt: skip


def _check_dataset(
    context: _Context, plan: CheckPlan, observed: ObservedSchema | None
) -> list[CheckResult]:
    dataset, now, run_id = plan.dataset, context.now, context.run_id
    constraints = [
        replace(c, value=resolve_bound(c.value, now.date()))
        if c.kind in (ConstraintKind.MIN, ConstraintKind.MAX) else c
        for c in plan.constraints
    ]  # fmt: skip
    sql_rules = [r for r in plan.rules if r.kind is RuleKind.CUSTOM_SQL]
    history_rules = [r for r in plan.rules if r.kind is not RuleKind.CUSTOM_SQL]
    reason = _cannot_query(dataset, observed, context.warehouse)
    results: list[CheckResult] = []
    live: DatasetProfile | None = None
    failed: str | None = None
    if reason is None and observed is not None:
        history_rules = _with_loaded_at(context.config, observed, history_rules)
    if constraints or sql_rules or _figures(history_rules) is not None:
        if reason is not None:
            queried: list[Constraint | QualityRule] = [*constraints, *sql_rules]
            results.extend(
                _error(dataset, c.label, c.column, reason, now, run_id, c.source)
                for c in queried
            )
        else:
            assert observed is not None
            found, live, failed = _in_warehouse(
                context, plan, observed, constraints, sql_rules, _figures(history_rules)
            )
            results.extend(found)
    if history_rules:
        points = context.catalog.metrics(dataset)
        latest = context.catalog.latest_profile(dataset)
        for rule in history_rules:
            judged = judge(rule, dataset, points, now=now, latest=latest, live=live,
                           max_figure_age=context.max_figure_age, run_id=run_id)  # fmt: skip
            if failed is not None:
                judged = replace(judged, details={**judged.details, "live_error": failed})
            results.append(judged)
    return [_with_sources(r, plan) for r in results]


def _with_loaded_at(
    config: ProjectConfig, observed: ObservedSchema, rules: list[QualityRule]
) -> list[QualityRule]:
    """Freshness rules without a column get the dataset's loaded-at column (configured
    or a known name the table has), so the live scan measures it."""
    present = {c.name.lower(): c.name for c in observed.table.columns}
    default = next((present[c.lower()] for c in loaded_at_columns(config, observed.table.id)
                    if c.lower() in present), None)  # fmt: skip
    return [
        replace(r, column=default)
        if r.kind is RuleKind.FRESHNESS and r.column is None and default else r
        for r in rules
    ]  # fmt: skip


def _figures(rules: list[QualityRule]) -> FigureRequest | None:
    """The live figures ``rules`` judge, measured in the constraints' scan; None: none."""
    from connectors.warehouse.figures import FigureRequest

    if not any(r.kind in _MEASURED for r in rules):
        return None
    return FigureRequest(
        null_columns=tuple(r.column for r in rules if r.kind is RuleKind.NULL_RATE and r.column),
        loaded_at=tuple(r.column for r in rules if r.kind is RuleKind.FRESHNESS and r.column),
    )


def _with_sources(result: CheckResult, plan: CheckPlan) -> CheckResult:
    """A merged check names every contract that states it."""
    sources = plan.sources.get(source_key(result.check, result.column))
    if sources is None and result.column is not None:  # a freshness rule given its column
        sources = plan.sources.get((result.check, None))
    if not sources or len(sources) < 2:
        return result
    return replace(result, details={**result.details, "sources": list(sources)})


def _cannot_query(
    dataset: DatasetId, observed: ObservedSchema | None, warehouse: _Warehouse
) -> str | None:
    if observed is None:
        return "never introspected: run `lineage introspect` so the checks know its columns"
    if warehouse.source is None:
        return "no warehouse.url in lineage.yml: the checks run in the warehouse"
    if dataset.namespace != warehouse.namespace:
        return (
            f"not in the warehouse of lineage.yml ({warehouse.namespace}): check a bronze "
            "folder through the warehouse table or external table that reads it"
        )
    return None


def _in_warehouse(
    context: _Context,
    plan: CheckPlan,
    observed: ObservedSchema,
    constraints: list[Constraint],
    sql_rules: list[QualityRule],
    figures: FigureRequest | None,
) -> tuple[list[CheckResult], DatasetProfile | None, str | None]:
    """The constraints and the live figures in one scan, then each SQL rule; the figures
    (or why they could not be measured: the history is judged instead, and says so)."""
    from connectors.warehouse.checks import check_custom_sql, check_table

    options: dict[str, Any] = {
        "sensitive_columns": plan.sensitive, "sample_limit": context.sample_limit,
        "statement_timeout_s": context.timeout, "now": context.now, "run_id": context.run_id,
    }  # fmt: skip
    source = context.warehouse.source
    results: list[CheckResult] = []
    live: DatasetProfile | None = None
    failed: str | None = None
    try:
        if constraints or figures is not None:
            checked = check_table(source, observed.table, constraints, figures=figures,
                                  **options)  # fmt: skip
            results.extend(checked.results)
            live = checked.figures
            if checked.figures_error is not None:
                failed = f"the live scan failed: {redact_text(checked.figures_error)}"
        for rule in sql_rules:
            results.append(check_custom_sql(source, observed.table, rule, **options))
    except ConnectorError as exc:  # the warehouse itself: every check of this dataset
        if figures is not None and live is None:
            failed = f"the live scan failed: {redact_text(exc.message)}"
        done = {(r.check, r.column) for r in results}
        queried: list[Constraint | QualityRule] = [*constraints, *sql_rules]
        results.extend(
            _error(observed.table.id, item.label, item.column, redact_text(exc.message),
                   context.now, context.run_id, item.source)
            for item in queried
            if (item.label, item.column) not in done
        )  # fmt: skip
    return results, live, failed


def _error(
    dataset: DatasetId,
    check: str,
    column: str | None,
    message: str,
    now: datetime,
    run_id: str,
    source: object,
) -> CheckResult:
    details: dict[str, Any] = {"message": message}
    if source is not None:
        details["source"] = str(source)
    return CheckResult(dataset, check, CheckStatus.ERROR, now, column, run_id, details)


def _is_failure(result: CheckResult) -> bool:
    return result.status in (CheckStatus.FAILED, CheckStatus.WARNING)
