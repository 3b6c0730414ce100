"""How the jobs the catalog knows read a dataset: ``SELECT *`` and positional INSERTs.

Best effort over the SQL the catalog keeps of each job (``Job.sql``): a job whose SQL
selects ``*`` (or ``t.*``) from the dataset picks up added and loses removed columns
without a word; a job that INSERTs into the dataset without a column list, or inserts a
``SELECT *`` of it, breaks on any change of column count or order. A job without SQL (a
Python job, an ingested event) or whose SQL does not parse is an *unknown* consumer: said,
not guessed. sqlglot loads on the first job read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lineage.model import DatasetId, Job

__all__ = ["SqlUse", "sql_use"]


@dataclass(frozen=True)
class SqlUse:
    """What one job's SQL does with one dataset; ``known`` is False without usable SQL."""

    known: bool
    star: bool = False  # selects * from it
    positional: bool = False  # INSERTs into it without a column list, or inserts its *


def sql_use(job: Job, dataset: DatasetId, dialect: str | None) -> SqlUse:
    """How ``job`` reads or writes ``dataset``."""
    if not job.sql or not job.sql.strip():
        return SqlUse(known=False)
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        statements = [s for s in sqlglot.parse(job.sql, read=dialect) if s is not None]
    except SqlglotError:
        return SqlUse(known=False)
    star = positional = False
    for statement in statements:
        for select in statement.find_all(exp.Select):
            if _star_over(select, dataset, exp):
                star = True
        for insert in statement.find_all(exp.Insert):
            target = insert.this
            if isinstance(target, exp.Schema):
                continue  # a column list: order and count of the target do not matter
            if isinstance(target, exp.Table) and _names(target, dataset):
                positional = True
            source = insert.expression
            if isinstance(source, exp.Select) and _star_over(source, dataset, exp):
                positional = True
    return SqlUse(known=True, star=star, positional=positional)


def _star_over(select: Any, dataset: DatasetId, exp: Any) -> bool:
    """Whether ``select`` projects ``*`` (or ``alias.*``) of a table that is ``dataset``."""
    stars = [
        p
        for p in select.expressions
        if isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star))
    ]
    if not stars:
        return False
    tables: list[Any] = []
    source = select.args.get("from_") or select.args.get("from")
    if source is not None and isinstance(source.this, exp.Table):
        tables.append(source.this)
    tables.extend(j.this for j in select.args.get("joins") or () if isinstance(j.this, exp.Table))
    for star in stars:
        qualifier = star.table if isinstance(star, exp.Column) else ""
        for table in tables:
            if qualifier and qualifier.lower() not in (table.alias_or_name.lower(),
                                                       table.name.lower()):  # fmt: skip
                continue
            if _names(table, dataset):
                return True
    return False


def _names(table: Any, dataset: DatasetId) -> bool:
    """Whether a table reference names ``dataset`` (``bronze.t`` names ``erp.bronze.t``)."""
    parts = [p for p in (table.catalog, table.db, table.name) if p]
    ref = ".".join(parts).lower()
    name = dataset.name.lower()
    return bool(ref) and (name == ref or name.endswith("." + ref))
