"""``lineage build``: the whole loop, one step after another, each reading and writing the
catalog only.

pipeline (the project's decorated jobs) -> scan (SQL, dbt) -> introspect (warehouse,
files) -> profile -> check (contracts, tests) -> push (DataHub Lite and an MCP file) ->
docs (the site and its ``schema.json``) -> drift (live vs the previous site's
``schema.json``). A step that fails is reported and costs only the steps that need its
output. A second build with nothing changed changes nothing: the pipeline (its inputs,
and whether its outputs are there) and the figures are fingerprinted, unchanged datasets
are not pushed, the site is rebuilt from an unchanged catalog byte for byte. It still
fails where the first did: a check step with nothing to re-judge reports the last build's
results (recorded once, not again).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.config import CATALOG_URL_ENV
from lineage.errors import ConfigError, InputError, LineageError
from lineage.model import redact_text

if TYPE_CHECKING:
    from lineage.workspace import Workspace

__all__ = ["DRIFT_THRESHOLDS", "STEPS", "BuildReport", "StepResult", "run_build"]

#: The steps in order, and the steps each needs.
STEPS: dict[str, tuple[str, ...]] = {
    "pipeline": (),
    "scan": (),
    "introspect": (),
    "profile": ("introspect",),
    "check": ("introspect",),
    "push": ("scan",),
    "docs": (),
    "drift": ("introspect",),
}
_PIPELINE_STATE = "pipeline_inputs"  # sync_state kind: what the pipeline last ran from
_FIGURES_STATE = "build_figures"  # sync_state kind: what profile and check last judged
_PIPELINE_RAN_STATE = "pipeline_ran"  # sync_state kind: when the pipeline last ran
_CHECK_RUN_STATE = "build_check_run"  # sync_state kind: the run id of the last build's checks
#: ``--fail-on`` values: the drift grades that fail the build (as ``lineage drift --fail-on``).
DRIFT_THRESHOLDS = ("breaking", "warning", "any")


@dataclass
class StepResult:
    """One step: ``ok``, ``failed``, ``skipped`` (not wanted, or nothing to do) or
    ``blocked`` (a step it needs failed)."""

    name: str
    status: str
    seconds: float = 0.0
    summary: str = ""
    look_at: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.name, "status": self.status, "seconds": round(self.seconds, 2),
            "summary": self.summary, "look_at": self.look_at, "details": self.details,
        }  # fmt: skip


@dataclass
class BuildReport:
    steps: list[StepResult] = field(default_factory=list)
    drift: Any = None  # the DriftOutcome, when the drift step compared anything

    @property
    def failed(self) -> bool:
        return any(s.status in ("failed", "blocked") for s in self.steps)

    @property
    def failed_steps(self) -> list[str]:
        """The steps that failed or were blocked, in order: what the exit code is about."""
        return [s.name for s in self.steps if s.status in ("failed", "blocked")]

    def to_dict(self) -> dict[str, Any]:
        return {"failed": self.failed, "failed_steps": self.failed_steps,
                "steps": [s.to_dict() for s in self.steps]}  # fmt: skip


def run_build(
    workspace: Workspace,
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    force: bool = False,
    fail_on_drift: str = "breaking",
    on_step: Callable[[str], None] | None = None,
    on_done: Callable[[StepResult], None] | None = None,
) -> BuildReport:
    """Run the steps (all, or ``only``, minus ``skip``); see the module's docstring.

    Raises:
        InputError: an unknown step or drift threshold, before any step runs.
    """
    unknown = sorted((set(only) | set(skip)) - set(STEPS))
    if unknown:
        raise InputError(f"unknown build step(s) {', '.join(unknown)}; steps: {', '.join(STEPS)}")
    if fail_on_drift.strip().lower() not in DRIFT_THRESHOLDS:
        raise InputError(f"unknown drift threshold {fail_on_drift!r}: "
                         f"{', '.join(DRIFT_THRESHOLDS)}")  # fmt: skip
    wanted = [s for s in STEPS if (not only or s in only) and s not in skip]
    state = _BuildState(workspace, force=force, fail_on_drift=fail_on_drift)
    state.drift_wanted = "drift" in wanted
    report = BuildReport()
    outcome: dict[str, str] = {}
    for name in STEPS:
        if name not in wanted:
            outcome[name] = "skipped"
            continue
        blocked = [n for n in STEPS[name] if outcome.get(n) in ("failed", "blocked")]
        if blocked:
            result = StepResult(name, "blocked", summary=f"needs {', '.join(blocked)}")
        else:
            if on_step:
                on_step(name)
            started = time.perf_counter()
            try:
                result = getattr(state, f"step_{name}")()
            except LineageError as exc:
                result = StepResult(name, "failed", summary=redact_text(str(exc)))
            except Exception as exc:  # a step's bug must not cost the other steps
                result = StepResult(
                    name, "failed", summary=redact_text(f"{type(exc).__name__}: {exc}")
                )
            result.seconds = time.perf_counter() - started
        outcome[name] = result.status
        report.steps.append(result)
        if on_done:
            on_done(result)
    report.drift = state.drift
    return report


class _BuildState:
    """What the steps share: the workspace, and what earlier steps found."""

    def __init__(self, workspace: Workspace, *, force: bool, fail_on_drift: str) -> None:
        self.workspace = workspace
        self.force = force
        self.fail_on_drift = fail_on_drift
        self.new_data = force
        self.baseline: str | None = None
        self.docs_built = False
        self.drift: Any = None  # the DriftOutcome of this build, once computed
        self.drift_wanted = True
        self._key: str | None = None

    @property
    def root(self) -> Path:
        return self.workspace.config.root

    # -- pipeline ------------------------------------------------------------------------

    def step_pipeline(self) -> StepResult:
        section = self.workspace.config.pipeline
        if section.script is None:
            return StepResult("pipeline", "skipped", summary="no pipeline.script in lineage.yml")
        if not section.script.is_file():
            raise ConfigError(f"pipeline.script {section.script} does not exist")
        key = str(self.root)
        catalog = self.workspace.catalog
        fingerprint = self._pipeline_fingerprint(section.script)
        if not self.force and catalog.sync_state(_PIPELINE_STATE, key) == fingerprint:
            return StepResult("pipeline", "skipped",
                              summary="up to date (inputs unchanged, outputs present)")  # fmt: skip
        env = {**os.environ, CATALOG_URL_ENV: self.workspace.catalog_url}
        done = subprocess.run(
            [sys.executable, str(section.script), *section.args], cwd=self.root, env=env,
            capture_output=True, text=True, timeout=3600, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            tail = redact_text((done.stderr or done.stdout).strip().splitlines()[-1:][0]
                               if (done.stderr or done.stdout).strip() else "")  # fmt: skip
            return StepResult("pipeline", "failed", summary=f"exit {done.returncode}: {tail}",
                              look_at="lineage runs --status failed")  # fmt: skip
        # Recorded as the run left things: its outputs exist now.
        catalog.record_sync_state(_PIPELINE_STATE, key, self._pipeline_fingerprint(section.script))
        # A run re-lands the data even from the same inputs: what profile and check judged
        # (in this build or a later one, after `--only pipeline`) is stale now.
        catalog.record_sync_state(_PIPELINE_RAN_STATE, key, str(time.time_ns()))
        self.new_data = True
        last = done.stdout.strip().splitlines()[-1:] or [""]
        return StepResult("pipeline", "ok", summary=last[0], look_at="lineage runs")

    def _pipeline_fingerprint(self, script: Path) -> str:
        """The pipeline's inputs and whether its outputs are there: deleting the bronze
        folder or the warehouse file makes the next build run the pipeline again."""
        outputs = [[str(p), _present(p)] for p in _local_outputs(self.workspace)]
        return _digest([_fingerprint_inputs(self.root, script), outputs])

    # -- scan, introspect, profile, check --------------------------------------------------

    def step_scan(self) -> StepResult:
        config = self.workspace.config
        if not config.sql_paths and config.dbt_project is None:
            return StepResult("scan", "skipped", summary="no sql.paths or dbt.project")
        report = self.workspace.scan()
        datasets, jobs, edges = (sum(x) for x in zip(*(report.size(b) for b in report.batches),
                                                      strict=True))  # fmt: skip
        issues = report.issues
        status = "ok"
        return StepResult(
            "scan", status, summary=f"{jobs} jobs, {datasets} datasets, {edges} column edges"
            + (f", {len(issues)} issues" if issues else ""),
            look_at="lineage scan --format table" if issues else "",
            details={"issues": [str(i) for i in issues]},
        )  # fmt: skip

    def step_introspect(self) -> StepResult:
        config = self.workspace.config
        if not config.warehouse.url and not config.files:
            return StepResult("introspect", "skipped", summary="no warehouse.url or files")
        report = self.workspace.introspect()
        if report.schema_versions_added:
            self.new_data = True
        issues = report.issues
        summary = (f"{report.tables} tables, {report.schema_versions_added} new schema "
                   f"versions, {len(report.findings)} findings")  # fmt: skip
        # A source that errored whole, or observed nothing but problems (a missing folder,
        # an empty DuckDB file the pipeline never wrote), gives nothing to build on; when
        # every source is like that the step failed, whatever the counts say.
        usable = [o for _, o in report.observations if o.tables or not o.issues]
        if not usable:
            return StepResult("introspect", "failed", summary="; ".join(map(str, issues))
                              or "no source could be read", look_at="lineage introspect",
                              details={"issues": [str(i) for i in issues]})  # fmt: skip
        return StepResult(
            "introspect", "ok", summary=summary + (f", {len(issues)} issues" if issues else ""),
            look_at="lineage show <dataset>" if report.findings else "",
            details={"issues": [str(i) for i in issues],
                     "findings": [f.to_dict() for f in report.findings]},
        )  # fmt: skip

    def _figures_up_to_date(self) -> bool:
        """Whether profile and check judged exactly this data and these contracts."""
        if self.new_data:
            return False
        key = str(self.root)
        return self.workspace.catalog.sync_state(_FIGURES_STATE, key) == self._figures_key()

    def _figures_key(self) -> str:
        """What profile and check judge: the pipeline's inputs, the contracts, the live
        schemas (read once a build: nothing after introspect changes them)."""
        if self._key is None:
            self._key = self._compute_figures_key()
        return self._key

    def _compute_figures_key(self) -> str:
        from lineage.workspace.checks import contracts_folder

        catalog, key = self.workspace.catalog, str(self.root)
        kinds = (_PIPELINE_STATE, _PIPELINE_RAN_STATE)
        pipeline = [catalog.sync_state(kind, key) or "" for kind in kinds]
        contracts = _tree_digest(contracts_folder(self.workspace.config))
        live = sorted((str(d), s.fingerprint) for d, s in catalog.live_schemas().items())
        return _digest([pipeline, contracts, live])

    def step_profile(self) -> StepResult:
        if self._figures_up_to_date():
            return StepResult("profile", "skipped", summary="up to date (no new data)")
        report = self.workspace.profile()
        return StepResult(
            "profile", "ok" if report.profiles or not report.issues else "failed",
            summary=f"{len(report.profiles)} datasets profiled"
            + (f", {len(report.issues)} issues" if report.issues else ""),
            details={"issues": [str(i) for i in report.issues]},
        )  # fmt: skip

    def step_check(self) -> StepResult:
        from lineage.checks import summarize
        from lineage.views import CheckStatus

        catalog = self.workspace.catalog
        key = str(self.root)
        last_run = catalog.sync_state(_CHECK_RUN_STATE, key)
        if last_run is not None and self._figures_up_to_date():
            # Nothing they judge changed: the last build's results stand (their failures
            # still fail this build), and nothing new is recorded.
            from lineage.workspace.checks import load_contracts

            results = catalog.check_results(run_id=last_run)
            # Contract issues are not stored: read the contracts again (no query runs).
            issues = [str(i) for i in load_contracts(catalog, self.workspace.config)[1]]
            carried = f" (carried forward from run {last_run}: data and contracts unchanged)"
        else:
            report = self.workspace.check()
            results, issues, carried = report.results, [str(i) for i in report.issues], ""
            catalog.record_sync_state(_CHECK_RUN_STATE, key, report.run_id)
            catalog.record_sync_state(_FIGURES_STATE, key, self._figures_key())
        counts = summarize(results)
        # An unreadable contract fails the step as it fails `lineage check`: its checks
        # did not run.
        failing = counts.get(CheckStatus.FAILED, 0) + counts.get(CheckStatus.ERROR, 0)
        failing += len(issues)
        text = ", ".join(f"{n} {s.value.replace('_', ' ')}" for s, n in counts.items() if n)
        return StepResult(
            "check", "failed" if failing else "ok",
            summary=(text or "no checks") + (f", {len(issues)} contract issues" if issues
                                             else "") + carried,
            look_at="lineage check" if failing else "",
            details={"results": len(results), "issues": issues,
                     "carried_forward": bool(carried)},
        )  # fmt: skip

    # -- push, docs, drift ---------------------------------------------------------------

    def step_push(self) -> StepResult:
        from connectors.datahub import PushTarget, push, resolve_target

        workspace = self.workspace
        settings_file = workspace.datahub_config()
        target = resolve_target(settings_file, self.root)
        report = push(workspace.catalog, target, settings_file.settings)
        summary = f"{target}: {report.sent} aspects sent, {report.unchanged} unchanged"
        mcp_file = self.root / ".lineage" / "datahub-mcps.json"
        if report.sent or not mcp_file.exists():
            # The whole catalog as an MCP file (`datahub check metadata-file`, or ingest it
            # into any DataHub with `datahub ingest -c` and the file source).
            push(workspace.catalog, PushTarget.file(mcp_file), settings_file.settings,
                 full=True)  # fmt: skip
        return StepResult("push", "ok", summary=summary + f"; MCP file {mcp_file}",
                          details=report.to_dict())  # fmt: skip

    def step_docs(self) -> StepResult:
        from lineage.workspace.docs import build_docs, docs_folder

        out = docs_folder(self.workspace.config)
        previous = out / "schema.json"
        self.baseline = previous.read_text(encoding="utf-8") if previous.is_file() else None
        if self.baseline is not None and self.drift_wanted:
            # Drift against the previous site first, so the new site shows its findings.
            from lineage.workspace.drift import drift_from_text

            self.drift = drift_from_text(self.workspace, self.baseline)
        site = build_docs(self.workspace)
        self.docs_built = True
        return StepResult("docs", "ok", summary=f"{out} ({site})", look_at=str(out / "index.html"))

    def step_drift(self) -> StepResult:
        from lineage.workspace.docs import docs_folder

        out = docs_folder(self.workspace.config)
        baseline_text = self.baseline
        if baseline_text is None and not self.docs_built:
            current = out / "schema.json"
            baseline_text = current.read_text(encoding="utf-8") if current.is_file() else None
        if baseline_text is None:
            return StepResult("drift", "skipped",
                              summary="no previous site: this build is the baseline")  # fmt: skip
        from lineage.workspace.drift import drift_from_text

        found = self.drift or drift_from_text(self.workspace, baseline_text)
        self.drift = found
        failing = found.count_at_least(self.fail_on_drift)
        why = f" ({failing} at --fail-on {self.fail_on_drift} or worse)" if failing else ""
        return StepResult(
            "drift", "failed" if failing else "ok", summary=found.summary() + why,
            look_at="lineage drift --baseline site/" if found.changes else "",
            details={**found.to_dict(), "fail_on": self.fail_on_drift, "failing": failing},
        )  # fmt: skip


def _local_outputs(workspace: Workspace) -> list[Path]:
    """What a pipeline run writes that lives on this machine: the embedded warehouse file
    (DuckDB, SQLite) and the local bronze folders (object-store prefixes are not looked at:
    listing them costs a request and their absence is introspect's to report)."""
    config = workspace.config
    found: list[Path] = []
    url = config.warehouse.url or ""
    scheme, sep, rest = url.partition(":///")
    if sep and scheme.split("+")[0] in ("duckdb", "sqlite") and rest.startswith("/"):
        found.append(Path(rest.partition("?")[0]))
    for source in config.files:
        scheme_, sep_, _ = source.path.partition("://")
        if not sep_ or scheme_.lower() == "file":
            path = Path(source.path.removeprefix("file://"))
            found.append(path if path.is_absolute() else config.root / path)
    return found


def _present(path: Path) -> bool:
    """A file that exists, or a folder holding at least one entry."""
    return path.is_file() or (path.is_dir() and any(path.iterdir()))


def _fingerprint_inputs(root: Path, script: Path) -> str:
    """What the pipeline is run from: its script and the project's models and SQL."""
    parts = [_file_digest(script)]
    for folder in ("dbt", "sql", "models"):
        parts.append(_tree_digest(root / folder))
    return _digest(parts)


def _tree_digest(folder: Path) -> str:
    if not folder.is_dir():
        return ""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "target" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(_file_digest(path).encode())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
