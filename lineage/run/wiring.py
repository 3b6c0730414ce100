"""The process-wide set-up behind ``@job`` and ``run()``: names, sinks, queue, spool.

Built on first use (so importing a module of decorated jobs costs nothing) from
``lineage.yml`` and the environment, or explicitly with ``lineage.run.configure``:

- dataset names: ``namespace``, ``dialect``, ``default_database``, ``default_schema`` of
  lineage.yml (see ``lineage.run.datasets``);
- job namespace: ``$OPENLINEAGE_NAMESPACE``, else ``openlineage.namespace`` in lineage.yml,
  else ``default`` (OpenLineage's own default, as Airflow and dbt-ol use it);
- sinks: the openlineage-python client when it finds a configuration (``openlineage.yml``,
  ``OPENLINEAGE__TRANSPORT__*``, ``OPENLINEAGE_URL``); otherwise the Silverline catalog
  (``$LINEAGE_CATALOG_URL``, else ``catalog.url``, else ``<root>/.lineage/catalog.db``)
  plus one JSON-lines file per day in ``<root>/.lineage/events/``.
  ``OPENLINEAGE_DISABLED=true`` turns every event off;
- the spool: ``<root>/.lineage/spool/``;
- ``openlineage:`` in lineage.yml may also set ``queue_size``, ``cooldown`` (seconds a failed
  sink is skipped) and ``flush_timeout`` (seconds waited at exit).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.openlineage.emitter import Emitter
from connectors.openlineage.facets import processing_engine_facet
from connectors.openlineage.sinks import (
    CatalogSink,
    ClientSink,
    EventSink,
    JsonLinesSink,
    openlineage_configured,
)
from connectors.openlineage.spool import EventSpool
from lineage.errors import ConfigError, LineageError
from lineage.run.datasets import NameDefaults

if TYPE_CHECKING:
    from lineage.config import ProjectConfig

__all__ = ["OPENLINEAGE_SETTINGS", "Runtime", "build_runtime", "default_sinks", "settings_of"]

log = logging.getLogger("lineage.run")

#: Keys of the ``openlineage:`` section of lineage.yml.
OPENLINEAGE_SETTINGS = ("namespace", "queue_size", "cooldown", "flush_timeout")
_DEFAULT_JOB_NAMESPACE = "default"


@dataclass
class Runtime:
    """Everything a run needs that does not change from one call to the next."""

    config: ProjectConfig
    names: NameDefaults
    dialect: str | None
    job_namespace: str
    emitter: Emitter | None  # None: OpenLineage disabled
    spool: EventSpool
    sinks: list[EventSink]
    events_dir: Path | None
    engine_facet: dict[str, Any] = field(default_factory=dict)
    generation: int = 0  # bumps on configure(): cached job facets are rebuilt

    @property
    def root(self) -> Path:
        return self.config.root


_generation = 0
_generation_lock = threading.Lock()


def settings_of(config: ProjectConfig, *, strict: bool) -> dict[str, Any]:
    """The ``openlineage:`` section of lineage.yml, checked.

    Raises:
        ConfigError: (only with ``strict``) an unknown key or a value of the wrong type;
            without ``strict`` the problem is logged and the default used, since a job's
            run must never fail over its lineage settings.
    """
    raw = config.extra.get("openlineage") or {}
    found: dict[str, Any] = {}
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        problems.append("'openlineage' must be a mapping")
        raw = {}
    for key, value in raw.items():
        if key not in OPENLINEAGE_SETTINGS:
            problems.append(
                f"unknown setting openlineage.{key}; known: {', '.join(OPENLINEAGE_SETTINGS)}"
            )
        elif key == "namespace":
            found[key] = str(value)
        elif key == "queue_size" and isinstance(value, int) and value > 0:
            found[key] = value
        elif key in ("cooldown", "flush_timeout") and isinstance(value, int | float) and value >= 0:
            found[key] = float(value)
        else:
            problems.append(f"openlineage.{key} has an invalid value {value!r}")
    if problems:
        message = "; ".join(problems)
        if strict:
            raise ConfigError(message, file=str(config.source) if config.source else None)
        log.error("lineage.yml: %s (defaults used)", message)
    return found


def default_sinks(config: ProjectConfig) -> tuple[list[EventSink], Path | None]:
    """The sinks used without explicit ones, and the events folder (None with a client)."""
    if openlineage_configured():
        return [ClientSink()], None
    url = os.environ.get("LINEAGE_CATALOG_URL") or config.catalog_url
    if not url:
        url = f"sqlite:///{config.root / '.lineage' / 'catalog.db'}"
    events = config.root / ".lineage" / "events"
    return [JsonLinesSink(events), CatalogSink(url)], events


def build_runtime(
    config: ProjectConfig | None = None,
    *,
    sinks: Sequence[EventSink] | None = None,
    spool_dir: str | os.PathLike[str] | None = None,
    queue_size: int | None = None,
    cooldown: float | None = None,
    flush_timeout: float | None = None,
    namespace: str | None = None,
    job_namespace: str | None = None,
    dialect: str | None = None,
    strict: bool = False,
    register_atexit: bool = True,
) -> Runtime:
    """A runtime from lineage.yml and the environment, with explicit values winning.

    Raises:
        ConfigError: (only with ``strict``) lineage.yml cannot be read or is invalid.
    """
    global _generation
    from lineage.config import ProjectConfig, load_config  # PyYAML: loaded on first use

    if config is None:
        try:
            config = load_config()
        except LineageError:
            if strict:
                raise
            log.exception("lineage.yml cannot be read; lineage uses defaults")
            config = ProjectConfig()
    settings = settings_of(config, strict=strict)
    dialect = dialect or config.dialect
    names = NameDefaults(
        # As parsers.sql.names.default_namespace: SQL parsed for a job names tables alike.
        namespace or config.namespace or dialect or "sql",
        config.default_database,
        config.default_schema,
    )
    chosen_job_namespace = (
        job_namespace
        or os.environ.get("OPENLINEAGE_NAMESPACE")
        or settings.get("namespace")
        or _DEFAULT_JOB_NAMESPACE
    )
    spool = EventSpool(spool_dir or config.root / ".lineage" / "spool")
    events_dir: Path | None = None
    if sinks is None:
        chosen, events_dir = default_sinks(config)
    else:
        chosen = list(sinks)
    disabled = os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true"
    emitter = None
    if not disabled:
        emitter = Emitter(
            chosen,
            spool,
            queue_size=queue_size or settings.get("queue_size", 10_000),
            cooldown=cooldown if cooldown is not None else settings.get("cooldown", 5.0),
            exit_timeout=(
                flush_timeout if flush_timeout is not None else settings.get("flush_timeout", 5.0)
            ),
            register_atexit=register_atexit,
        )
    with _generation_lock:
        _generation += 1
        generation = _generation
    from lineage.version import __version__

    return Runtime(
        config=config,
        names=names,
        dialect=dialect,
        job_namespace=chosen_job_namespace,
        emitter=emitter,
        spool=spool,
        sinks=chosen,
        events_dir=events_dir,
        engine_facet=processing_engine_facet(__version__, _client_version()),
        generation=generation,
    )


def _client_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("openlineage-python")
    except metadata.PackageNotFoundError:  # pragma: no cover - it is a dependency
        return "unknown"
