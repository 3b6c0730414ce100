"""``lineage build``: the whole loop, one step after another, each reading and writing the
catalog only.

pipeline (the project's decorated jobs) -> scan (SQL, dbt) -> introspect (warehouse,
files) -> profile -> check (contracts, tests) -> push (DataHub Lite and an MCP file) ->
docs (the site and its ``schema.json``) -> drift (live vs the previous site's
``schema.json``). A step that fails is reported and costs only the steps that need its
output. A second build with nothing changed changes nothing: the pipeline and the
figures are fingerprinted, unchanged datasets are not pushed, the site is rebuilt from an
unchanged catalog byte for byte.
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

__all__ = ["STEPS", "BuildReport", "StepResult", "run_build"]

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

    def to_dict(self) -> dict[str, Any]:
        return {"failed": self.failed, "steps": [s.to_dict() for s in self.steps]}


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
    """Run the steps (all, or ``only``, minus ``skip``); see the module's docstring."""
    unknown = sorted(set(only) | set(skip) - set(STEPS))
    if unknown:
        raise InputError(f"unknown build step(s) {', '.join(unknown)}; steps: {', '.join(STEPS)}")
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
        fingerprint = _fingerprint_inputs(self.root, section.script)
        key = str(self.root)
        catalog = self.workspace.catalog
        if not self.force and catalog.sync_state(_PIPELINE_STATE, key) == fingerprint:
            return StepResult("pipeline", "skipped", summary="up to date (inputs unchanged)")
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
        catalog.record_sync_state(_PIPELINE_STATE, key, fingerprint)
        self.new_data = True
        last = done.stdout.strip().splitlines()[-1:] or [""]
        return StepResult("pipeline", "ok", summary=last[0], look_at="lineage runs")

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
        if not report.observations:
            return StepResult("introspect", "failed", summary="; ".join(map(str, issues)))
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

        pipeline = self.workspace.catalog.sync_state(_PIPELINE_STATE, str(self.root)) or ""
        contracts = _tree_digest(contracts_folder(self.workspace.config))
        live = sorted(
            (str(d), s.fingerprint) for d, s in self.workspace.catalog.live_schemas().items()
        )
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

        if self._figures_up_to_date():
            return StepResult("check", "skipped", summary="up to date (no new data)")
        report = self.workspace.check()
        counts = summarize(report.results)
        self.workspace.catalog.record_sync_state(_FIGURES_STATE, str(self.root),
                                                 self._figures_key())  # fmt: skip
        failing = counts.get(CheckStatus.FAILED, 0) + counts.get(CheckStatus.ERROR, 0)
        text = ", ".join(f"{n} {s.value.replace('_', ' ')}" for s, n in counts.items() if n)
        return StepResult(
            "check", "failed" if failing else "ok",
            summary=(text or "no checks") + (f", {len(report.issues)} contract issues"
                                             if report.issues else ""),
            look_at="lineage check" if failing else "",
            details={"results": len(report.results), "issues": [str(i) for i in report.issues]},
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
        breaking = found.count_at_least(self.fail_on_drift)
        return StepResult(
            "drift", "failed" if breaking else "ok", summary=found.summary(),
            look_at="lineage drift --baseline site/" if found.changes else "",
            details=found.to_dict(),
        )  # fmt: skip


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
