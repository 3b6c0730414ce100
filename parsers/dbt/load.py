"""dbt projects -> column-level lineage and catalog metadata, without dbt installed.

>>> batch = load_dbt_project("tests/parsers/dbt/dbt_projects/erp")       # doctest: +SKIP
>>> sorted(d.id.name for d in batch.datasets)[:2]                     # doctest: +SKIP
['dev.gold.customer_age_groups', 'dev.silver.erp_customers']

One ``Dataset`` per model (kind from its materialization; ephemeral models are inlined
as CTEs, not datasets), per source table (kind SOURCE, with freshness) and per seed and
snapshot, with descriptions, owners (``meta.owner``/``meta.owners``), tags, meta, tests
and contracts; one ``Job`` per model (``<project>.<model>``, the compiled SQL); and the
column edges the SQL parser finds in each model, re-targeted to the model's relation.

With ``target/manifest.json`` present (``dbt compile``/``dbt docs generate`` output) the
compiled SQL, relations and tests come from there, and ``target/catalog.json`` adds the
warehouse's column types; otherwise the project's Jinja is rendered here (see
``parsers.dbt.jinja``). Problems with one model, file or test never stop the others: they
are ``batch.issues`` with the file (relative to the project) and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lineage.model import LineageBatch, ParseIssue, SqlContext
from parsers.dbt.batch import NodeSpec, build_batch
from parsers.dbt.manifest import read_manifest
from parsers.dbt.memo import RenderMemo
from parsers.dbt.project import read_project
from parsers.dbt.render import render_project
from parsers.dbt.sandbox import RenderBudget

__all__ = ["load_dbt_project"]


def load_dbt_project(
    path: str | Path,
    *,
    dialect: str | None = None,
    namespace: str | None = None,
    target: str | None = None,
    vars: Mapping[str, Any] | None = None,
    database: str | None = None,
    schema: str | None = None,
    jobs: int = 1,
    incremental: bool = False,
    use_manifest: bool = True,
    context: SqlContext | None = None,
    budget: RenderBudget | None = None,
    memo: RenderMemo | None = None,
) -> LineageBatch:
    """Read a dbt project into a ``LineageBatch`` (``observed_by="parser"``).

    Args:
        path: the project folder (holding ``dbt_project.yml``).
        dialect: SQL dialect; default: the adapter ``type`` of the project's own
            ``profiles.yml`` target, else the manifest's adapter, else generic SQL.
        namespace: OpenLineage namespace of every dataset (default: the dialect name,
            as ``parse_sql`` names tables, so SQL scans and dbt lineage join up).
        target: the profiles.yml target (default: its ``target:`` key, else ``dev``).
        vars: dbt vars, overriding ``dbt_project.yml`` (``--vars``).
        database: the target database (default: profiles.yml, else ``dev``).
        schema: the target schema (default: profiles.yml, else ``public``).
        jobs: processes parsing SQL in parallel (models of one dependency level at once).
        incremental: render ``is_incremental()`` as True for incremental models.
        use_manifest: read ``target/manifest.json`` when present (else always render).
        context: dialect, namespace, database and schema as one value (its defaults are
            the target's database and schema); the loose arguments, when given, win.
        budget: what rendering one model may cost (time, loop items, output size);
            default: ``RenderBudget()``. A model past it is that model's issue.
        memo: the last scan's renders (``parsers.dbt.memo``): only models whose inputs
            changed are rendered again; the caller saves it (``memo.save()``).

    Returns:
        The datasets, jobs, column edges and issues of the project.

    Raises:
        ConfigError: ``path`` is not a dbt project, or its dbt_project.yml is unreadable.
    """
    root = Path(path)
    asked = (context or SqlContext()).updated(
        dialect=dialect, namespace=namespace, default_database=database, default_schema=schema)
    project, issues = read_project(root, target=target, database=asked.default_database,
                                   schema=asked.default_schema, dialect=asked.dialect)
    nodes: list[NodeSpec] | None = None
    used_dialect = project.dialect
    if use_manifest and (root / "target" / "manifest.json").is_file():
        found = read_manifest(project, cli_vars=vars, incremental=incremental, issues=issues)
        if found is not None:
            nodes, used_dialect = found
    if nodes is None:
        nodes = render_project(project, cli_vars=vars, incremental=incremental, issues=issues,
                               budget=budget, memo=memo)
    # Read as dbt builds it: the dialect of the profile or manifest, the target's names.
    built = SqlContext(used_dialect, asked.namespace, project.target.database,
                       project.target.schema)
    return build_batch(nodes, project_name=project.name, context=built, jobs=max(1, jobs),
                       issues=_dedupe(issues))


def _dedupe(issues: list[ParseIssue]) -> list[ParseIssue]:
    return list(dict.fromkeys(issues))
