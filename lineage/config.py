"""Project configuration: ``lineage.yml`` at the project root, or ``[tool.lineage]``.

::

    namespace: redshift://analytics.example.com:5439
    dialect: redshift
    default_database: dev
    default_schema: public
    sql:
      paths: [sql/]            # files or folders of *.sql
      schema: schema.yml       # known table schemas, JSON or YAML
    dbt:
      project: dbt/            # a dbt project folder
      target: prod
    catalog:
      url: sqlite:///.lineage/catalog.db   # or postgresql+psycopg://...
    openlineage:
      namespace: erp-jobs      # the namespace of jobs
      queue_size: 10000        # events waiting for delivery
      cooldown: 5              # seconds a failed sink is skipped
      flush_timeout: 5         # seconds waited at exit
    datahub:
      server: http://datahub-gms:8080      # or  file: mcps.json  /  lite: .lineage/datahub-lite.db
      token_env: DATAHUB_GMS_TOKEN
      env: PROD
      actor: urn:li:corpuser:etl-bot      # who audit stamps name (default silverline)
    # reserved for the features that read them:
    warehouse: {url: "postgresql+psycopg://reader@dwh/analytics"}
    contracts: {path: contracts/}   # or just  contracts: contracts/
    docs: {output: site/}

Every section is read once, here, into a typed value (``ProjectConfig.openlineage``,
``.datahub``, ...); the connectors receive those values and paths from the composition
roots and never read this file. Paths are relative to the file that names them. Unknown
keys are errors naming the key and the file (a typo must not silently fall back to a
default).

The project's own folder, ``<root>/.lineage/``, is laid out by ``ProjectLayout``, and the
catalog's URL is chosen by ``catalog_url``: ``--catalog``, else ``$LINEAGE_CATALOG_URL``,
else ``catalog.url``, else the SQLite file ``<root>/.lineage/catalog.db``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from lineage.errors import ConfigError
from lineage.model import SqlContext

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "CATALOG_URL_ENV",
    "CONFIG_FILE",
    "DEFAULT_LOADED_AT_COLUMNS",
    "Budgets",
    "ContractsSection",
    "DataHubSection",
    "DocsSection",
    "FileSource",
    "OpenLineageSection",
    "PipelineSection",
    "ProjectConfig",
    "ProjectLayout",
    "WarehouseSection",
    "catalog_url",
    "load_config",
]

CONFIG_FILE = "lineage.yml"
#: The environment variable naming the catalog (``Catalog(None)`` reads it too).
CATALOG_URL_ENV = "LINEAGE_CATALOG_URL"


@dataclass(frozen=True)
class ProjectLayout:
    """Where Silverline keeps a project's own files: everything under ``<root>/.lineage/``."""

    root: Path

    @property
    def folder(self) -> Path:
        return self.root / ".lineage"

    @property
    def catalog_db(self) -> Path:
        """The default catalog, a SQLite file."""
        return self.folder / "catalog.db"

    @property
    def cache(self) -> Path:
        """Parse results kept between scans."""
        return self.folder / "cache"

    @property
    def spool(self) -> Path:
        """OpenLineage events waiting for a sink that failed."""
        return self.folder / "spool"

    @property
    def events(self) -> Path:
        """OpenLineage events of decorated jobs, one JSON-lines file per day."""
        return self.folder / "events"

    @property
    def external_events(self) -> Path:
        """Events of child processes (dbt-ol, scripts) that have no transport of their own."""
        return self.events / "external"

    @property
    def datahub_lite(self) -> Path:
        """The embedded DataHub Lite, the default push target."""
        return self.folder / "datahub-lite.db"

    @property
    def default_catalog_url(self) -> str:
        return f"sqlite:///{self.catalog_db}"


@dataclass(frozen=True)
class OpenLineageSection:
    """``openlineage:``: the namespace of jobs and the emitter's queue and timeouts."""

    namespace: str | None = None
    queue_size: int = 10_000
    cooldown: float = 5.0
    flush_timeout: float = 5.0


@dataclass(frozen=True)
class DataHubSection:
    """``datahub:``: the push target (one of server, file, lite) and the URN settings.

    Values are checked for type here; the DataHub connector checks their meaning (``env``
    a FabricType, ``case`` lower or preserve) when the composition root hands them over.
    """

    server: str | None = None
    token_env: str | None = None
    file: Path | None = None
    lite: Path | None = None
    env: str | None = None
    platform_instance: str | None = None
    case: str | None = None
    platforms: Mapping[str, str] = field(default_factory=dict)
    retries: int | None = None
    timeout: float | None = None
    #: The corpuser URN audit stamps name (a bare user name is made into one).
    actor: str | None = None


#: Columns whose maximum says when a table was last loaded, first present wins.
DEFAULT_LOADED_AT_COLUMNS = ("_airbyte_extracted_at", "dwh_loaded_at", "_loaded_at")


@dataclass(frozen=True)
class WarehouseSection:
    """``warehouse:``: what ``lineage introspect`` and ``lineage profile`` read.

    ``url`` is a SQLAlchemy URL without its password (that comes from
    ``$LINEAGE_WAREHOUSE_PASSWORD``); ``schemas`` limits introspection (empty: all),
    ``include`` / ``exclude`` are patterns over ``schema.table``; ``statement_timeout`` is in
    seconds per query; profiling samples above ``sample_above_rows`` rows and takes
    freshness from ``loaded_at`` (dataset name -> column), else the first column present of
    ``loaded_at_columns``.
    """

    url: str | None = None
    schemas: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    statement_timeout: float | None = None
    sample_above_rows: int | None = None
    loaded_at_columns: tuple[str, ...] = DEFAULT_LOADED_AT_COLUMNS
    loaded_at: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FileSource:
    """One entry of ``files:``: a bronze folder or ``s3://`` prefix holding datasets.

    ``path`` is absolute (relative paths are taken from the project root) or a URI;
    ``options`` are storage options that are not secrets (``endpoint_url``, ``region``):
    credentials come from the environment (``AWS_ACCESS_KEY_ID``, ...).
    """

    path: str
    format: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ContractsSection:
    """``contracts:``: the folder of contract files, ``{path: q/}`` or just ``q/``."""

    path: Path | None = None


@dataclass(frozen=True)
class DocsSection:
    """``docs:`` (reserved for the docs site): the folder the site is built into."""

    output: Path | None = None


@dataclass(frozen=True)
class Budgets:
    """What one input may cost before it is that input's error (None: the default).

    ``sql.max_depth`` / ``sql.max_statement_bytes``: nesting and size of one statement;
    ``dbt.render_timeout`` (seconds), ``dbt.max_loop_items``, ``dbt.max_output_bytes``:
    rendering one model.
    """

    max_depth: int | None = None
    max_statement_bytes: int | None = None
    render_timeout: float | None = None
    max_loop_items: int | None = None
    max_output_bytes: int | None = None


@dataclass(frozen=True)
class PipelineSection:
    """``pipeline:``: the script ``lineage build`` runs first (its decorated jobs emit the
    runs), from the project root with the same Python."""

    script: Path | None = None
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectConfig:
    """Settings of one project; every field has a working default.

    ``extra`` holds the sections of later features as written in the file; code reads
    the typed sections instead.
    """

    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None
    sql_context: SqlContext = field(default_factory=SqlContext)
    sql_paths: tuple[Path, ...] = ()
    schema_file: Path | None = None
    dbt_project: Path | None = None
    dbt_target: str | None = None
    dbt_vars: Mapping[str, Any] = field(default_factory=dict)
    budgets: Budgets = field(default_factory=Budgets)
    catalog_url: str | None = None
    openlineage: OpenLineageSection = field(default_factory=OpenLineageSection)
    datahub: DataHubSection = field(default_factory=DataHubSection)
    warehouse: WarehouseSection = field(default_factory=WarehouseSection)
    files: tuple[FileSource, ...] = ()
    contracts: ContractsSection = field(default_factory=ContractsSection)
    docs: DocsSection = field(default_factory=DocsSection)
    pipeline: PipelineSection = field(default_factory=PipelineSection)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def layout(self) -> ProjectLayout:
        return ProjectLayout(self.root)


_TOP_LEVEL = {"namespace", "dialect", "default_database", "default_schema", "files"}
_FILE_OPTIONS = frozenset({"endpoint_url", "region", "anonymous"})
# A typed section's keys are its fields: one list, the dataclass.
_TYPED: dict[str, type] = {
    "openlineage": OpenLineageSection,
    "datahub": DataHubSection,
    "warehouse": WarehouseSection,
    "contracts": ContractsSection,
    "docs": DocsSection,
    "pipeline": PipelineSection,
}
_SECTIONS: dict[str, frozenset[str]] = {
    "sql": frozenset({"paths", "schema", "max_depth", "max_statement_bytes"}),
    "dbt": frozenset(
        {"project", "target", "vars", "render_timeout", "max_loop_items", "max_output_bytes"}
    ),
    "catalog": frozenset({"url"}),
    **{name: frozenset(f.name for f in fields(kind)) for name, kind in _TYPED.items()},
}


def catalog_url(
    config: ProjectConfig, given: str | None = None, environ: Mapping[str, str] | None = None
) -> str:
    """The catalog's URL: ``given`` (``--catalog``), else ``$LINEAGE_CATALOG_URL``, else
    ``catalog.url`` of lineage.yml, else the SQLite file ``<root>/.lineage/catalog.db``.

    The default lives at the project root, not wherever the command runs. Blank values
    count as unset.
    """
    env = os.environ if environ is None else environ
    for candidate in (given, env.get(CATALOG_URL_ENV), config.catalog_url):
        if candidate and candidate.strip():
            return candidate.strip()
    return config.layout.default_catalog_url


def load_config(start: str | Path | None = None) -> ProjectConfig:
    """Find and read the configuration for the project containing ``start`` (default: cwd).

    Looks for ``lineage.yml`` in ``start`` and its parents, then for ``[tool.lineage]``
    in a ``pyproject.toml`` there; with neither, returns defaults rooted at ``start``.
    The walk up never enters a shared folder: a parent that others may write (``/tmp``)
    or a file there owned by another user ends it, so nobody can plant a configuration
    (and with it a catalog or cache) above someone else's project.

    Raises:
        ConfigError: the file is not valid YAML/TOML or holds unknown or mistyped keys.
    """
    base = Path(start or Path.cwd()).resolve()
    for folder in (base, *base.parents):
        if folder != base and not _trusted_folder(folder):
            break
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return _Reader(candidate).config(_read_yaml(candidate))
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            section = _read_pyproject(pyproject)
            if section is not None:
                return _Reader(pyproject).config(section)
    return ProjectConfig(root=base)


def _trusted_folder(folder: Path) -> bool:
    """Whether a parent folder's configuration may be read: not writable by others
    (a sticky ``/tmp`` is), and its config files owned by us or root."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # no POSIX owners (Windows): nothing to compare
        return True
    try:
        if folder.stat().st_mode & 0o002:
            return False
        for name in (CONFIG_FILE, "pyproject.toml"):
            path = folder / name
            if path.exists():
                info = path.stat()
                if info.st_uid not in (getuid(), 0) or info.st_mode & 0o022:
                    return False
    except OSError:
        return False
    return True


def _read_yaml(path: Path) -> Mapping[str, Any]:
    import yaml  # only a command that finds a lineage.yml pays for the YAML reader

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            file=str(path),
            line=mark.line + 1 if mark is not None else None,
        ) from exc
    if not isinstance(document, Mapping):
        raise ConfigError("must be a mapping of settings", file=str(path))
    return document


def _read_pyproject(path: Path) -> Mapping[str, Any] | None:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read [tool.lineage]: {exc}", file=str(path)) from exc
    section = document.get("tool", {}).get("lineage")
    return section if isinstance(section, Mapping) else None


class _Reader:
    """Reads one configuration mapping; every error names ``source``."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.root = source.parent

    def error(self, message: str) -> ConfigError:
        return ConfigError(message, file=str(self.source))

    def config(self, raw: Mapping[str, Any]) -> ProjectConfig:
        known = _TOP_LEVEL | set(_SECTIONS)
        unknown = set(raw) - known
        if unknown:
            raise self.error(
                f"unknown setting(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(known))}"
            )
        sections = {name: self.section(raw, name) for name in _SECTIONS}
        sql, dbt = sections["sql"], sections["dbt"]
        paths = sql.get("paths") or []
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise self.error("sql.paths must be a list of paths")
        dbt_vars = dbt.get("vars") or {}
        if not isinstance(dbt_vars, Mapping):
            raise self.error("dbt.vars must be a mapping")
        warehouse = self.warehouse(sections["warehouse"])
        return ProjectConfig(
            root=self.root,
            source=self.source,
            sql_context=_project_context(
                SqlContext(
                    dialect=self.text(raw, "dialect"),
                    namespace=self.text(raw, "namespace"),
                    default_database=self.text(raw, "default_database"),
                    default_schema=self.text(raw, "default_schema"),
                ),
                warehouse.url,
            ),
            sql_paths=tuple(self.root / p for p in paths),
            schema_file=self.path(sql, "schema", "sql"),
            dbt_project=self.path(dbt, "project", "dbt"),
            dbt_target=self.text(dbt, "target", "dbt"),
            dbt_vars=dict(dbt_vars),
            budgets=self.budgets(sql, dbt),
            catalog_url=self.text(sections["catalog"], "url", "catalog"),
            openlineage=self.openlineage(sections["openlineage"]),
            datahub=self.datahub(sections["datahub"]),
            warehouse=warehouse,
            files=self.files(raw.get("files")),
            contracts=ContractsSection(path=self.path(sections["contracts"], "path", "contracts")),
            docs=DocsSection(output=self.path(sections["docs"], "output", "docs")),
            pipeline=PipelineSection(
                script=self.path(sections["pipeline"], "script", "pipeline"),
                args=self.names(sections["pipeline"], "args", "pipeline"),
            ),
            extra={k: raw[k] for k in _TYPED if k in raw},
        )

    def section(self, raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        value = raw.get(name)
        if value is None:
            return {}
        if name == "contracts" and isinstance(value, str):
            return {"path": value}  # ``contracts: q/``: the folder, as the issue writes it
        if not isinstance(value, Mapping):
            raise self.error(f"{name!r} must be a mapping")
        keys: Collection[str] = _SECTIONS[name]
        unknown = set(value) - set(keys)
        if unknown:
            raise self.error(
                f"unknown setting(s) {', '.join(f'{name}.{k}' for k in sorted(unknown))}; "
                f"known: {', '.join(sorted(keys))}"
            )
        return value

    def text(self, section: Mapping[str, Any], key: str, prefix: str | None = None) -> str | None:
        value = section.get(key)
        if value is None:
            return None
        # A YAML ``yes`` is a bool: taken as the text "True" it would hide the typo.
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            label = f"{prefix}.{key}" if prefix else repr(key)
            raise self.error(f"{label} must be text, got {type(value).__name__}")
        return str(value)

    def path(self, section: Mapping[str, Any], key: str, prefix: str) -> Path | None:
        value = self.text(section, key, prefix)
        return self.root / value if value else None

    def openlineage(self, section: Mapping[str, Any]) -> OpenLineageSection:
        values: dict[str, Any] = {}
        for key, value in section.items():
            if key == "namespace":
                values[key] = self.text(section, key, "openlineage")
            elif key == "queue_size" and _is_number(value, int) and value > 0:
                values[key] = value
            elif key in ("cooldown", "flush_timeout") and _is_number(value) and value >= 0:
                values[key] = float(value)
            elif value is not None:
                raise self.error(f"openlineage.{key} has an invalid value {value!r}")
        return OpenLineageSection(**values)

    def budgets(self, sql: Mapping[str, Any], dbt: Mapping[str, Any]) -> Budgets:
        values: dict[str, Any] = {}
        for section, prefix, key in (
            (sql, "sql", "max_depth"), (sql, "sql", "max_statement_bytes"),
            (dbt, "dbt", "max_loop_items"), (dbt, "dbt", "max_output_bytes"),
            (dbt, "dbt", "render_timeout"),
        ):  # fmt: skip
            value = section.get(key)
            if value is None:
                continue
            kind = (int, float) if key == "render_timeout" else int
            if not (_is_number(value, kind) and value > 0):
                raise self.error(f"{prefix}.{key} must be a number > 0, got {value!r}")
            values[key] = value
        return Budgets(**values)

    def names(self, section: Mapping[str, Any], key: str, prefix: str) -> tuple[str, ...]:
        value = section.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(f"{prefix}.{key} must be a list of names")
        return tuple(value)

    def warehouse(self, section: Mapping[str, Any]) -> WarehouseSection:
        timeout, rows = section.get("statement_timeout"), section.get("sample_above_rows")
        if timeout is not None and not (_is_number(timeout) and timeout > 0):
            raise self.error(f"warehouse.statement_timeout must be seconds > 0, got {timeout!r}")
        if rows is not None and not (_is_number(rows, int) and rows > 0):
            raise self.error(f"warehouse.sample_above_rows must be a count > 0, got {rows!r}")
        loaded_at = section.get("loaded_at") or {}
        if not isinstance(loaded_at, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in loaded_at.items()
        ):
            raise self.error("warehouse.loaded_at must map dataset names to column names")
        url = self._embedded(self.text(section, "url", "warehouse"))
        authority = url.partition("://")[2].split("/", 1)[0] if url else ""
        if "@" in authority and ":" in authority.rsplit("@", 1)[0]:
            raise self.error(
                "warehouse.url holds a password: leave it out and set "
                "$LINEAGE_WAREHOUSE_PASSWORD instead (lineage.yml is often committed)"
            )
        return WarehouseSection(
            url=url,
            schemas=self.names(section, "schemas", "warehouse"),
            include=self.names(section, "include", "warehouse"),
            exclude=self.names(section, "exclude", "warehouse"),
            statement_timeout=None if timeout is None else float(timeout),
            sample_above_rows=rows,
            loaded_at_columns=self.names(section, "loaded_at_columns", "warehouse")
            or DEFAULT_LOADED_AT_COLUMNS,
            loaded_at=dict(loaded_at),
        )

    def _embedded(self, url: str | None) -> str | None:
        """A DuckDB or SQLite file named relative to lineage.yml (``duckdb:///erp.duckdb``)
        taken from the project root, not from wherever the command runs."""
        if url is None:
            return None
        scheme, sep, rest = url.partition(":///")
        if sep and scheme.split("+")[0] in ("duckdb", "sqlite") and rest and not (
            rest.startswith("/") or rest.startswith(":memory:")
        ):
            return f"{scheme}:///{(self.root / rest).resolve()}"
        return url

    def files(self, value: Any) -> tuple[FileSource, ...]:
        if value is None:
            return ()
        entries = value if isinstance(value, list) else [value]
        found: list[FileSource] = []
        for i, entry in enumerate(entries):
            if isinstance(entry, str):
                entry = {"path": entry}
            if not isinstance(entry, Mapping) or not isinstance(entry.get("path"), str):
                raise self.error(f"files[{i}] must be a path or a mapping with a 'path'")
            unknown = set(entry) - {"path", "format"} - _FILE_OPTIONS
            if unknown:
                raise self.error(
                    f"unknown setting(s) {', '.join(f'files[{i}].{k}' for k in sorted(unknown))}"
                    f"; known: path, format, {', '.join(sorted(_FILE_OPTIONS))}"
                )
            path = entry["path"]
            if "://" not in path:
                path = str((self.root / path).resolve())
            options = {k: str(entry[k]) for k in sorted(_FILE_OPTIONS) if entry.get(k) is not None}
            found.append(FileSource(path, self.text(entry, "format", f"files[{i}]"), options))
        return tuple(found)

    def datahub(self, section: Mapping[str, Any]) -> DataHubSection:
        targets = [k for k in ("server", "file", "lite") if section.get(k)]
        if len(targets) > 1:
            raise self.error(
                f"set only one of datahub.server, datahub.file, datahub.lite (got {targets})"
            )
        platforms = section.get("platforms") or {}
        if not isinstance(platforms, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in platforms.items()
        ):
            raise self.error("datahub.platforms must map namespaces to platform ids")
        try:
            retries = None if section.get("retries") is None else int(section["retries"])
            timeout = None if section.get("timeout") is None else float(section["timeout"])
        except (TypeError, ValueError) as exc:
            raise self.error(f"datahub.retries/timeout must be numbers: {exc}") from exc
        return DataHubSection(
            server=self.text(section, "server", "datahub"),
            token_env=self.text(section, "token_env", "datahub"),
            file=self.path(section, "file", "datahub"),
            lite=self.path(section, "lite", "datahub"),
            env=self.text(section, "env", "datahub"),
            platform_instance=self.text(section, "platform_instance", "datahub"),
            case=self.text(section, "case", "datahub"),
            platforms=dict(platforms),
            retries=retries,
            timeout=timeout,
            actor=self.actor(section),
        )

    def actor(self, section: Mapping[str, Any]) -> str | None:
        """``datahub.actor`` as a corpuser URN: as given, or a bare user name made into one.
        The DataHub connector checks it again; this check names the file."""
        value = self.text(section, "actor", "datahub")
        if value is None:
            return None
        text = value.strip()
        ident = text[len(_CORPUSER) :] if text.startswith(_CORPUSER) else text
        if not _USER_ID.fullmatch(ident) or ident.startswith("urn:"):
            raise self.error(
                "datahub.actor must be a DataHub user: urn:li:corpuser:NAME or a bare user "
                f"name without spaces or any of , ( ), got {value!r}"
            )
        return _CORPUSER + ident


_CORPUSER = "urn:li:corpuser:"
# A DataHub user id: no whitespace, none of the characters DataHub reserves (``,()␟``).
_USER_ID = re.compile(r"[^\s,()\u241f]+")


def _project_context(context: SqlContext, warehouse_url: str | None) -> SqlContext:
    """One namespace for every producer: without ``namespace:`` the warehouse's URL gives
    it (and the default database), so a scanned model, an introspected table and a job's
    output are one dataset by default (OpenLineage naming, as ``namespace_of`` spells it)."""
    if warehouse_url is None or context.namespace is not None:
        return context
    from lineage.model import namespace_of

    try:
        namespace, database = namespace_of(warehouse_url)
    except Exception:  # an unparsable URL is reported when it is used, not here
        return context
    return context.updated(namespace=namespace, default_database=context.default_database
                           or database)  # fmt: skip


def _is_number(value: Any, kind: type | tuple[type, ...] = (int, float)) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)
