"""Run-time schema drift of jobs declared ``@job(..., on_drift="fail")``.

The three policies (``lineage.drift.runtime`` for the comparison itself):

- ``warn`` (default): nothing happens on the caller's path. The COMPLETE event carries
  the outputs' schemas (returned or added data frames, DuckDB relations, SQLAlchemy
  tables); where it reaches the catalog (the catalog sink in the emitter's worker, or a
  later ``lineage ingest``) ``connectors.openlineage.drift`` compares, records the
  findings with the run id and logs one line on ``lineage.run``.
- ``fail``: after the function returns and before COMPLETE, the same comparison runs here
  against the catalog the events go to; findings are recorded and logged the same way,
  and breaking ones end the run FAIL with a ``SchemaDriftError`` the caller raises (no
  retry: the same code writes the same schema). A catalog that cannot be read costs the
  check, never the job.
- ``ignore``: nothing is compared (the job tag tells the recorder so).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from connectors.openlineage.batch import EventLineage
from connectors.openlineage.drift import check_run_drift, output_schemas
from connectors.openlineage.sinks import CatalogSink
from lineage.drift import DriftSeverity
from lineage.drift.runtime import phrase
from lineage.errors import SchemaDriftError
from lineage.model import redact_text, redacted_logger

if TYPE_CHECKING:
    from lineage.catalog.store import Catalog
    from lineage.run.runs import Run
    from lineage.run.wiring import Runtime

__all__ = ["drift_error", "run_catalog"]

log = redacted_logger("lineage.run")

_lock = threading.Lock()
_open: dict[str, Catalog] = {}  # the catalog "fail" jobs compare against, by URL


def drift_error(run_: Run) -> SchemaDriftError | None:
    """Compare the run's outputs (as its COMPLETE event would carry them) with their
    documented schemas; record and log the findings; the error to end the run with when
    any is breaking. Never raises."""
    runtime = run_._runtime
    if runtime is None:
        return None
    try:
        event = run_.end_event("COMPLETE")
        lineage = EventLineage.of(event)
        if not output_schemas(lineage):
            return None
        found = check_run_drift(run_catalog(runtime), lineage, run_id=run_.run_id,
                                job_name=run_.job_name,
                                when=datetime.now(timezone.utc))  # fmt: skip
    except Exception as exc:  # a catalog that cannot be read costs the check, not the job
        log.warning("job %s: schema drift not checked: %s", run_.job_name, exc)
        return None
    if not found.findings:
        return None
    serious = any(f.severity.at_least(DriftSeverity.WARNING) for f in found.findings)
    level = logging.WARNING if serious else logging.INFO
    log.log(level, "job %s: %s", run_.job_name, found.summary())
    broken = found.breaking
    if not broken:
        return None
    datasets = tuple(dict.fromkeys(f.dataset.name for f in broken))
    changes = tuple(f"{f.dataset.name}: {phrase(f.change)}" for f in broken)
    message = redact_text(f"breaking schema drift (on_drift=\"fail\"): {'; '.join(changes)}; "
                          "lineage drift for the impact")  # fmt: skip
    return SchemaDriftError(message, datasets=datasets, changes=changes,
                            obj=datasets[0] if len(datasets) == 1 else None)  # fmt: skip


def run_catalog(runtime: Runtime) -> Catalog:
    """The catalog the runtime's events go to: its catalog sink's (the one it was given,
    or its URL), else the project's (``lineage.config.catalog_url``). Opened once and kept
    (only the latest one: a new runtime with another catalog closes the previous)."""
    url: str | None = None
    for sink in runtime.sinks:
        if isinstance(sink, CatalogSink):
            given: Catalog | None = getattr(sink, "_catalog", None)
            if sink.url is None and given is not None:
                return given  # the caller's catalog: shared, never closed here
            url = sink.url
            break
    if url is None:
        from lineage.config import catalog_url

        url = catalog_url(runtime.config)
    with _lock:
        found = _open.get(url)
        if found is None:
            from lineage.catalog.store import Catalog

            for previous in _open.values():
                previous.close()
            _open.clear()
            found = _open[url] = Catalog(url)
        return found
