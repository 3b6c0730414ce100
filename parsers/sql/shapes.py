"""Query shapes rewritten (or flagged) before a statement is bound and traced.

One walk over the parsed statement, before its tables are bound to datasets:

* an unaliased derived table in FROM / JOIN gets an alias of its own (``_q_0``, ...):
  sqlglot's scopes name every source by its alias, and two unaliased ones in one join
  (``FROM (SELECT ...) LEFT JOIN (SELECT ...) USING (f1)``) would collide on ``""``;
* a column named by its table's full name while the table has an alias
  (``SELECT db.t.x FROM db.t AS t1``) is re-pointed at the alias (``t1.x``), which is how
  the engines that accept it resolve it;
* BigQuery partition decorators are dropped from table names: ``p.d.tbl$20240101`` is the
  table ``p.d.tbl`` (a wildcard table ``p.d.events_*`` stays one dataset of that name);
* a set operation whose branches yield different numbers of columns is reported: the
  engine rejects it, and the positional lineage of the columns past the shorter branch is
  a guess.
"""

from __future__ import annotations

from sqlglot import exp

from parsers.sql.sources import is_star

__all__ = ["prepare_shapes"]


def prepare_shapes(expression: exp.Expr, dialect: str | None) -> list[str]:
    """Rewrite ``expression`` in place (see the module docstring); returns warnings."""
    bigquery = dialect == "bigquery"
    warnings: list[str] = []
    derived = 0
    for node in list(expression.walk()):
        if isinstance(node, exp.Column):
            if node.args.get("db") is not None:
                _point_at_alias(node)
        elif isinstance(node, exp.Subquery):
            if not node.alias and isinstance(node.parent, (exp.From, exp.Join)):
                node.set("alias", exp.TableAlias(this=exp.to_identifier(f"_q_{derived}")))
                derived += 1
        elif isinstance(node, exp.Table):
            if bigquery:
                _drop_decorator(node)
        elif isinstance(node, exp.SetOperation):
            message = _branch_mismatch(node)
            if message is not None:
                warnings.append(message)
    return warnings


def _point_at_alias(column: exp.Column) -> None:
    """``db.t.x`` against ``FROM db.t AS t1``: the column of ``t1``."""
    table_name, db, catalog = column.table, column.args["db"].name, column.catalog
    select = column.find_ancestor(exp.Select)
    while select is not None:
        sources = [select.args.get("from_"), *(select.args.get("joins") or ())]
        for source in sources:
            table = source.this if source is not None else None
            if not isinstance(table, exp.Table) or not table.alias:
                continue
            if table.name != table_name or table.db != db:
                continue
            if catalog and table.catalog != catalog:
                continue
            column.set("table", exp.to_identifier(table.alias))
            column.set("db", None)
            column.set("catalog", None)
            return
        select = select.find_ancestor(exp.Select)


def _drop_decorator(table: exp.Table) -> None:
    """``tbl$20240101`` (a partition of ``tbl``) is ``tbl``."""
    identifier = table.this
    if not isinstance(identifier, exp.Identifier):
        return
    base, dollar, suffix = identifier.name.partition("$")
    if dollar and base and suffix:
        table.set("this", exp.to_identifier(base, quoted=identifier.quoted))


def _branch_mismatch(node: exp.SetOperation) -> str | None:
    counts = []
    for branch in (node.left, node.right):
        while isinstance(branch, exp.Subquery):
            branch = branch.this
        if isinstance(branch, exp.SetOperation):
            branch = branch.left  # its own branches are checked on their own
            while isinstance(branch, (exp.Subquery, exp.SetOperation)):
                branch = branch.this if isinstance(branch, exp.Subquery) else branch.left
        if not isinstance(branch, exp.Select) or any(is_star(p) for p in branch.selects):
            return None
        counts.append(len(branch.selects))
    left, right = counts
    if left == right:
        return None
    operator = type(node).__name__.upper()
    return (
        f"{operator} branches yield {left} and {right} columns (the engine rejects this);"
        f" columns are matched by position, only the first {min(left, right)} from every branch"
    )
