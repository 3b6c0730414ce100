"""Entry points: one contract file, a folder of them, a GE validation result.

The format is told by the content, not the name: ODCS by ``apiVersion`` / ``kind:
DataContract``, a Great Expectations suite by its ``expectations`` list, anything else is
the seed's shape. A file that cannot be read is one error with its file and line; in a
folder it becomes one ``ParseIssue`` and the other files are still read.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime, timezone
from pathlib import Path

from lineage.contracts import Contract
from lineage.model import DatasetId, ParseIssue
from lineage.views import CheckResult
from parsers.contracts.context import Context
from parsers.contracts.document import (
    ContractError,
    Document,
    load_document,
    load_json_document,
)
from parsers.contracts.great_expectations import is_suite, read_results, read_suite
from parsers.contracts.odcs import is_odcs, read_odcs
from parsers.contracts.seed import read_seed

__all__ = [
    "CONTRACT_SUFFIXES",
    "load_contracts",
    "read_contract",
    "read_contracts",
    "read_validation_results",
]

CONTRACT_SUFFIXES = (".yaml", ".yml", ".json")
# Format markers before the extension are not part of the binding stem:
# ``erp_cust_az12.odcs.yaml`` binds like ``erp_cust_az12.yaml``.
_STEM_MARKERS = re.compile(r"\.(?:odcs|contract|datacontract|expectations|suite)$", re.IGNORECASE)


def load_contracts(path: str | Path) -> tuple[list[Contract], list[ParseIssue]]:
    """Every contract in one file (ODCS holds one per schema object) and the problems
    with single items (an unknown rule, an unknown expectation), which did not stop the
    rest of the file.

    Raises:
        ContractError: the file cannot be read or is not a contract at all.
    """
    doc = _document(Path(path))
    ctx = Context(doc)
    stem = _STEM_MARKERS.sub("", Path(path).stem)
    if is_odcs(doc.value):
        contracts = read_odcs(ctx, stem)
    elif is_suite(doc.value):
        contracts = [read_suite(ctx, stem)]
    else:
        contracts = [read_seed(ctx, stem)]
    return contracts, ctx.issues


def read_contract(path: str | Path, *, issues: list[ParseIssue] | None = None) -> Contract:
    """The one contract in ``path``.

    Problems with single items are appended to ``issues`` when given; without it they
    raise (the error's ``contract`` holds what was read, ``issues`` every problem).

    Raises:
        ContractError: the file is unreadable, holds several contracts (an ODCS file with
            several schema objects: use ``load_contracts``), or has problems and no
            ``issues`` list was given.
    """
    contracts, found = load_contracts(path)
    if len(contracts) != 1:
        raise ContractError(f"holds {len(contracts)} contracts (one per schema object); "
                            "read it with load_contracts", file=str(path))
    if issues is not None:
        issues.extend(found)
    elif found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ContractError(found[0].message + more, file=found[0].file, line=found[0].line,
                            contract=contracts[0], issues=tuple(found))
    return contracts[0]


def read_contracts(folder: str | Path) -> tuple[list[Contract], list[ParseIssue]]:
    """Every contract below ``folder`` (``*.yaml``, ``*.yml``, ``*.json``, in name order;
    hidden folders skipped; runbooks and other non-contract files ignored) and every
    problem, each naming its file and line. A broken file costs only itself."""
    root = Path(folder)
    contracts: list[Contract] = []
    issues: list[ParseIssue] = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).parts
        if (path.suffix.lower() not in CONTRACT_SUFFIXES or not path.is_file()
                or any(part.startswith(".") for part in relative)):
            continue
        try:
            found, problems = load_contracts(path)
        except ContractError as exc:
            issues.extend(exc.issues or (ParseIssue(exc.message, line=exc.line,
                                                    file=exc.file or str(path)),))
            continue
        contracts += found
        issues += problems
    return contracts, issues


def read_validation_results(
    path: str | Path, dataset: DatasetId, *, sensitive: Collection[str] = ()
) -> list[CheckResult]:
    """A Great Expectations validation result file as check results of ``dataset``.

    The run time comes from the result's ``meta.run_id`` / ``validation_time``, else the
    file's modification time; samples of ``sensitive`` columns are left out.

    Raises:
        ContractError: the file cannot be read or is no validation result.
    """
    file = Path(path)
    doc = _document(file)
    modified = datetime.fromtimestamp(file.stat().st_mtime, tz=timezone.utc)
    return read_results(doc, dataset, observed_at=modified, sensitive=sensitive)


def _document(path: Path) -> Document:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"cannot read the file: {exc}", file=str(path)) from None
    try:
        return load_document(text, str(path))
    except ContractError:
        if path.suffix.lower() != ".json":
            raise
        return load_json_document(text, str(path))  # JSON that YAML refuses (tabs ...)
