"""``lineage drift``: a baseline and an observation from the site, the catalog, contracts
or the warehouse; the diff; its impact through the lineage graph; findings stored.

Baselines: a site's ``schema.json`` (a folder, the file, or an ``http(s)://`` URL fetched
with a timeout), ``contracts`` (the contracts folder), ``catalog`` (each dataset's last
documented schema version: observers other than ``warehouse:``, ``files:`` and
``introspection``). Default: ``<docs.output>/schema.json`` when it exists, else the
contracts folder when there is one, else the catalog.

Observations: ``warehouse`` (the catalog's latest live schemas, warehouses and files
alike, as the last ``lineage introspect`` left them; with ``introspect=True`` the
configured sources are introspected first, and only then can a dropped table be told
from one not looked at), ``events`` (schemas of ingested OpenLineage events, observer
``openlineage``), or the path / URL of a second ``schema.json``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.config import ProjectConfig
from lineage.contracts import Contract
from lineage.drift import (
    DatasetSchema,
    DriftFinding,
    DriftReport,
    DriftSeverity,
    assess,
    contract_changes,
    contract_schema,
    diff_datasets,
    one_hop_inputs,
    read_schema_document,
)
from lineage.errors import InputError, PermanentConnectorError, TemporaryConnectorError
from lineage.graph import LineageGraph
from lineage.model import DatasetId, LiveTable, redact_text, redact_url
from lineage.workspace.checks import contracts_folder, load_contracts

if TYPE_CHECKING:
    from lineage.catalog import Catalog, DriftRecordSummary
    from lineage.workspace import Workspace

__all__ = [
    "DOCUMENTED_EXCLUDED",
    "DriftOutcome",
    "drift_from_text",
    "live_schema_of",
    "load_baseline",
    "run_drift",
]

#: Observers whose schema versions are not documentation (``catalog`` baseline).
DOCUMENTED_EXCLUDED = ("warehouse:", "files:", "introspection")
EVENTS_OBSERVER = "openlineage"
FETCH_TIMEOUT = 10.0  # seconds for a schema.json URL


@dataclass
class DriftOutcome:
    """One ``lineage drift``: the report, where each dataset is documented, what was
    stored."""

    report: DriftReport
    files: dict[DatasetId, str] = field(default_factory=dict)
    recorded: DriftRecordSummary | None = None
    run_id: str = ""

    @property
    def changes(self) -> tuple[DriftFinding, ...]:
        return self.report.findings

    def count_at_least(self, threshold: str) -> int:
        """Findings graded ``threshold`` (breaking / warning / any) or worse.

        Raises:
            InputError: ``threshold`` is none of those.
        """
        grades = {"breaking": DriftSeverity.BREAKING, "warning": DriftSeverity.WARNING,
                  "any": DriftSeverity.INFO, "info": DriftSeverity.INFO}  # fmt: skip
        grade = grades.get(threshold.strip().lower())
        if grade is None:
            raise InputError(f"unknown drift threshold {threshold!r}: breaking, warning or any")
        return sum(1 for f in self.report.findings if f.severity.at_least(grade))

    def summary(self) -> str:
        counts = self.report.counts()
        if not self.report.findings:
            return "no drift"
        return (f"{counts['breaking']} breaking, {counts['warning']} warning, "
                f"{counts['info']} info")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {**self.report.to_dict(), "run_id": self.run_id}


@dataclass
class _Side:
    label: str
    datasets: list[DatasetSchema]
    complete: Callable[[DatasetId], bool] = lambda _: False
    issues: list[str] = field(default_factory=list)


def run_drift(
    catalog: Catalog,
    config: ProjectConfig,
    *,
    baseline: str | None = None,
    against: str = "warehouse",
    introspect: bool = False,
    record: bool = True,
    run_id: str | None = None,
) -> DriftOutcome:
    """Compare, assess and (by default) record the findings in the catalog.

    Raises:
        InputError: a baseline or observation that cannot be read (an unknown format, a
            missing file), or nothing to compare.
        ConnectorError: a ``schema.json`` URL that cannot be fetched.
    """
    base = load_baseline(catalog, config, baseline, against=against)
    return _compare(catalog, config, base, against=against, introspect=introspect,
                    record=record, run_id=run_id)  # fmt: skip


def drift_from_text(
    workspace: Workspace, text: str, *, label: str = "previous schema.json", record: bool = True
) -> DriftOutcome:
    """``lineage build``'s drift step: the previous site's ``schema.json`` (its text, read
    before the new site replaced it) against the warehouse as the catalog holds it.

    Raises:
        InputError: ``text`` is not a ``silverline-schema/1`` document.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"the published schema is not JSON: {exc}", file=label) from exc
    base = _Side(label, read_schema_document(document, where=label))
    return _compare(workspace.catalog, workspace.config, base, against="warehouse",
                    introspect=False, record=record, run_id=None)  # fmt: skip


def _compare(
    catalog: Catalog, config: ProjectConfig, base: _Side, *, against: str, introspect: bool,
    record: bool, run_id: str | None,
) -> DriftOutcome:  # fmt: skip
    run_id = run_id or f"drift-{uuid.uuid4().hex[:12]}"
    observed = _observed(catalog, config, against, introspect)
    graph = LineageGraph.from_catalog(catalog)
    changes = diff_datasets(base.datasets, observed.datasets, complete=observed.complete,
                            inputs_of=one_hop_inputs(graph))  # fmt: skip
    bound, contract_issues = _contracts(catalog, config)
    by_id = {d.id: d for d in observed.datasets}
    before = {d.id: d for d in base.datasets}
    for dataset_id, contracts in bound.items():
        if dataset_id in by_id:
            for contract in contracts:
                changes.extend(
                    contract_changes(contract, by_id[dataset_id], before.get(dataset_id))
                )
    findings = assess(changes, graph, bound)
    report = DriftReport(base.label, observed.label, tuple(findings),
                         tuple(base.issues + observed.issues + contract_issues))  # fmt: skip
    files = {d.id: d.source_file for d in catalog.datasets() if d.source_file}
    outcome = DriftOutcome(report, files, run_id=run_id)
    if record:
        outcome.recorded = catalog.record_drift(
            findings, baseline=base.label, observed_by=observed.label, run_id=run_id
        )
    return outcome


def _contracts(
    catalog: Catalog, config: ProjectConfig
) -> tuple[dict[DatasetId, list[Contract]], list[str]]:
    if not contracts_folder(config).is_dir():
        return {}, []
    bound, issues = load_contracts(catalog, config)
    found: dict[DatasetId, list[Contract]] = {}
    for item in bound:
        found.setdefault(item.dataset, []).append(item.contract)
    return found, [str(i) for i in issues]


# -- baselines -----------------------------------------------------------------------------


def load_baseline(
    catalog: Catalog, config: ProjectConfig, baseline: str | None, *, against: str = ""
) -> _Side:
    """The baseline ``baseline`` names (see the module docstring for the default)."""
    if baseline is None:
        site = config.docs.output or config.root / "site"
        if (site / "schema.json").is_file():
            baseline = str(site)
        elif contracts_folder(config).is_dir():
            baseline = "contracts"
        else:
            baseline = "catalog"
    if baseline == "contracts":
        return _contract_baseline(catalog, config)
    if baseline == "catalog":
        return _catalog_baseline(catalog, exclude_events=against == "events")
    label, document = _schema_json(baseline, config.root)
    return _Side(label, read_schema_document(document, where=label))


def _schema_json(where: str, root: Path) -> tuple[str, Any]:
    """(label, parsed JSON) of a site folder, a schema.json file or an http(s) URL."""
    if where.startswith(("http://", "https://")):
        return redact_url(where), _fetch(where)
    path = Path(where.removeprefix("file://")).expanduser()
    if not path.is_absolute() and not path.exists():
        path = root / path
    if path.is_dir():
        path = path / "schema.json"
    if not path.is_file():
        raise InputError("no published schema here (build the docs site first: "
                         "lineage docs build)", file=str(path))  # fmt: skip
    try:
        return str(path), json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the published schema: {exc}", file=str(path)) from exc


def _fetch(url: str) -> Any:
    import requests

    shown = redact_url(url)
    try:
        response = requests.get(url, timeout=FETCH_TIMEOUT)
    except requests.RequestException as exc:
        raise TemporaryConnectorError(f"cannot fetch the published schema: "
                                      f"{redact_text(str(exc))}", obj=shown) from exc  # fmt: skip
    if response.status_code >= 400:
        error = (TemporaryConnectorError if response.status_code in (408, 429)
                 or response.status_code >= 500 else PermanentConnectorError)  # fmt: skip
        raise error(f"fetching the published schema answered HTTP {response.status_code}",
                    obj=shown)  # fmt: skip
    try:
        return response.json()
    except ValueError as exc:
        raise InputError("the published schema is not JSON", obj=shown) from exc


def _contract_baseline(catalog: Catalog, config: ProjectConfig) -> _Side:
    bound, issues = load_contracts(catalog, config)
    seen: dict[DatasetId, DatasetSchema] = {}
    for item in bound:
        if item.contract.fields and item.dataset not in seen:
            seen[item.dataset] = contract_schema(item.contract, item.dataset)
    return _Side(f"contracts:{contracts_folder(config)}", list(seen.values()),
                 issues=[str(i) for i in issues])  # fmt: skip


def _catalog_baseline(catalog: Catalog, *, exclude_events: bool) -> _Side:
    excluded = DOCUMENTED_EXCLUDED + ((EVENTS_OBSERVER,) if exclude_events else ())
    found = []
    for dataset in catalog.datasets():
        versions = [v for v in catalog.schema_history(dataset.id)
                    if not v.observed_by.startswith(excluded)]  # fmt: skip
        if versions and versions[-1].schema.fields:
            found.append(_from_fields(dataset.id, versions[-1].schema.fields,
                                      dataset.description, dataset.owners))  # fmt: skip
    return _Side("catalog", found)


def _from_fields(
    dataset: DatasetId, fields: Any, description: str | None = None, owners: tuple[str, ...] = ()
) -> DatasetSchema:
    from lineage.model import LiveColumn

    columns = tuple(LiveColumn(f.name, f.type, comment=f.description) for f in fields)
    return DatasetSchema(dataset, columns, description=description, owners=owners,
                         source="documented", ordered=False, knows_partitions=False)  # fmt: skip


# -- observations --------------------------------------------------------------------------


def live_schema_of(table: LiveTable, source: str = "live") -> DatasetSchema:
    """A live table as one side of a comparison."""
    return DatasetSchema(table.id, table.columns, kind=table.kind, description=table.comment,
                         source=source)  # fmt: skip


def _observed(catalog: Catalog, config: ProjectConfig, against: str, introspect: bool) -> _Side:
    if against == "events":
        return _events(catalog)
    if against != "warehouse":
        label, document = _schema_json(against, config.root)
        datasets = read_schema_document(document, where=label)
        covered = {d.id.namespace for d in datasets}
        return _Side(label, datasets, complete=lambda d: d.namespace in covered)
    issues: list[str] = []
    fresh: dict[DatasetId, LiveTable] = {}
    if introspect:
        from lineage.workspace.live import introspect as run_introspection

        report = run_introspection(catalog, config)
        issues += [str(i) for i in report.issues]
        for _, observation in report.observations:
            fresh.update({t.id: t for t in observation.tables})
    live = catalog.live_schemas()
    if not live:
        issues.append("nothing introspected yet: run `lineage introspect` (or pass "
                      "--introspect) so there is a live schema to compare")  # fmt: skip
    scopes = {_scope(d) for d in fresh}
    tables = {d: s.table for d, s in live.items() if not fresh or _scope(d) not in scopes}
    tables.update(fresh)
    return _Side("warehouse", [live_schema_of(t) for _, t in sorted(tables.items())],
                 complete=lambda d: _scope(d) in scopes, issues=issues)  # fmt: skip


def _scope(dataset: DatasetId) -> tuple[str, str]:
    """(namespace, schema): an introspection lists every table of the schemas it read."""
    return dataset.namespace, dataset.name.rpartition(".")[0].lower()


def _events(catalog: Catalog) -> _Side:
    found = []
    for dataset in catalog.datasets():
        versions = catalog.schema_history(dataset.id, observed_by=EVENTS_OBSERVER)
        if versions and versions[-1].schema.fields:
            found.append(_from_fields(dataset.id, versions[-1].schema.fields))
    none = "no ingested OpenLineage event carried a schema (lineage ingest, or decorated jobs)"
    issues = [] if found else [none]
    return _Side("events", found, issues=issues)


