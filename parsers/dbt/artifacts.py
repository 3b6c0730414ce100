"""dbt's run artifacts -> runs, metric points and check results (pure: files in, values out).

``target/run_results.json`` (``dbt run`` / ``build`` / ``test`` / ``seed`` / ``snapshot``)
with ``manifest.json`` beside it, and ``target/sources.json`` (``dbt source freshness``):

* one ``RunRecord`` per model, seed and snapshot: the job is ``<package>.<model>`` and the
  dataset ``DatasetId(namespace, database.schema.alias)``, lower-cased, exactly as
  ``parsers.dbt.load_dbt_project`` names them, so the runs join the scanned models;
  ``success`` -> COMPLETE, ``error`` -> FAIL, ``skipped`` -> ABORT (dbt never started the
  node: an upstream failed; ABORT is OpenLineage's "ended without running to an outcome");
  the run id is derived from the invocation id and the node (re-reading a file yields the
  same ids: ingesting twice records nothing new); the invocation is the parent run (job
  ``dbt-run-<project>``, as dbt-ol names it) and the ``dbt_run`` facet carries the
  ``--vars`` (a backfill's date), the command, the outputs and the adapter response;
* ``rows_affected`` of the adapter response as a ``row_count`` metric of the dataset;
* each test (``test.*``) as a ``CheckResult`` of the tested dataset and column, the check
  named as ``lineage check`` names the same test's check (``check_names``:
  ``not_null(customer_id)``; one result per bound, same status, for ``accepted_range``),
  so dbt's outcome and Silverline's own land on one catalog key; a test Silverline does
  not check itself keeps dbt's name (``relationships``, ``dbt_utils.expression_is_true``;
  singular tests their node name); ``failures`` kept in the details as ``observed``,
  dbt's name as ``dbt_test``; a skipped test (its model failed) records nothing;
* each source freshness result as a ``last_loaded_at`` metric (``max_loaded_at`` in epoch
  seconds) and a ``freshness`` check result.

One bad result never stops the rest: it becomes a ``ParseIssue`` naming the file and node.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lineage.contracts import dbt_test_checks
from lineage.model import (
    MASK,
    DatasetId,
    DataTest,
    ParseIssue,
    is_secret_key,
    redact_text,
)
from lineage.views import CheckResult, CheckStatus, MetricPoint, RunRecord, RunState
from parsers.dbt.generic_tests import manifest_test
from parsers.dbt.project import ADAPTER_DIALECTS
from parsers.dbt.relation import Relation

__all__ = [
    "DbtArtifacts",
    "artifact_kind",
    "check_names",
    "read_artifact",
    "read_run_results",
    "read_sources",
]

# Run ids derived from (invocation, node): stable across re-reads of the same file.
_RUN_IDS = uuid.UUID("8f1d2c4e-5b6a-4c3d-9e8f-7a6b5c4d3e2f")
_STATES = {
    "success": RunState.COMPLETE,
    "error": RunState.FAIL,
    "skipped": RunState.ABORT,
}
_RUN_NODES = ("model", "seed", "snapshot")
_PEEK_BYTES = 4096


@dataclass
class DbtArtifacts:
    """What one artifact file says: runs, metric points, check results, problems."""

    runs: list[RunRecord] = field(default_factory=list)
    metrics: list[MetricPoint] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)
    # dataset of each run (by run id): RunRecord has no datasets, the catalog's job does
    outputs: dict[str, DatasetId] = field(default_factory=dict)
    namespace: str = ""  # of the datasets, and of the jobs (as the project scan names them)


def artifact_kind(path: str | Path) -> str | None:
    """``"run_results"`` or ``"sources"`` when ``path`` is such a dbt artifact, else None.

    Known by its file name, or by ``metadata.dbt_schema_version`` (dbt writes ``metadata``
    first, so a peek at the file's head is enough for a renamed copy).
    """
    file = Path(path)
    if not file.is_file():
        return None
    if file.name in ("run_results.json", "sources.json"):
        return file.stem
    if file.suffix != ".json":
        return None
    try:
        with file.open(encoding="utf-8", errors="replace") as handle:
            head = handle.read(_PEEK_BYTES)
    except OSError:
        return None
    if "dbt_schema_version" not in head:
        return None
    if "/run-results/" in head:
        return "run_results"
    if "/sources/" in head:
        return "sources"
    return None


def read_artifact(path: str | Path, *, namespace: str | None = None) -> DbtArtifacts:
    """``read_run_results`` or ``read_sources``, by ``artifact_kind``; a file that is
    neither is one issue."""
    kind = artifact_kind(path)
    if kind == "run_results":
        return read_run_results(path, namespace=namespace)
    if kind == "sources":
        return read_sources(path, namespace=namespace)
    return DbtArtifacts(issues=[ParseIssue("not a dbt run_results.json or sources.json",
                                           file=str(path))])


def read_run_results(path: str | Path, *, namespace: str | None = None) -> DbtArtifacts:
    """Runs, row counts and test results of one ``run_results.json``.

    Args:
        path: the file; ``manifest.json`` is read from the same folder.
        namespace: the datasets' OpenLineage namespace (default: the adapter's dialect, as
            ``lineage scan`` names a dbt project's tables).
    """
    out = DbtArtifacts()
    data = _load(Path(path), out)
    if data is None:
        return out
    manifest = _load(Path(path).with_name("manifest.json"), out) or {}
    names = _Names(manifest, namespace)
    out.namespace = names.namespace
    metadata = data.get("metadata") or {}
    invocation = str(metadata.get("invocation_id") or "")
    if not invocation:
        out.issues.append(ParseIssue("no metadata.invocation_id", file=str(path)))
        return out
    generated = _time(metadata.get("generated_at")) or datetime.now(timezone.utc)
    args = data.get("args") or {}
    invocation_facet = {
        "invocation_id": invocation,
        "command": redact_text(str(args.get("invocation_command") or args.get("which") or "")),
        "vars": _masked(args.get("vars") or {}),
        "dbt_version": metadata.get("dbt_version"),
    }
    parent = {"parent": {"run": {"runId": invocation},
                         "job": {"namespace": names.namespace, "name": names.parent_job}}}
    reader = _Results(out, names, invocation, generated, parent, invocation_facet, str(path))
    for result in data.get("results") or []:
        unique_id = str(result.get("unique_id") or "") if isinstance(result, Mapping) else ""
        try:
            reader.read(result)
        except (KeyError, TypeError, ValueError) as exc:
            out.issues.append(ParseIssue(f"{unique_id or 'a result'}: unreadable ({exc})",
                                         file=str(path)))
    if out.runs or out.checks:  # the invocation itself: the parent of every node's run
        times = [r.started_at or r.first_event_at for r in out.runs] or [generated]
        started = _time(metadata.get("invocation_started_at")) or min(times)
        failed = any(r.state is RunState.FAIL for r in out.runs) or any(
            c.status in (CheckStatus.FAILED, CheckStatus.ERROR) for c in out.checks)
        out.runs.insert(0, RunRecord(
            run_id=invocation, job_name=names.parent_job,
            state=RunState.FAIL if failed else RunState.COMPLETE,
            first_event_at=started, last_event_at=generated, started_at=started,
            ended_at=generated, facets={"dbt_run": invocation_facet}))
    return out


def read_sources(path: str | Path, *, namespace: str | None = None) -> DbtArtifacts:
    """Freshness metrics and checks of one ``sources.json`` (manifest beside it)."""
    out = DbtArtifacts()
    data = _load(Path(path), out)
    if data is None:
        return out
    names = _Names(_load(Path(path).with_name("manifest.json"), out) or {}, namespace)
    out.namespace = names.namespace
    invocation = str((data.get("metadata") or {}).get("invocation_id") or "") or None
    for result in data.get("results") or []:
        unique_id = str(result.get("unique_id") or "") if isinstance(result, Mapping) else ""
        dataset = names.dataset(unique_id) if unique_id else None
        when = _time(result.get("snapshotted_at")) if isinstance(result, Mapping) else None
        if dataset is None or when is None:
            out.issues.append(ParseIssue(
                f"{unique_id or 'a result'}: source not in manifest.json or no snapshotted_at",
                file=str(path)))
            continue
        loaded = _time(result.get("max_loaded_at"))
        if loaded is not None:
            out.metrics.append(MetricPoint(dataset, "last_loaded_at", loaded.timestamp(), when,
                                           run_id=invocation))
        status = str(result.get("status") or "error")
        details = {"unique_id": unique_id, "criteria": result.get("criteria") or {},
                   "max_loaded_at": result.get("max_loaded_at"),
                   "age_seconds": result.get("max_loaded_at_time_ago_in_s")}
        if result.get("error"):
            details["message"] = redact_text(str(result["error"]))
        out.checks.append(CheckResult(dataset, "freshness", CheckStatus.parse(status), when,
                                      run_id=invocation, details=details, native_status=status))
    return out


class _Names:
    """Jobs and datasets of manifest nodes, named as the dbt project scan names them."""

    def __init__(self, manifest: Mapping[str, Any], namespace: str | None) -> None:
        metadata = manifest.get("metadata") or {}
        adapter = str(metadata.get("adapter_type") or "")
        self.namespace = namespace or ADAPTER_DIALECTS.get(adapter) or adapter or "sql"
        self.nodes: Mapping[str, Any] = {**(manifest.get("sources") or {}),
                                         **(manifest.get("nodes") or {})}
        project = metadata.get("project_name") or next(
            (n.get("package_name") for n in self.nodes.values() if n.get("package_name")), "dbt")
        self.parent_job = f"dbt-run-{project}"

    def node(self, unique_id: str) -> Mapping[str, Any] | None:
        found = self.nodes.get(unique_id)
        return found if isinstance(found, Mapping) else None

    def job(self, unique_id: str) -> str:
        node = self.node(unique_id) or {}
        parts = unique_id.split(".")
        package = node.get("package_name") or (parts[1] if len(parts) > 2 else "dbt")
        return f"{package}.{node.get('name') or parts[-1]}"

    def dataset(self, unique_id: str) -> DatasetId | None:
        node = self.node(unique_id)
        if node is None:
            return None
        config = node.get("config") or {}
        if config.get("materialized") == "ephemeral":
            return None
        identifier = node.get("identifier") if node.get("resource_type") == "source" else None
        relation = Relation.create(node.get("database"), node.get("schema"),
                                   identifier or node.get("alias") or node.get("name"))
        return DatasetId(self.namespace, relation.dotted)


class _Results:
    """Turns each entry of ``results[]`` into runs, metrics or check results."""

    def __init__(self, out: DbtArtifacts, names: _Names, invocation: str, generated: datetime,
                 parent: dict[str, Any], invocation_facet: dict[str, Any], file: str) -> None:
        self.out, self.names, self.invocation = out, names, invocation
        self.generated, self.parent, self.facet = generated, parent, invocation_facet
        self.file = file

    def read(self, result: Mapping[str, Any]) -> None:
        unique_id = str(result["unique_id"])
        kind = unique_id.split(".", 1)[0]
        if kind in _RUN_NODES:
            self._run(unique_id, result)
        elif kind == "test":
            self._test(unique_id, result)
        # operations, analyses, unit tests: nothing the catalog keeps

    def _run(self, unique_id: str, result: Mapping[str, Any]) -> None:
        dataset = self.names.dataset(unique_id)
        if dataset is None:
            self.out.issues.append(ParseIssue(f"{unique_id}: not in manifest.json (or ephemeral)",
                                              file=self.file))
            return
        status = str(result.get("status") or "")
        state = _STATES.get(status, RunState.FAIL)  # a status dbt adds later is no success
        started, ended = _span(result.get("timing") or [])
        run_id = _run_id(self.invocation, unique_id)
        response = result.get("adapter_response") or {}
        facets: dict[str, Any] = {
            **self.parent,
            "dbt_run": {**self.facet, "unique_id": unique_id, "status": status,
                        "execution_time": result.get("execution_time"),
                        "adapter_response": _masked(response),
                        "outputs": [dataset.to_dict()]},
        }
        message = result.get("message")
        if state is not RunState.COMPLETE:
            text = redact_text(str(message)) if message else f"dbt status: {status}"
            facets["errorMessage"] = {"message": text, "programmingLanguage": "sql"}
        end = ended or self.generated
        self.out.runs.append(RunRecord(
            run_id=run_id, job_name=self.names.job(unique_id), state=state,
            first_event_at=started or end, last_event_at=end, started_at=started, ended_at=end,
            error=facets.get("errorMessage", {}).get("message"), facets=facets))
        self.out.outputs[run_id] = dataset
        rows = response.get("rows_affected") if isinstance(response, Mapping) else None
        if state is RunState.COMPLETE and isinstance(rows, int | float) and rows >= 0:
            self.out.metrics.append(MetricPoint(dataset, "row_count", float(rows), end,
                                                run_id=run_id))

    def _test(self, unique_id: str, result: Mapping[str, Any]) -> None:
        status = str(result.get("status") or "error")
        if status == "skipped":
            return  # never ran (its model failed): no outcome to record; the model's run says why
        node = self.names.node(unique_id)
        tested = _tested(node, self.names) if node is not None else None
        dataset = self.names.dataset(tested) if tested else None
        if node is None or dataset is None:
            self.out.issues.append(ParseIssue(
                f"{unique_id}: its tested model is not in manifest.json", file=self.file))
            return
        test = manifest_test(node)
        checks = check_names(test) if test is not None else []
        if not checks:  # not a check of Silverline's (relationships, custom, singular tests)
            column = node.get("column_name") or (
                (node.get("test_metadata") or {}).get("kwargs") or {}).get("column_name")
            name = test.name if test is not None else str(node.get("name"))
            checks = [(name, str(column).lower() if column else None)]
        _, ended = _span(result.get("timing") or [])
        details: dict[str, Any] = {
            "unique_id": unique_id, "observed": result.get("failures"),
            "severity": str((node.get("config") or {}).get("severity") or "error").lower(),
            "invocation_id": self.invocation,
        }
        if test is not None:
            details["dbt_test"] = test.name
        if len(checks) > 1:  # accepted_range: dbt says whether the range held, not which bound
            details["test_covers"] = [name for name, _ in checks]
        if result.get("message"):
            details["message"] = redact_text(str(result["message"]))
        for check, column in checks:
            self.out.checks.append(CheckResult(
                dataset, check, CheckStatus.parse(status), ended or self.generated,
                column=column, run_id=_run_id(self.invocation, unique_id), details=details,
                native_status=status))


def check_names(test: DataTest) -> list[tuple[str, str | None]]:
    """(check name, column) of each check ``lineage check`` derives from one dbt test
    (``lineage.contracts.dbt_test_checks``)."""
    return dbt_test_checks(test)


def _tested(node: Mapping[str, Any], names: _Names) -> str | None:
    """The node a test judges: ``attached_node``, else its only model/seed/source dependency."""
    attached = node.get("attached_node")
    if attached:
        return str(attached)
    depends = [d for d in (node.get("depends_on") or {}).get("nodes") or []
               if names.dataset(d) is not None]
    return depends[0] if len(depends) == 1 else None


def _run_id(invocation: str, unique_id: str) -> str:
    return str(uuid.uuid5(_RUN_IDS, f"{invocation}/{unique_id}"))


def _span(timing: list[Any]) -> tuple[datetime | None, datetime | None]:
    """(first start, last end) over the compile and execute steps."""
    starts = [t for t in (_time(s.get("started_at")) for s in timing) if t is not None]
    ends = [t for t in (_time(s.get("completed_at")) for s in timing) if t is not None]
    return (min(starts) if starts else None, max(ends) if ends else None)


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _masked(values: Any) -> Any:
    """``values`` with secret-named keys masked (``--vars '{password: ...}'``)."""
    if isinstance(values, Mapping):
        return {str(k): MASK if is_secret_key(str(k)) else _masked(v) for k, v in values.items()}
    if isinstance(values, list):
        return [_masked(v) for v in values]
    return redact_text(values) if isinstance(values, str) else values


def _load(path: Path, out: DbtArtifacts) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None with an issue naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        out.issues.append(ParseIssue("no such file", file=str(path)))
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        out.issues.append(ParseIssue(f"unreadable: {exc}", file=str(path)))
        return None
    if not isinstance(data, dict):
        out.issues.append(ParseIssue("not a JSON object", file=str(path)))
        return None
    return data
