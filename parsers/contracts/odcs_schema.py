"""Validating an Open Data Contract Standard v3 document, each violation with its line.

Two layers, both from the ``open-data-contract-standard`` package: its shipped JSON Schema
(``schema.json``: required fields, enums, types, no unknown keys) and its pydantic model
(``OpenDataContractStandard``, where every field is optional, so required fields are
only caught by the JSON Schema). The model runs only when the schema found nothing, so
one mistake is reported once.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

from lineage.model import ParseIssue
from parsers.contracts.document import Document, Path

__all__ = ["odcs_violations"]

_UNEXPECTED = re.compile(r"'([^']+)' (?:was|were) unexpected")
_REQUIRED = re.compile(r"'([^']+)' is a required property")
_MAX_MESSAGE = 300


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema  # type: ignore[import-untyped]

    schema = json.loads(
        resources.files("open_data_contract_standard").joinpath("schema.json").read_text("utf-8"))
    _require_if_keys(schema)
    return jsonschema.validators.validator_for(schema)(schema)


def _require_if_keys(node: Any) -> None:
    """Make ``if: {properties: {logicalType: {const: map}}}`` need ``logicalType``.

    The package's schema (3.2.0) omits ``required`` in those conditions, so a property
    without ``logicalType`` matches the ``map`` branch and is told it needs a ``map``
    key. The intent is plainly "if logicalType is map": the condition is completed in
    memory with the keys it tests.
    """
    if isinstance(node, dict):
        if isinstance(node.get("if"), dict):
            _complete_condition(node["if"])
        for child in node.values():
            _require_if_keys(child)
    elif isinstance(node, list):
        for child in node:
            _require_if_keys(child)


def _complete_condition(condition: dict[str, Any]) -> None:
    """Add the tested keys to ``required`` in a condition and its anyOf / oneOf parts."""
    if "required" not in condition:
        tested = [key for key, rule in (condition.get("properties") or {}).items()
                  if isinstance(rule, dict) and "const" in rule]
        if tested:
            condition["required"] = tested
    for key in ("anyOf", "oneOf", "allOf"):
        for part in condition.get(key) or []:
            if isinstance(part, dict):
                _complete_condition(part)


def odcs_violations(doc: Document) -> list[ParseIssue]:
    """Every way ``doc`` breaks ODCS v3, each naming the file, line and document path.

    The package's schema (v3.2) no longer requires ``status``; v3.0 and v3.1 did, so a
    document declaring one of those versions must have it.
    """
    found = [_schema_issue(doc, error) for error in
             sorted(_validator().iter_errors(doc.value), key=lambda e: list(map(str, e.path)))]
    value = doc.value
    if (isinstance(value, dict) and "status" not in value
            and str(value.get("apiVersion", "")).startswith(("v3.0.", "v3.1."))):
        found.append(_issue(doc, (), f"missing required key 'status' (required by ODCS "
                                     f"{value['apiVersion']})"))
    issues = list(dict.fromkeys(found))  # nested schemas report one unknown key per level
    if issues:
        return issues
    from open_data_contract_standard.model import OpenDataContractStandard
    from pydantic import ValidationError

    try:
        OpenDataContractStandard.model_validate(doc.value)
    except ValidationError as exc:
        for error in exc.errors():
            path = tuple(p for p in error["loc"] if isinstance(p, str | int))
            issues.append(_issue(doc, path, str(error["msg"])))
    return issues


def _schema_issue(doc: Document, error: Any) -> ParseIssue:
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

    if error.context:  # oneOf / anyOf: the branch that came closest says the most
        error = best_match(error.context) or error
    path: Path = tuple(error.absolute_path)
    message = str(error.message)
    required = _REQUIRED.fullmatch(message)
    if required:
        message = f"missing required key {required.group(1)!r}"
    unexpected = _UNEXPECTED.search(message)
    if unexpected and isinstance(error.instance, dict) and unexpected.group(1) in error.instance:
        path = (*path, unexpected.group(1))
        message = f"unknown key {unexpected.group(1)!r}"
    return _issue(doc, path, message)


def _issue(doc: Document, path: Path, message: str) -> ParseIssue:
    where = "/".join(str(p) for p in path) or "(document)"
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."
    return ParseIssue(f"not a valid ODCS v3 contract at {where}: {message}",
                      line=doc.line(path), file=doc.file)
