"""Breaking schema drift as DataHub incidents: one incident per change, ACTIVE until fixed.

Each stored drift finding (``Catalog.drift_findings``) graded ``breaking`` becomes an
``incident`` entity with one aspect, ``incidentInfo`` (DataHub's incident entity has no
``status`` aspect; GMS refuses one)::

    type        DATA_SCHEMA (a schema problem on the dataset)
    title       "Breaking schema change: " + the finding's message
    description the message, the comparison (baseline against what observed it) and the
                impact: downstream columns and datasets, jobs, owners, contracts
    entities    [the dataset's URN]
    priority    1 (HIGH)
    source      MANUAL (raised through the API, by Silverline's drift check)
    created     when the change was first seen, by the push's actor; startedAt the same
    status      ACTIVE while the finding is open;
                RESOLVED, stage FIXED, once the change is no longer observed;
                RESOLVED, stage NO_ACTION_REQUIRED, once acknowledged (the stamp names who
                acknowledged it, as a corpuser)

The URN is ``urn:li:incident:silverline-<digest of the finding's key>`` (kind, dataset,
column, old and new value, contract: what identifies a change across runs), so a finding
seen again, resolved or reopened updates the same incident. The same change reported by
several comparisons is one incident, ACTIVE while any of them has it open. Incidents are
pushed like every other aspect: once when they appear and once when their state changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from datahub.metadata import schema_classes as sc

from connectors.datahub import events
from connectors.datahub.context import BuildContext
from connectors.datahub.settings import actor_urn
from lineage.catalog.drift import StoredDrift
from lineage.errors import ConfigError

__all__ = ["BREAKING", "IncidentAspects", "incident_info", "incident_urn"]

#: The drift severity that raises an incident.
BREAKING = "breaking"
_PRIORITY_HIGH = 1
_LISTED = 20  # names listed per impact line before "and N more"


def incident_urn(finding: StoredDrift) -> str:
    """The stable URN of the incident of ``finding`` (from the finding's key)."""
    return f"urn:li:incident:silverline-{_digest(_key(finding))}"


def incident_info(
    finding: StoredDrift, dataset_urn: str, actor: str, *, active: bool
) -> sc.IncidentInfoClass:
    """``incidentInfo`` of one finding: ACTIVE, or RESOLVED (fixed or acknowledged)."""
    started = events.millis(finding.first_seen_at)
    if active:
        status = sc.IncidentStatusClass(
            state=sc.IncidentStateClass.ACTIVE,
            lastUpdated=sc.AuditStampClass(time=started, actor=actor),
        )
    elif finding.resolved_at is not None:
        status = sc.IncidentStatusClass(
            state=sc.IncidentStateClass.RESOLVED,
            stage=sc.IncidentStageClass.FIXED,
            message="No longer observed by the drift check.",
            lastUpdated=sc.AuditStampClass(time=events.millis(finding.resolved_at), actor=actor),
        )
    else:
        moment = finding.acknowledged_at or finding.last_seen_at
        who = _user(finding.acknowledged_by) or actor
        status = sc.IncidentStatusClass(
            state=sc.IncidentStateClass.RESOLVED,
            stage=sc.IncidentStageClass.NO_ACTION_REQUIRED,
            message=f"Acknowledged by {finding.acknowledged_by}."
            if finding.acknowledged_by
            else "Acknowledged.",
            lastUpdated=sc.AuditStampClass(time=events.millis(moment), actor=who),
        )
    return sc.IncidentInfoClass(
        type=sc.IncidentTypeClass.DATA_SCHEMA,
        title=f"Breaking schema change: {finding.message}",
        description=_description(finding),
        entities=[dataset_urn],
        priority=_PRIORITY_HIGH,
        source=sc.IncidentSourceClass(type=sc.IncidentSourceTypeClass.MANUAL),
        status=status,
        created=sc.AuditStampClass(time=started, actor=actor),
        startedAt=started,
    )


class IncidentAspects(BuildContext):
    """Builds the incidents of breaking drift findings."""

    def _incidents(self, findings: Sequence[StoredDrift]) -> None:
        groups: dict[str, list[StoredDrift]] = {}
        for finding in findings:
            if finding.severity == BREAKING:
                groups.setdefault(incident_urn(finding), []).append(finding)
        for urn in sorted(groups):
            # Newest first within a key: an open one says ACTIVE, else the latest says how
            # it ended. Sorted here, not trusted from the read order, for stable aspects.
            found = sorted(groups[urn], key=lambda f: (f.last_seen_at, f.id), reverse=True)
            opened = [f for f in found if f.open]
            finding = (opened or found)[0]
            info = incident_info(
                finding, self.urn(finding.dataset), self.settings.actor, active=bool(opened)
            )
            self._emit(urn, info)


def _key(finding: StoredDrift) -> str:
    """What identifies the change across runs: the same parts as ``Change.key``."""
    details = finding.details
    parts = (finding.kind, str(finding.dataset), finding.column or "",
             _text(details.get("old")), _text(details.get("new")),
             _text(details.get("contract")))  # fmt: skip
    return "\x1f".join(parts)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _user(name: str | None) -> str | None:
    """The corpuser URN of who acknowledged a finding, when the name makes one."""
    if not name:
        return None
    try:
        return actor_urn(name)
    except ConfigError:
        return None


def _description(finding: StoredDrift) -> str:
    impact = finding.details.get("impact")
    lines = [
        finding.message,
        "",
        f"Found by Silverline's drift check: {finding.baseline} against "
        f"{finding.observed_by} (kind {finding.kind}).",
    ]
    if isinstance(impact, Mapping):
        reached = [*_nodes(impact.get("columns")), *_nodes(impact.get("datasets"))]
        for label, values in (
            ("Breaks downstream", reached),
            ("Jobs reading it", _names(impact.get("jobs"))),
            ("Owners to tell", _names(impact.get("owners"))),
            ("Contracts that may fail", _names(impact.get("contracts"))),
            ("Positional consumers", _names(impact.get("positional_consumers"))),
        ):
            if values:
                lines.append(f"{label}: {_listed(values)}.")
    return "\n".join(lines)


def _nodes(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    out = []
    for node in value:
        if isinstance(node, Mapping) and node.get("node"):
            hops = node.get("distance")
            out.append(f"{node['node']} ({node.get('type', 'INDIRECT')}, {hops} hop"
                       f"{'' if hops == 1 else 's'})")  # fmt: skip
    return out


def _names(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _listed(values: Iterable[str]) -> str:
    items = list(values)
    shown = ", ".join(items[:_LISTED])
    return shown if len(items) <= _LISTED else f"{shown} and {len(items) - _LISTED} more"
