"""Shared helpers for the golden tests of the SQL column-lineage parser.

A fixture is a ``.sql`` file whose first lines are ``-- key: value`` headers::

    -- dialect: redshift
    -- schema: {"bronze.erp_cust_az12": {"cid": "varchar(50)", "gen": "char(1)"}}
    -- default_database: dev
    -- default_schema: public
    -- description: one line saying what the case proves
    <SQL, possibly several statements>

with its expected output in the ``.json`` of the same stem: ``{"statements": [...]}``,
one object per statement holding only the compared keys (see ``project_statement``).
The expectations follow ``docs/sql-lineage.md``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lineage.model import StatementLineage

__all__ = [
    "COMPARED_KEYS",
    "HEADER_KEYS",
    "OPTIONAL_KEYS",
    "dumps",
    "load_expected",
    "load_sql_fixture",
    "only_statement",
    "parse_kwargs",
    "project_script",
    "project_statement",
]

#: Header keys a fixture may use; anything else is a typo and rejected.
HEADER_KEYS = frozenset(
    {"dialect", "schema", "default_database", "default_schema", "namespace", "description"}
)
#: Keys of ``StatementLineage.to_dict()`` that golden files compare.
COMPARED_KEYS = ("kind", "inputs", "outputs", "columnLineage")
#: Extra keys an expected statement may carry.
OPTIONAL_KEYS = ("ambiguous", "errors")

_HEADER = re.compile(r"^--\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")


def load_sql_fixture(path: str | Path) -> tuple[dict[str, Any], str]:
    """Read a fixture: its ``-- key: value`` headers and its SQL.

    Headers are the leading lines of the form ``-- key: value``; ``schema`` is parsed as
    JSON. The SQL returned keeps the file's line numbering: header lines are replaced by
    empty lines, so a line reported by the parser is the line in the ``.sql`` file.
    """
    text = Path(path).read_text(encoding="utf-8")
    lines = text.split("\n")
    headers: dict[str, Any] = {}
    n_header = 0
    for line in lines:
        match = _HEADER.match(line)
        if not match or match.group(1).lower() not in HEADER_KEYS:
            break
        key, value = match.group(1).lower(), match.group(2)
        if key in headers:
            raise ValueError(f"{path}: header {key!r} given twice")
        headers[key] = json.loads(value) if key == "schema" else value
        n_header += 1
    sql = "\n".join([""] * n_header + lines[n_header:])
    return headers, sql


def parse_kwargs(headers: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``parse_sql`` given by a fixture's headers."""
    return {
        key: headers[key]
        for key in ("dialect", "schema", "default_database", "default_schema", "namespace")
        if key in headers
    }


def load_expected(path: str | Path) -> dict[str, Any]:
    """The expected ``{"statements": [...]}`` document of a fixture (``.json`` next to it)."""
    path = Path(path)
    if path.suffix == ".sql":
        path = path.with_suffix(".json")
    with path.open(encoding="utf-8") as fh:
        doc: dict[str, Any] = json.load(fh)
    return doc


def _dataset(d: dict[str, Any] | None) -> dict[str, Any] | None:
    """A dataset reference without its facets."""
    if d is None:
        return None
    return {"namespace": d["namespace"], "name": d["name"]}


def project_statement(
    stmt: dict[str, Any], expected: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Project one ``StatementLineage.to_dict()`` onto the keys a golden file compares.

    - ``kind``, ``inputs``, ``outputs`` (without facets), ``columnLineage`` (as is: the
      contract fixes its sort orders). When ``expected`` is given, only those of these
      keys that it holds are kept (a statement that must fail may give only ``kind``).
    - ``ambiguous``: only when ``expected`` has it; the expected columns that some warning
      names in its ``column`` (so a missing one shows up in the diff).
    - ``errors``: ``[{"line": N}, ...]``, present whenever the statement has errors or
      ``expected`` lists some, so an unexpected error always shows up.
    """
    keys = COMPARED_KEYS if expected is None else [k for k in COMPARED_KEYS if k in expected]
    out: dict[str, Any] = {}
    for key in keys:
        if key in ("inputs", "outputs"):
            out[key] = [_dataset(d) for d in stmt.get(key, [])]
        elif key == "columnLineage":
            out[key] = [
                {
                    "output": _dataset(cl.get("output")),
                    "fields": cl.get("fields", {}),
                    "dataset": cl.get("dataset", []),
                }
                for cl in stmt.get(key, [])
            ]
        else:
            out[key] = stmt.get(key)
    if expected is not None and "ambiguous" in expected:
        reported = {w.get("column") for w in stmt.get("warnings", []) if w.get("column")}
        out["ambiguous"] = [c for c in expected["ambiguous"] if c in reported]
    errors = stmt.get("errors") or []
    if errors or (expected is not None and "errors" in expected):
        out["errors"] = [{"line": e.get("line")} for e in errors]
    return out


def project_script(doc: dict[str, Any], expected: dict[str, Any] | None = None) -> dict[str, Any]:
    """Project a whole ``ScriptLineage.to_dict()``, statement by statement."""
    exp_stmts = (expected or {}).get("statements", [])
    stmts = doc.get("statements", [])
    return {
        "statements": [
            project_statement(s, exp_stmts[i] if i < len(exp_stmts) else None)
            for i, s in enumerate(stmts)
        ]
    }


def dumps(doc: Any) -> str:
    """Stable, diff-friendly JSON text (key order never matters in comparisons)."""
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False)


def only_statement(
    sql: str, dialect: str, schema: dict[str, dict[str, str]] | None = None
) -> StatementLineage:
    """The one statement ``sql`` holds, parsed without errors."""
    from parsers.sql import parse_sql

    (statement,) = parse_sql(sql, dialect=dialect, schema=schema).statements
    assert statement.ok, statement.errors
    return statement
