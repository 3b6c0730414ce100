"""One schema for a dataset from the schemas of its files, and what each file disagrees on.

``pyarrow.unify_schemas(promote_options="permissive")`` merges them (``int32`` and
``int64`` become ``int64``, a column missing from some files is kept); when types cannot
be merged (``string`` against ``int64``) the first file's type wins (files in path
order). Either way every file that differs from the result is named in a
``schema_mismatch`` finding; columns of type ``null`` (a CSV sample with no value) are
not a disagreement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lineage.model import DatasetId, Finding, LiveColumn, Severity

__all__ = ["MAX_MISMATCH_FINDINGS", "differences", "live_columns", "mismatch_findings", "unify"]

#: Files named one by one in findings; the rest are summed up in one more finding.
MAX_MISMATCH_FINDINGS = 20


def unify(schemas: Sequence[Any]) -> Any:
    """The unified pyarrow schema of ``schemas`` (at least one)."""
    import pyarrow as pa

    try:
        return pa.unify_schemas(list(schemas), promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError):
        pass
    fields: dict[str, Any] = {}
    for schema in schemas:
        for item in schema:
            known = fields.get(item.name)
            if known is None or pa.types.is_null(known.type):
                fields[item.name] = item if known is None else item.with_nullable(True)
    return pa.schema(list(fields.values()))


def differences(schema: Any, unified: Any) -> list[str]:
    """How a file's ``schema`` differs from the dataset's ``unified`` one, in words."""
    import pyarrow as pa

    out = []
    missing = [name for name in unified.names if schema.get_field_index(name) < 0]
    if missing:
        out.append("missing column" + ("s " if len(missing) > 1 else " ") + ", ".join(missing))
    for item in schema:
        target = unified.field(item.name)
        if pa.types.is_null(item.type) or item.type.equals(target.type):
            continue
        out.append(f"column {item.name} is {item.type} here, {target.type} in the dataset")
    return out


def mismatch_findings(
    dataset: DatasetId, files: Sequence[tuple[str, Any]], unified: Any
) -> list[Finding]:
    """``schema_mismatch`` findings for the ``(file, schema)`` pairs that differ."""
    differing = [(name, diff) for name, schema in files if (diff := differences(schema, unified))]
    findings = [
        Finding(
            dataset=dataset,
            kind="schema_mismatch",
            message=f"{name}: {'; '.join(diff)}",
            severity=Severity.WARNING,
        )
        for name, diff in differing[:MAX_MISMATCH_FINDINGS]
    ]
    if len(differing) > MAX_MISMATCH_FINDINGS:
        findings.append(
            Finding(
                dataset=dataset,
                kind="schema_mismatch",
                message=f"{len(differing) - MAX_MISMATCH_FINDINGS} more files differ "
                f"from the dataset's schema",
                severity=Severity.WARNING,
            )
        )
    return findings


def live_columns(schema: Any, partition_keys: Sequence[str] = ()) -> list[LiveColumn]:
    """``LiveColumn``s of a pyarrow schema, types as pyarrow spells them (``int64``,
    ``timestamp[us, tz=UTC]``); a column named like a partition key is marked so."""
    keys = set(partition_keys)
    return [
        LiveColumn(
            name=item.name,
            type=str(item.type),
            nullable=bool(item.nullable),
            partition=item.name in keys,
        )
        for item in schema
    ]
