"""The facade the CLI calls: a project's configuration, its catalog, scans and queries.

It wires the spokes together (the SQL parser, the dbt loader, the catalog, the graph) so
each CLI command stays a few lines, and a Python user can do the same in three::

    workspace = Workspace.open()            # lineage.yml, catalog URL, defaults
    report = workspace.scan(["models/"])    # SQL files and dbt projects -> catalog
    impact = workspace.graph().impact(workspace.resolve("silver.erp_customers.customer_id"))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.catalog.store import PROJECT_SCAN, Catalog, WriteSummary, mask_url
from lineage.config import ProjectConfig, load_config
from lineage.config import catalog_url as choose_catalog_url
from lineage.errors import ConfigError, InputError
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    Job,
    LineageBatch,
    ParseIssue,
    ScriptLineage,
    StatementKind,
    statement_edges,
)
from lineage.workspace.aside import saved_aside

if TYPE_CHECKING:
    from connectors.datahub import DataHubConfig
    from lineage.graph import LineageGraph, Node
    from lineage.workspace.checks import CheckReport
    from lineage.workspace.live import IntrospectReport, ProfileReport
    from parsers.sql.cache import ParseCache
    from parsers.sql.options import ScanOptions

__all__ = ["ScanReport", "Workspace", "sql_batch"]

_KIND_OF_STATEMENT = {
    StatementKind.CREATE_VIEW: DatasetKind.VIEW,
    StatementKind.CREATE_MATERIALIZED_VIEW: DatasetKind.MATERIALIZED_VIEW,
}


@dataclass
class ScanReport:
    """What a scan read and what it changed in the catalog."""

    scripts: ScriptLineage = field(default_factory=ScriptLineage)
    batches: list[LineageBatch] = field(default_factory=list)
    summaries: list[WriteSummary] = field(default_factory=list)
    # Sizes of batches reported without being loaded (the catalog already held them).
    counts: dict[int, tuple[int, int, int]] = field(default_factory=dict)

    def size(self, batch: LineageBatch) -> tuple[int, int, int]:
        """(datasets, jobs, column edges) of a batch of this report."""
        return self.counts.get(id(batch)) or (
            len(batch.datasets),
            len(batch.jobs),
            len(batch.edges),
        )

    @property
    def issues(self) -> list[ParseIssue]:
        found = [issue for batch in self.batches for issue in batch.issues]
        for statement in self.scripts.statements:
            found.extend(replace(e, file=e.file or statement.file) for e in statement.errors)
        # The SQL batch repeats its statements' errors: each problem is reported once.
        return list(dict.fromkeys(found))


class Workspace:
    """One project: its configuration and its catalog."""

    def __init__(self, config: ProjectConfig, catalog_url: str | None = None) -> None:
        self.config = config
        self.layout = config.layout
        self.catalog_url = choose_catalog_url(config, catalog_url)
        self._catalog: Catalog | None = None
        # Created by the first scan: the parsers (and sqlglot) load only for commands
        # that parse; a query like ``lineage impact`` never needs them.
        self._parse_cache: ParseCache | None = None

    @classmethod
    def open(cls, start: str | Path | None = None, catalog_url: str | None = None) -> Workspace:
        return cls(load_config(start), catalog_url)

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog(self.catalog_url)
        return self._catalog

    @property
    def catalog_url_display(self) -> str:
        """The catalog URL with any password masked, for messages and reports."""
        return mask_url(self.catalog_url)

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None

    def scan_options(self, **overrides: str | None) -> ScanOptions:
        """Scan options from the configuration, with command-line values winning.

        ``overrides``: ``dialect``, ``namespace``, ``default_database``,
        ``default_schema`` (the SQL context) and ``schema_file``; None keeps lineage.yml's.
        """
        from parsers.sql.options import ScanOptions, load_schema_file

        schema_file = overrides.pop("schema_file", None) or self.config.schema_file
        context = self.config.sql_context.updated(**overrides)
        budgets = self.config.budgets
        limits = {
            key: getattr(budgets, key) for key in ("max_depth", "max_statement_bytes")
            if getattr(budgets, key) is not None
        }  # fmt: skip
        return ScanOptions(
            context, load_schema_file(schema_file) if schema_file else None, **limits
        )

    def datahub_config(self) -> DataHubConfig:
        """lineage.yml's ``datahub:`` section as the DataHub connector takes it, the push
        target defaulting to DataHub Lite in ``.lineage/``.

        Raises:
            ConfigError: a value the connector refuses (``env``, ``case``), naming the file.
        """
        from connectors.datahub import DataHubConfig, DataHubSettings

        section = self.config.datahub
        options: dict[str, Any] = {"platforms": dict(section.platforms)}
        for key in ("env", "platform_instance", "case", "retries", "timeout", "actor"):
            if getattr(section, key) is not None:  # unset: the connector's default
                options[key] = getattr(section, key)
        try:
            settings = DataHubSettings(**options)
        except ConfigError as exc:
            source = self.config.source
            raise ConfigError(exc.message, file=str(source) if source else None) from exc
        return DataHubConfig(
            settings=settings,
            server=section.server,
            token_env=section.token_env,
            file=section.file,
            # Used only without a server or file (resolve_target checks those first).
            lite=section.lite or self.layout.datahub_lite,
        )

    def scan(
        self,
        paths: Sequence[str] = (),
        options: ScanOptions | None = None,
        *,
        jobs: int = 1,
        write: bool = True,
        on_file_done: Callable[[str], None] | None = None,
        stdin_text: str | None = None,
        lineage: bool = False,
    ) -> ScanReport:
        """Scan SQL files and dbt projects and (unless ``write`` is False) record them.

        With no ``paths``, scans the SQL paths and dbt project named in ``lineage.yml``.
        ``lineage``: the report holds each dbt project's jobs and edges even when the
        catalog already holds that exact scan (to print them).
        """
        from parsers.dbt import is_dbt_project
        from parsers.sql.cache import BatchCache, ParseCache
        from parsers.sql.options import STDIN

        options = options or self.scan_options()
        targets = list(paths) or [str(p) for p in self.config.sql_paths]
        dbt_projects = [Path(t) for t in targets if t != STDIN and is_dbt_project(t)]
        if not paths and self.config.dbt_project is not None:
            dbt_projects.append(self.config.dbt_project)
        sql_targets = [t for t in targets if t == STDIN or Path(t) not in dbt_projects]
        if not sql_targets and not dbt_projects:
            raise InputError(
                "nothing to scan: give SQL files, folders or a dbt project, "
                "or set sql.paths / dbt.project in lineage.yml"
            )
        parse_cache = self._parse_cache = ParseCache(self.layout.cache)
        report = ScanReport()
        if sql_targets:
            from parsers.sql.files import scan_sql  # the parser: only with SQL to parse
            from parsers.sql.schema import schema_datasets

            parse_cache.load()
            # dbt projects know their own upstream schemas; plain SQL borrows the catalog's.
            sql_options = self._with_catalog_schemas(options) if write else options
            report.scripts = scan_sql(
                sql_targets,
                sql_options,
                jobs=jobs,
                on_file_done=on_file_done,
                stdin_text=stdin_text,
            )
            batch = sql_batch(report.scripts, self.config.root)
            if options.schema:
                # Every table of --schema with all its columns and types, not only the
                # columns the SQL happens to reference (what the SQL creates wins).
                created = {d.id for d in batch.datasets}
                described = schema_datasets(options.schema, options.context)
                extra = tuple(d for d in described if d.id not in created)
                batch = replace(batch, datasets=(*batch.datasets, *extra))
            report.batches.append(batch)
        scanned: dict[int, tuple[str, str]] = {}  # batch -> (scan state key, fingerprint)
        saves: list[Callable[[], None]] = []  # cache files to write
        held: set[int] = set()  # batches the catalog already holds exactly
        for project in dbt_projects:
            fingerprint = self._dbt_fingerprint(project, options)
            key = f"dbt:{project.resolve()}"  # the project's PROJECT_SCAN sync-state target
            summary = BatchCache(self.layout.cache, project).summary(fingerprint)
            if write and not lineage and summary is not None and self._holds(key, fingerprint):
                # The catalog has exactly this scan: report it without loading it again.
                counts, issues = summary
                batch = LineageBatch(issues=issues)
                report.counts[id(batch)] = counts
                held.add(id(batch))
            else:
                try:
                    batch = self._load_dbt(project, options, jobs, fingerprint, saves)
                except (ConfigError, InputError) as exc:
                    # A broken project is one issue: the SQL files and other projects go on
                    # (and, not recorded as scanned, it is read again by the next scan).
                    batch = _broken_project(project, exc)
                else:
                    scanned[id(batch)] = (key, fingerprint)
            report.batches.append(batch)
            if on_file_done:
                on_file_done(str(project))
        # A child is worth its fork only for a project batch to save; the parse cache alone
        # (an unchanged rescan: nothing new) is written, or left, here.
        fork = write and bool(saves)
        saves.append(parse_cache.save)
        with saved_aside(saves, fork=fork):
            if write:
                for batch in report.batches:
                    if id(batch) in held:
                        report.summaries.append(
                            WriteSummary(jobs_unchanged=report.size(batch)[1]))
                    else:
                        report.summaries.append(self._write(batch, scanned.get(id(batch))))
        return report

    def _holds(self, key: str, fingerprint: str) -> bool:
        return self.catalog.sync_state(PROJECT_SCAN, key) == fingerprint

    def _write(self, batch: LineageBatch, scan: tuple[str, str] | None) -> WriteSummary:
        """Write a batch, and remember which project scan the catalog now holds.

        The catalog keeps the fingerprint of the last scan of each project it was given;
        an unchanged project then costs one lookup instead of comparing every job.
        """
        if scan is None:
            return self.catalog.write(batch)
        key, fingerprint = scan
        if self._holds(key, fingerprint):
            return WriteSummary(jobs_unchanged=len(batch.jobs))
        summary = self.catalog.write(batch)
        self.catalog.record_sync_state(PROJECT_SCAN, key, fingerprint)
        return summary

    def _with_catalog_schemas(self, options: ScanOptions) -> ScanOptions:
        """Schemas the catalog already knows fill in what ``--schema`` does not give.

        So ``SELECT *`` over a table another file (or a warehouse scan) described expands,
        and unqualified columns over it resolve, without repeating its schema by hand.
        """
        known: dict[str, dict[str, str | None]] = {}
        for dataset in self.catalog.datasets():
            if dataset.schema is not None and dataset.schema.fields:
                known[dataset.id.name] = {f.name: f.type for f in dataset.schema.fields}
        return replace(options, known_schema=known) if known else options

    def _dbt_fingerprint(self, project: Path, options: ScanOptions) -> str:
        from parsers.sql.cache import CODE_VERSION, project_fingerprint

        # Our own code is part of it: an upgraded or edited parser re-derives the lineage.
        settings = repr(
            (
                CODE_VERSION,
                version("sqlglot"),
                options.dialect,
                options.namespace,
                self.config.dbt_target,
                sorted(self.config.dbt_vars.items()),
                self.config.budgets,
            )
        )
        return project_fingerprint(project, settings)

    def _load_dbt(
        self, project: Path, options: ScanOptions, jobs: int, fingerprint: str,
        saves: list[Callable[[], None]],
    ) -> LineageBatch:
        """The project's batch, from the batch cache when ``fingerprint`` matches; a batch
        built anew adds its cache write to ``saves``."""
        from parsers.dbt.load import load_dbt_project
        from parsers.dbt.memo import RenderMemo
        from parsers.dbt.sandbox import RenderBudget
        from parsers.sql.cache import BatchCache, CacheFile

        budgets = self.config.budgets
        default = RenderBudget()
        budget = RenderBudget(
            seconds=budgets.render_timeout or default.seconds,
            max_items=budgets.max_loop_items or default.max_items,
            max_output_bytes=budgets.max_output_bytes or default.max_output_bytes,
        )
        cache = BatchCache(self.layout.cache, project)
        cached = cache.load(fingerprint)
        if cached is not None:
            return cached
        if self._parse_cache is not None:
            self._parse_cache.load()  # only parsing needs the saved parse results
        memo = RenderMemo(CacheFile(self.layout.cache, "render", project))
        batch = load_dbt_project(
            project,
            dialect=options.dialect,
            namespace=options.namespace,
            target=self.config.dbt_target,
            vars=self.config.dbt_vars,
            jobs=jobs,
            budget=budget,
            memo=memo,
        )
        saves.append(partial(cache.save, fingerprint, batch))
        saves.append(memo.save)
        return batch

    def graph(self) -> LineageGraph:
        from lineage.graph import LineageGraph  # networkx: only for commands that walk

        return LineageGraph.from_catalog(self.catalog)

    def graph_around(
        self, node: Node, *, upstream: bool, downstream: bool, depth: int | None = None
    ) -> LineageGraph:
        """The graph of what walks from ``node`` can reach (``Catalog.lineage_slice``):
        the same answers as ``graph()`` for those walks, read from the catalog's indexes
        instead of loading everything."""
        from lineage.graph import LineageGraph

        root = node.dataset if isinstance(node, ColumnId) else node
        found = self.catalog.lineage_slice(
            [root], upstream=upstream, downstream=downstream, depth=depth
        )
        return LineageGraph.build(found.datasets, found.jobs, found.edges)

    # -- live schemas, checks, the whole loop ---------------------------------------------

    def check(self, names: Sequence[str] = (), *, run_id: str | None = None,
              sample_limit: int = 5) -> CheckReport:
        """Check the contracts (of ``names`` when given) and record the results; see
        ``lineage.workspace.checks.run_checks``."""
        from lineage.workspace.checks import run_checks

        datasets = [n.dataset if isinstance(n, ColumnId) else n
                    for n in (self.resolve(name) for name in names)]  # fmt: skip
        return run_checks(self.catalog, self.config, datasets, run_id=run_id,
                          sample_limit=sample_limit)  # fmt: skip

    def introspect(
        self,
        sources: Sequence[str] = (),
        *,
        schemas: Sequence[str] = (),
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        statement_timeout: float | None = None,
    ) -> IntrospectReport:
        """Observe warehouses and bronze folders (default: those of lineage.yml) into the
        catalog's schema history; see ``lineage.workspace.live.introspect``."""
        from lineage.workspace import live

        return live.introspect(
            self.catalog, self.config, sources, schemas=schemas, include=include,
            exclude=exclude, statement_timeout=statement_timeout,
        )  # fmt: skip

    def profile(
        self,
        names: Sequence[str] = (),
        *,
        sample_above_rows: int | None = None,
        statement_timeout: float | None = None,
    ) -> ProfileReport:
        """Profile introspected datasets (names may be suffixes; default: every one) into
        the catalog's metric history; see ``lineage.workspace.live.profile``."""
        from lineage.workspace import live

        datasets: list[DatasetId] = []
        for name in names:
            node = self.resolve(name)
            datasets.append(node.dataset if isinstance(node, ColumnId) else node)
        return live.profile(
            self.catalog, self.config, datasets, sample_above_rows=sample_above_rows,
            statement_timeout=statement_timeout,
        )  # fmt: skip

    def resolve(self, text: str, namespace: str | None = None) -> Node:
        """``DATASET`` or ``DATASET.COLUMN`` (names may be suffixes: ``erp_customers.cid``),
        ``NAMESPACE/DATASET[.COLUMN]`` as ambiguity errors offer them, or a bare column
        name that only one dataset has; ``namespace`` narrows every match.

        Raises:
            InputError: nothing matches, or several datasets (columns) do.
        """
        text = text.strip()
        qualified = self._qualified(text)
        if qualified is not None:
            return qualified
        datasets = _within(namespace, self.catalog.find_datasets(text))
        if len(datasets) == 1:
            return datasets[0].id
        if len(datasets) > 1:
            raise InputError(_ambiguous(text, datasets))
        if "." in text:
            # The longest dataset name first: ``t.widget.asset.id`` is the nested field
            # ``widget.asset.id`` of ``t`` when no dataset ``t.widget.asset`` exists.
            dots = [i for i, char in enumerate(text) if char == "."]
            for at in reversed(dots):
                dataset_name, column = text[:at], text[at + 1 :]
                candidates = _within(namespace, self.catalog.find_datasets(dataset_name))
                if len(candidates) > 1:
                    raise InputError(_ambiguous(dataset_name, candidates))
                if candidates:
                    return ColumnId(candidates[0].id, column)
        else:
            columns = [
                c for c in self.catalog.find_columns(text)
                if namespace is None or c.dataset.namespace == namespace
            ]  # fmt: skip
            if len(columns) == 1:
                return columns[0]
            if len(columns) > 1:
                shown = ", ".join(self._offered(c) for c in columns[:10])
                more = f" (and {len(columns) - 10} more)" if len(columns) > 10 else ""
                raise InputError(
                    f"{text!r} is a column of several datasets: {shown}{more}; "
                    "give DATASET.COLUMN"
                )
        where = f" in namespace {namespace}" if namespace else ""
        raise InputError(
            f"no dataset or column {text!r}{where} in the catalog {self.catalog.masked_url}"
        )

    def _offered(self, column: ColumnId) -> str:
        """A candidate column as ``resolve`` takes it back: ``dataset.column`` when that
        names one dataset, else with its namespace (the same name in two namespaces, or a
        name that is a suffix of another)."""
        short = f"{column.dataset.name}.{column.name}"
        found = self.catalog.find_datasets(column.dataset.name)
        if [d.id for d in found] == [column.dataset]:
            return short
        return f"{column.dataset.namespace}/{short}"

    def _qualified(self, text: str) -> Node | None:
        """``namespace/name[.column]``: tried at every '/' (namespaces and file dataset
        names both hold slashes), exact names only."""
        for at in (i for i, char in enumerate(text) if char == "/"):
            namespace, name = text[:at], text[at + 1 :]
            if not namespace or not name:
                continue
            if self.catalog.dataset(DatasetId(namespace, name)) is not None:
                return DatasetId(namespace, name)
            for dot in reversed([i for i, char in enumerate(name) if char == "."]):
                dataset = DatasetId(namespace, name[:dot])
                if self.catalog.dataset(dataset) is not None:
                    return ColumnId(dataset, name[dot + 1 :])
        return None


def _within(namespace: str | None, datasets: list[Dataset]) -> list[Dataset]:
    return datasets if namespace is None else [d for d in datasets if d.id.namespace == namespace]


def sql_batch(scripts: ScriptLineage, root: Path | None = None) -> LineageBatch:
    """A catalog batch from scanned SQL: one job per file, its statements' column edges;
    the statements of a stored procedure's body are the procedure's own job (named as
    its CREATE PROCEDURE names it, kind ``sql_procedure``).

    Temporary tables are left out (their lineage is already resolved into the statements
    that read them); output schemas declared or created by the script are recorded.
    """
    by_job: dict[tuple[str, str | None], list[int]] = {}
    for position, statement in enumerate(scripts.statements):
        if statement.file and statement.file != "<stdin>":
            by_job.setdefault((statement.file, statement.procedure), []).append(position)
    datasets: dict[DatasetId, Dataset] = {}
    jobs: list[Job] = []
    edges: list[ColumnEdge] = []
    for (file, procedure), positions in by_job.items():
        name = procedure or _job_name(file, root)
        statements = [scripts.statements[i] for i in positions if scripts.statements[i].ok]
        inputs: dict[DatasetId, None] = {}
        outputs: dict[DatasetId, None] = {}
        for statement in statements:
            if statement.temporary:
                continue
            inputs.update(dict.fromkeys(statement.inputs))
            outputs.update(dict.fromkeys(statement.outputs))
            edges.extend(statement_edges(statement, name))
            for dataset, schema in statement.output_schemas:
                datasets[dataset] = Dataset(
                    dataset,
                    kind=_KIND_OF_STATEMENT.get(statement.kind, DatasetKind.TABLE),
                    schema=schema,
                    source_file=file,
                )
        jobs.append(
            Job(
                namespace=next(iter(outputs), next(iter(inputs), DatasetId("sql", ""))).namespace,
                name=name,
                kind="sql_procedure" if procedure else "sql",
                sql=";\n".join(s.sql for s in statements),
                source_file=file,
                inputs=tuple(inputs),
                outputs=tuple(outputs),
            )
        )
    issues = tuple(replace(e, file=e.file or s.file) for s in scripts.statements for e in s.errors)
    return LineageBatch(tuple(datasets.values()), tuple(jobs), tuple(edges), issues)


def _broken_project(project: Path, error: ConfigError | InputError) -> LineageBatch:
    """A dbt project that cannot be read, as one issue naming its file (and line)."""
    file = error.file or str(project / "dbt_project.yml")
    return LineageBatch(issues=(ParseIssue(error.message, line=error.line, file=file),))


def _job_name(file: str, root: Path | None) -> str:
    path = Path(file).resolve()
    if root is not None:
        try:
            return path.relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return Path(file).as_posix()


def _ambiguous(text: str, datasets: Sequence[Dataset]) -> str:
    names = ", ".join(f"{d.id.namespace}/{d.id.name}" for d in datasets[:10])
    return f"{text!r} matches several datasets: {names}; give more of the name"
