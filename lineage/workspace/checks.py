"""Contracts and checks for the workspace: ``lineage check`` and ``lineage contract``.

Contracts come from the contracts folder (the seed's YAML, ODCS, Great Expectations
suites) and from dbt's ``schema.yml`` tests already in the catalog. Constraints run as
SQL in the warehouse (``connectors.warehouse.checks``), history rules are judged on the
catalog's metric history (``lineage.checks``), and every result is stored with the
lineage that explains it: a failed column check names the upstream columns it comes
from, so the person on call starts at the cause.
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
from lineage.model import ColumnId, DatasetId, ParseIssue, namespace_of, redact_text
from lineage.views import CheckResult, CheckStatus, ObservedSchema
from lineage.workspace.live import sql_dialect, warehouse_source

if TYPE_CHECKING:
    from lineage.catalog import Catalog

__all__ = ["BoundContract", "CheckReport", "contracts_folder", "lint_contracts", "load_contracts",
           "run_checks"]  # fmt: skip

_CAUSE_LIMIT = 5  # upstream columns named per failed check


@dataclass(frozen=True)
class BoundContract:
    """A contract and the dataset it binds to."""

    contract: Contract
    dataset: DatasetId


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
    from parsers.contracts import read_contracts

    folder = contracts_folder(config)
    contracts, issues = read_contracts(folder) if folder.is_dir() else ([], [])
    datasets = catalog.datasets()
    ids = [d.id for d in datasets]
    bound: list[BoundContract] = []
    for contract in contracts:
        try:
            bound.append(BoundContract(contract, bind(contract, ids)))
        except InputError as exc:
            issues.append(
                ParseIssue(exc.message, line=contract.source.line, file=contract.source.file)
            )
    for dataset in datasets:
        from_dbt = contract_from_dataset(dataset)
        if from_dbt is not None and (from_dbt.constraints or from_dbt.rules):
            bound.append(BoundContract(from_dbt, dataset.id))
    return bound, issues


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
) -> CheckReport:
    """Check every bound contract (only those of ``datasets`` when given) and record the
    results under one run. A query that fails is that check's ERROR; the rest still run.

    Raises:
        InputError: lineage.yml's ``contracts.path`` is not a folder.
    """
    moment = now or datetime.now(timezone.utc)
    _configured_folder(config)
    report = CheckReport(run_id=run_id or str(uuid.uuid4()))
    bound, report.issues = load_contracts(catalog, config)
    wanted = set(datasets)
    report.contracts = [b for b in bound if not wanted or b.dataset in wanted]
    live = catalog.live_schemas()
    url = config.warehouse.url
    timeout = statement_timeout or config.warehouse.statement_timeout
    with _Warehouse(url) as warehouse:
        for item in report.contracts:
            found = _check_contract(
                catalog, item, live.get(item.dataset), warehouse, moment, report.run_id,
                sample_limit, timeout,
            )  # fmt: skip
            report.results.extend(found)
    graph = LineageGraph.from_catalog(catalog) if _any_failed(report.results) else None
    if graph is not None:
        report.results = [_with_cause(graph, r) for r in report.results]
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


def _check_contract(
    catalog: Catalog,
    item: BoundContract,
    observed: ObservedSchema | None,
    warehouse: _Warehouse,
    now: datetime,
    run_id: str,
    sample_limit: int,
    timeout: float | None,
) -> list[CheckResult]:
    contract, dataset = item.contract, item.dataset
    constraints = [
        replace(c, value=resolve_bound(c.value, now.date()))
        if c.kind in (ConstraintKind.MIN, ConstraintKind.MAX) else c
        for c in contract.constraints
    ]  # fmt: skip
    sql_rules: list[QualityRule] = [r for r in contract.rules if r.kind is RuleKind.CUSTOM_SQL]
    history_rules = [r for r in contract.rules if r.kind is not RuleKind.CUSTOM_SQL]
    results: list[CheckResult] = []
    if constraints or sql_rules:
        reason = _cannot_query(dataset, observed, warehouse)
        if reason is not None:
            queried: list[Constraint | QualityRule] = [*constraints, *sql_rules]
            results.extend(
                _error(dataset, c.label, c.column, reason, now, run_id, c.source)
                for c in queried
            )
        else:
            assert observed is not None
            results.extend(
                _in_warehouse(
                    contract, observed, constraints, sql_rules, warehouse, now, run_id,
                    sample_limit, timeout,
                )
            )  # fmt: skip
    if history_rules:
        points = catalog.metrics(dataset)
        latest = catalog.latest_profile(dataset)
        results.extend(
            judge(rule, dataset, points, now=now, latest=latest, run_id=run_id)
            for rule in history_rules
        )
    return results


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
    contract: Contract,
    observed: ObservedSchema,
    constraints: list[Constraint],
    sql_rules: list[QualityRule],
    warehouse: _Warehouse,
    now: datetime,
    run_id: str,
    sample_limit: int,
    timeout: float | None,
) -> list[CheckResult]:
    from connectors.warehouse.checks import check_constraints, check_custom_sql

    sensitive = {f.name for f in contract.fields if f.sensitive}
    options: dict[str, Any] = {
        "sensitive_columns": sensitive, "sample_limit": sample_limit,
        "statement_timeout_s": timeout, "now": now, "run_id": run_id,
    }  # fmt: skip
    results: list[CheckResult] = []
    try:
        if constraints:
            results.extend(check_constraints(warehouse.source, observed.table, constraints,
                                             **options))  # fmt: skip
        for rule in sql_rules:
            results.append(check_custom_sql(warehouse.source, observed.table, rule, **options))
    except ConnectorError as exc:  # the warehouse itself: every check of this contract
        done = {(r.check, r.column) for r in results}
        queried: list[Constraint | QualityRule] = [*constraints, *sql_rules]
        results.extend(
            _error(observed.table.id, item.label, item.column, redact_text(exc.message), now,
                   run_id, item.source)
            for item in queried
            if (item.label, item.column) not in done
        )  # fmt: skip
    return results


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


def _any_failed(results: Sequence[CheckResult]) -> bool:
    return any(r.status in (CheckStatus.FAILED, CheckStatus.WARNING) for r in results)


def _with_cause(graph: LineageGraph, result: CheckResult) -> CheckResult:
    """A failed column check with the upstream columns it comes from, nearest first:
    ``bronze.erp_cust_az12.bdate (DIRECT/TRANSFORMATION via erp.erp_customers)``."""
    if result.status not in (CheckStatus.FAILED, CheckStatus.WARNING) or result.column is None:
        return result
    impact = graph.upstream(ColumnId(result.dataset, result.column))
    causes = []
    for entry in impact.columns[:_CAUSE_LIMIT]:
        node = entry.node
        assert isinstance(node, ColumnId)
        hop = entry.path[-1] if entry.path else None
        how = ", ".join(f"{t.type.value}/{t.subtype.value}" for t in hop.transformations) if (
            hop is not None and hop.transformations) else ("DIRECT" if entry.direct else "INDIRECT")
        via = f" via {hop.job}" if hop is not None and hop.job else ""
        causes.append(f"{node.dataset.name}.{node.name} ({how}{via})")
    if not causes:
        return result
    details = dict(result.details)
    details["upstream"] = causes
    message = details.get("message")
    if isinstance(message, str):
        details["message"] = f"{message} <- {causes[0]}"
    return replace(result, details=details)
