"""What each page shows, as plain values for the templates: datasets, columns, jobs.

Kept apart from ``build`` (which writes files) so the logic of a page — which columns,
which inherited descriptions, which hops — reads top to bottom in one place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from docs_site.charts import line_chart
from docs_site.facts import DatasetFacts, SiteFacts, job_key
from docs_site.highlight import highlight_sql
from docs_site.lineage_data import ColumnLineageIndex
from docs_site.pages import anchor
from lineage.model import ColumnId, DatasetId, Job, redact_mapping

__all__ = [
    "LIST_LIMIT",
    "ColumnRow",
    "HopView",
    "column_names",
    "dataset_context",
    "dataset_href",
    "descriptions_of",
    "job_context",
    "lineage_shard",
    "owners_map",
]


#: Datasets an upstream / downstream list shows (page, runbook and dataset JSON): the
#: nearest, with the count of all of them; the whole reachable set of every dataset grows
#: with the square of the project.
LIST_LIMIT = 100


@dataclass(frozen=True)
class HopView:
    """One input or output of a column as a row shows it."""

    label: str  # dataset.column, or dataset (every row)
    href: str | None
    transformation: str
    status: str
    job: str | None


@dataclass
class ColumnRow:
    name: str
    anchor: str
    type: str | None
    description: str | None
    inherited_from: str | None  # the upstream column whose description is shown
    inherited_href: str | None
    constraints: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    status: str = "source"
    inputs: list[HopView] = field(default_factory=list)  # for the dataset's JSON (no href)


def dataset_href(site: SiteFacts, dataset: DatasetId, column: str | None = None) -> str:
    """The page of a dataset (relative to the site root), with a column's anchor."""
    facts = site.datasets.get(dataset)
    if facts is None:
        return ""
    return f"datasets/{facts.slug}.html" + (f"#{anchor(column)}" if column else "")


def owners_map(site: SiteFacts) -> dict[DatasetId, tuple[str, ...]]:
    """Owners of each dataset, then of the jobs that write it."""
    out: dict[DatasetId, tuple[str, ...]] = {}
    for dataset_id, facts in site.datasets.items():
        owners = dict.fromkeys(facts.dataset.owners)
        for key in facts.writers:
            job = site.jobs.get(key)
            owners.update(dict.fromkeys(job.owners if job else ()))
        out[dataset_id] = tuple(owners)
    return out


def descriptions_of(site: SiteFacts) -> dict[ColumnId, str]:
    """Every column's own description: documented, else the live comment."""
    out: dict[ColumnId, str] = {}
    for dataset_id, facts in site.datasets.items():
        if facts.live is not None:
            for live in facts.live.table.columns:
                if live.comment:
                    out[ColumnId(dataset_id, live.name)] = live.comment
        if facts.dataset.schema is not None:
            for column_field in facts.dataset.schema.fields:
                if column_field.description:
                    out[ColumnId(dataset_id, column_field.name)] = column_field.description
    return out


def column_names(facts: DatasetFacts, index: ColumnLineageIndex) -> list[str]:
    """Documented columns in order, then live-only ones, then those only lineage knows."""
    names: dict[str, None] = {}
    if facts.dataset.schema is not None:
        names.update(dict.fromkeys(facts.dataset.schema.names))
    if facts.live is not None:
        names.update(dict.fromkeys(c.name for c in facts.live.table.columns))
    extra = sorted(index.columns.get(facts.id, {}))
    names.update(dict.fromkeys(n for n in extra if n not in names))
    return list(names)


def _hop_view(site: SiteFacts | None, hop: Any) -> HopView:
    """A hop as a row shows it; linked to its page when ``site`` is given."""
    other = hop.other
    if isinstance(other, ColumnId):
        label = f"{other.dataset.name}.{other.name}"
        href = dataset_href(site, other.dataset, other.name) if site else ""
    else:
        label, href = f"{other.name} (every row)", dataset_href(site, other) if site else ""
    return HopView(label, href or None, hop.label, hop.status, hop.job)


def _columns(
    facts: DatasetFacts, site: SiteFacts, index: ColumnLineageIndex,
    descriptions: Mapping[ColumnId, str],
) -> list[ColumnRow]:  # fmt: skip
    fields = {f.name: f for f in facts.dataset.schema.fields} if facts.dataset.schema else {}
    live = {c.name: c for c in facts.live.table.columns} if facts.live else {}
    tests: dict[str, list[str]] = {}
    for test in facts.dataset.tests:
        if test.column:
            args = "" if test.arguments in ("", "{}") else f" {test.arguments}"
            tests.setdefault(test.column, []).append(test.name + args)
    rows = []
    for name in column_names(facts, index):
        column = ColumnId(facts.id, name)
        own = descriptions.get(column)
        inherited = None if own else index.inherited_description(column, descriptions)
        documented, observed = fields.get(name), live.get(name)
        constraints: list[str] = []
        if observed is not None:
            if observed.primary_key:
                constraints.append("primary key")
            if observed.nullable is False:
                constraints.append("not null")
            if observed.default is not None:
                constraints.append(f"default {observed.default}")
            if observed.partition:
                constraints.append("partition")
        for contract in facts.contracts:
            contract_field = contract.field(name)
            if contract_field is None:
                continue
            if contract_field.sensitive:
                constraints.append("sensitive")
            constraints.extend(f"contract: {c.label}" + (
                f" = {', '.join(c.value) if isinstance(c.value, tuple) else c.value}"
                if c.value is not None else "") for c in contract_field.constraints)  # fmt: skip
        rows.append(ColumnRow(
            name=name,
            anchor=anchor(name),
            type=(documented.type if documented and documented.type else
                  observed.type if observed else None),
            description=own or (inherited[0] if inherited else None),
            inherited_from=str(inherited[1]) if inherited else None,
            inherited_href=dataset_href(site, inherited[1].dataset, inherited[1].name)
            if inherited else None,
            constraints=list(dict.fromkeys(constraints)),
            tests=tests.get(name, []),
            status=index.column_status(column),
            # the page draws its hops from the lineage shard (site.js); the JSON lists these
            inputs=[_hop_view(None, h) for h in index.inputs.get(column, [])],
        ))  # fmt: skip
    return rows


def dataset_context(
    facts: DatasetFacts, site: SiteFacts, index: ColumnLineageIndex,
    owners: dict[DatasetId, tuple[str, ...]], descriptions: Mapping[ColumnId, str],
) -> dict[str, Any]:  # fmt: skip
    """The template values of one dataset page."""
    columns = _columns(facts, site, index, descriptions)
    row_counts = [(p.observed_at, p.value) for p in facts.metrics
                  if p.name == "row_count" and p.column is None]  # fmt: skip
    lag = [(p.observed_at, (p.observed_at.timestamp() - p.value) / 3600)
           for p in facts.metrics if p.name == "last_loaded_at"]  # fmt: skip
    writers = [site.jobs[n] for n in facts.writers if n in site.jobs]
    readers = [site.jobs[n] for n in facts.readers if n in site.jobs]
    sql_jobs = [j for j in writers if j.sql]
    downstream = index.nearest([facts.id], owners, upstream=False, limit=LIST_LIMIT)
    profile_rows: list[tuple[str, str, object]] = []
    if facts.profile is not None:
        sensitive = {f.name for c in facts.contracts for f in c.fields if f.sensitive}
        bounds = {col: (lo, hi) for col, lo, hi in facts.profile.bounds}
        for metric in facts.profile.metrics:
            if metric.column is None or metric.column not in sensitive:
                profile_rows.append((metric.column or "(table)", metric.name, metric.value))
        for col, (lo, hi) in sorted(bounds.items()):
            if col not in sensitive:
                profile_rows.append((col, "min / max", f"{lo} / {hi}"))
    return {
        "facts": facts,
        "dataset": facts.dataset,
        "columns": columns,
        "owners": owners.get(facts.id, ()),
        # meta is free-form: secret-keyed values and URL passwords masked before showing
        "meta": json.dumps(redact_mapping(dict(facts.meta)), sort_keys=True, indent=1)
        if facts.meta else "",
        "row_chart": line_chart(row_counts, title="Row count"),
        "fresh_chart": line_chart(lag, title="Hours since last load", unit=" h"),
        "writers": [(j, site.job_slugs[job_key(j)], site.runs.get(job_key(j), [])[:1])
                    for j in writers],
        "readers": [(j, site.job_slugs[job_key(j)], site.runs.get(job_key(j), [])[:1])
                    for j in readers],
        "sql": [(j.name, highlight_sql(j.sql or "")) for j in sql_jobs],
        "definition": highlight_sql(facts.live.table.definition)
        if facts.live is not None and facts.live.table.definition else None,
        "downstream": [(e, dataset_href(site, e.dataset)) for e in downstream.entries],
        "downstream_total": downstream.total,
        "upstream": [(d, dataset_href(site, d)) for d in index.upstream_datasets(facts.id)],
        "row_inputs": [_hop_view(site, h) for h in index.row_inputs.get(facts.id, [])],
        "profile_rows": profile_rows,
        "checks": facts.latest_checks,
        "last_run": site.last_run(facts),
    }


def lineage_shard(facts: DatasetFacts, site: SiteFacts, index: ColumnLineageIndex,
                  names: list[str]) -> dict[str, Any]:  # fmt: skip
    """The one-hop lineage of a dataset's columns: the page draws each column's hops and
    the neighbourhood graph from it, and walks further through the neighbours' shards."""

    def entry(hop: Any) -> list[Any]:
        other = hop.other
        target = other.dataset if isinstance(other, ColumnId) else other
        column = other.name if isinstance(other, ColumnId) else ""
        known = site.datasets.get(target)
        return [known.slug if known else "", column, hop.label, hop.status, hop.job or "",
                target.name]  # fmt: skip

    columns: dict[str, Any] = {}
    for name in names:
        column = ColumnId(facts.id, name)
        ups = [entry(h) for h in index.inputs.get(column, [])]
        downs = [entry(h) for h in index.outputs.get(column, [])]
        if ups or downs:
            columns[name] = {"u": ups, "d": downs}
    return {
        "n": facts.id.name,
        "ns": facts.id.namespace,
        "c": columns,
        "r": [entry(h) for h in index.row_inputs.get(facts.id, [])],
    }


def job_context(job: Job, site: SiteFacts) -> dict[str, Any]:
    """The template values of one job page."""
    runs = site.runs.get(job_key(job), [])
    run_ids = {r.run_id for r in runs}
    checks = [
        c for output in job.outputs if output in site.datasets
        for c in site.datasets[output].checks if c.run_id in run_ids
    ]  # fmt: skip
    facts_rows = []
    for run in runs:
        facts_rows.append((run, _rows_of(run.facets)))
    return {
        "job": job,
        "sql": highlight_sql(job.sql) if job.sql else None,
        "inputs": [(d, dataset_href(site, d)) for d in job.inputs],
        "outputs": [(d, dataset_href(site, d)) for d in job.outputs],
        "runs": facts_rows,
        "checks": checks,
    }


def _rows_of(facets: Mapping[str, Any]) -> str:
    """Rows written, from an ``outputStatistics`` facet where a producer sent one."""
    for key in ("outputStatistics", "rowCount", "rows"):
        value = facets.get(key)
        if isinstance(value, Mapping) and isinstance(value.get("rowCount"), int | float):
            return f"{int(value['rowCount']):,}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{int(value):,}"
    return ""
