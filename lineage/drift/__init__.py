"""Schema drift: a baseline schema against an observed one, as typed changes graded by one
declarative table (``kinds.SEVERITY``), with their impact through column lineage.

Pure core (``lineage.model``, ``errors``, ``views``, ``graph``, ``contracts`` only);
sqlglot loads on the first type comparison. ``lineage.workspace.drift`` wires baselines
and observations from the site, the catalog and contracts; ``lineage drift`` prints it.

- ``kinds``: ``ChangeKind``, ``DriftSeverity``, ``SEVERITY``, ``Change``;
- ``types``: types compared per dialect through sqlglot data types;
- ``diff``: ``DatasetSchema`` and the diff, the rename heuristic;
- ``promises``: contract constraints a schema can no longer satisfy;
- ``consumers``: ``SELECT *`` and positional INSERTs in the jobs' SQL;
- ``impact``: ``assess`` (impact, escalation, order), ``DriftFinding``, ``DriftReport``;
- ``baseline``: ``schema.json`` and contracts as baselines; ``render``: Markdown, GitHub;
- ``runtime``: run-time drift (a run's outputs against the documented schemas).
"""

from __future__ import annotations

from lineage.drift.baseline import (
    SCHEMA_FORMAT,
    contract_schema,
    read_schema_document,
    schema_document,
)
from lineage.drift.diff import RENAME_THRESHOLD, DatasetSchema, diff_datasets, diff_schemas
from lineage.drift.impact import (
    DriftFinding,
    DriftImpact,
    DriftReport,
    Reached,
    assess,
    one_hop_inputs,
)
from lineage.drift.kinds import (
    ESCALATIONS,
    SEVERITY,
    Change,
    ChangeKind,
    DriftSeverity,
    parse_kind,
    severity_of,
)
from lineage.drift.promises import contract_changes
from lineage.drift.render import to_github, to_markdown
from lineage.drift.runtime import (
    ON_DRIFT_POLICIES,
    ON_DRIFT_TAG,
    UNDOCUMENTED_OBSERVERS,
    breaking_findings,
    documented_schema,
    documented_version,
    drift_summary,
    observed_schema,
    parse_on_drift,
    phrase,
    run_baseline,
    run_observer,
)
from lineage.drift.types import (
    TypeVerdict,
    compare_families,
    compare_types,
    dialect_of,
    type_family,
)

__all__ = [
    "ESCALATIONS",
    "ON_DRIFT_POLICIES",
    "ON_DRIFT_TAG",
    "RENAME_THRESHOLD",
    "SCHEMA_FORMAT",
    "SEVERITY",
    "UNDOCUMENTED_OBSERVERS",
    "Change",
    "ChangeKind",
    "DatasetSchema",
    "DriftFinding",
    "DriftImpact",
    "DriftReport",
    "DriftSeverity",
    "Reached",
    "TypeVerdict",
    "assess",
    "breaking_findings",
    "compare_families",
    "compare_types",
    "contract_changes",
    "contract_schema",
    "dialect_of",
    "diff_datasets",
    "diff_schemas",
    "documented_schema",
    "documented_version",
    "drift_summary",
    "observed_schema",
    "one_hop_inputs",
    "parse_kind",
    "parse_on_drift",
    "phrase",
    "read_schema_document",
    "run_baseline",
    "run_observer",
    "schema_document",
    "severity_of",
    "to_github",
    "to_markdown",
    "type_family",
]
