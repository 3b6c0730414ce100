"""The docs site for the workspace: contracts, runbook notes and open drift, handed to
``docs_site.build_site`` (which reads no configuration itself).

The build time shown on the site is the time of the catalog's newest fact, not the wall
clock, so building an unchanged catalog again gives the same site byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.config import ProjectConfig
from lineage.model import DatasetId, ParseIssue

if TYPE_CHECKING:
    from docs_site.build import SiteReport
    from lineage.catalog import Catalog
    from lineage.contracts import Contract
    from lineage.workspace import Workspace

__all__ = ["DocsBuild", "build_docs", "catalog_time", "docs_folder", "runbook_notes"]


@dataclass(frozen=True)
class _Finding:
    """An open drift finding as the site shows it."""

    dataset: DatasetId
    column: str | None
    kind: str
    severity: str
    message: str
    impact: tuple[str, ...]


@dataclass
class DocsBuild:
    """What ``build_docs`` built, and the contracts it could not read."""

    site: SiteReport
    issues: list[ParseIssue]

    def __str__(self) -> str:
        site = self.site
        return (f"{site.pages} pages, {site.datasets} datasets, {site.columns} columns, "
                f"{site.files} files, {site.bytes / 1e6:.1f} MB")  # fmt: skip


def docs_folder(config: ProjectConfig, out: Path | None = None) -> Path:
    """``out``, else ``docs.output`` of lineage.yml, else ``site/`` at the project root."""
    if out is not None:
        return out
    return config.docs.output or config.root / "site"


def runbook_notes(
    config: ProjectConfig, contracts: list[tuple[DatasetId, Contract]]
) -> dict[DatasetId, str]:
    """The Markdown note next to each contract file (``<stem>.md``), by dataset."""
    from lineage.workspace.checks import contracts_folder

    folder = contracts_folder(config)
    notes: dict[DatasetId, str] = {}
    for dataset, contract in contracts:
        written = Path(contract.source.file)
        candidates = [written.with_name(f"{contract.stem}.md")]
        if not written.is_absolute():
            candidates += [config.root / candidates[0], folder / f"{contract.stem}.md"]
        for path in candidates:
            if path.is_file():
                notes.setdefault(dataset, path.read_text(encoding="utf-8"))
                break
    return notes


def catalog_time(catalog: Catalog) -> datetime:
    """When the catalog last learnt something (the epoch for an empty catalog)."""
    return catalog.last_changed_at() or datetime(1970, 1, 1, tzinfo=timezone.utc)


def build_docs(
    workspace: Workspace,
    out: Path | None = None,
    *,
    title: str = "Silverline",
    base_url: str | None = None,
    now: datetime | None = None,
) -> DocsBuild:
    """Build the site of the workspace's catalog with its contracts, runbook notes and
    open drift findings."""
    from docs_site.build import build_site
    from lineage.workspace.checks import load_contracts

    bound, issues = load_contracts(workspace.catalog, workspace.config)
    contracts = [(b.dataset, b.contract) for b in bound]
    drift = [_finding(f) for f in workspace.catalog.drift_findings(open_only=True)]
    site = build_site(
        workspace.catalog, docs_folder(workspace.config, out), title=title, base_url=base_url,
        contracts=contracts, runbook_notes=runbook_notes(workspace.config, contracts),
        drift=drift, now=now or catalog_time(workspace.catalog),
    )  # fmt: skip
    return DocsBuild(site, issues)


def _finding(stored: Any) -> _Finding:
    impact = stored.details.get("impact") or {}
    reached = [*impact.get("columns", ()), *impact.get("datasets", ())]
    return _Finding(
        dataset=stored.dataset, column=stored.column, kind=stored.kind,
        severity=stored.severity, message=stored.message,
        impact=tuple(str(r.get("node", "")) for r in reached if isinstance(r, dict)),
    )  # fmt: skip
