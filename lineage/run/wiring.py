"""The process-wide set-up behind ``@job`` and ``run()``: names, sinks, queue, spool.

Built on first use (so importing a module of decorated jobs costs nothing) from
``lineage.yml`` and the environment, or explicitly with ``lineage.run.configure``:

- dataset names and job SQL: the SQL context of lineage.yml (``namespace``, ``dialect``,
  ``default_database``, ``default_schema``; see ``lineage.run.datasets``);
- job namespace: ``$OPENLINEAGE_NAMESPACE``, else ``openlineage.namespace`` in lineage.yml,
  else ``default`` (OpenLineage's own default, as Airflow and dbt-ol use it);
- sinks: the openlineage-python client when it finds a configuration (``openlineage.yml``,
  ``OPENLINEAGE__TRANSPORT__*``, ``OPENLINEAGE_URL``); otherwise the Silverline catalog
  (``lineage.config.catalog_url``) plus one JSON-lines file per day in the project's
  events folder (``<root>/.lineage/events/``). ``OPENLINEAGE_DISABLED=true`` turns every
  event off;
- the spool: ``<root>/.lineage/spool/`` (``lineage.config.ProjectLayout``), with the
  journal every event is written to before the call returns in its ``journal/`` folder;
  the first run of a process delivers, in the background, what earlier processes left
  there (``LINEAGE_REPLAY_ON_START=false`` turns that off);
- the queue: ``queue_size``, ``cooldown`` (seconds a failed sink is skipped) and
  ``flush_timeout`` (seconds waited at exit) of lineage.yml's ``openlineage:`` section.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.openlineage.emitter import Emitter
from connectors.openlineage.facets import processing_engine_facet
from connectors.openlineage.journal import JOURNAL_FOLDER, Journal
from connectors.openlineage.sinks import (
    CatalogSink,
    ClientSink,
    EventSink,
    JsonLinesSink,
    openlineage_configured,
)
from connectors.openlineage.spool import EventSpool
from connectors.openlineage.spoolfiles import fallback_folder
from lineage.errors import LineageError
from lineage.model import SqlContext, redacted_logger

if TYPE_CHECKING:
    from lineage.config import ProjectConfig

__all__ = ["Runtime", "build_runtime", "default_sinks"]

log = redacted_logger("lineage.run")

_DEFAULT_JOB_NAMESPACE = "default"


@dataclass
class Runtime:
    """Everything a run needs that does not change from one call to the next."""

    config: ProjectConfig
    sql: SqlContext  # how plain dataset names and the jobs' SQL are read
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


def default_sinks(config: ProjectConfig) -> tuple[list[EventSink], Path | None]:
    """The sinks used without explicit ones, and the events folder (None with a client)."""
    from lineage.config import catalog_url

    if openlineage_configured():
        return [ClientSink()], None
    events = config.layout.events
    return [JsonLinesSink(events), CatalogSink(catalog_url(config))], events


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
    settings = config.openlineage
    chosen_job_namespace = (
        job_namespace
        or os.environ.get("OPENLINEAGE_NAMESPACE")
        or settings.namespace
        or _DEFAULT_JOB_NAMESPACE
    )
    folder = spool_dir or config.layout.spool
    # An unwritable project spool (read-only, full): the emitter falls back to the cache.
    spool = EventSpool(folder, fallback=fallback_folder(folder))
    events_dir: Path | None = None
    if sinks is None:
        chosen, events_dir = default_sinks(config)
    else:
        chosen = list(sinks)
    disabled = os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true"
    emitter = None
    if not disabled:
        journal = Journal(
            Path(folder) / JOURNAL_FOLDER,
            [sink.name for sink in chosen],
            fallback=fallback_folder(folder) / JOURNAL_FOLDER,
        )
        replay_on_start = _flag("LINEAGE_REPLAY_ON_START", default=True)
        emitter = Emitter(
            chosen,
            spool,
            queue_size=queue_size or settings.queue_size,
            cooldown=cooldown if cooldown is not None else settings.cooldown,
            exit_timeout=flush_timeout if flush_timeout is not None else settings.flush_timeout,
            register_atexit=register_atexit,
            journal=journal,
            replay_on_start=replay_on_start,
        )
    with _generation_lock:
        _generation += 1
        generation = _generation
    from lineage.version import __version__

    return Runtime(
        config=config,
        sql=config.sql_context.updated(dialect=dialect, namespace=namespace),
        job_namespace=chosen_job_namespace,
        emitter=emitter,
        spool=spool,
        sinks=chosen,
        events_dir=events_dir,
        engine_facet=processing_engine_facet(__version__, _client_version()),
        generation=generation,
    )


def _flag(name: str, *, default: bool) -> bool:
    """An on/off environment variable: ``0``, ``false``, ``no``, ``off`` turn it off."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value not in ("0", "false", "no", "off")


def _client_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("openlineage-python")
    except metadata.PackageNotFoundError:  # pragma: no cover - it is a dependency
        return "unknown"
