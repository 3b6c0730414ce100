"""Names of unaliased output expressions, as each engine names them.

``CREATE TABLE o AS SELECT COUNT(*), a + 1 FROM s`` makes columns whose names the
engine invents; sqlglot calls them ``_col_0``, ``_col_1`` everywhere. The catalog's
columns must match what ``lineage introspect`` later reads from the warehouse, so the
statement's final output columns take the engine's own name where it is known::

    postgres / redshift  count        ?column?      (function name; ?column? otherwise)
    snowflake            COUNT(*)     A + 1         (the text as written, upper-cased)
    mysql / sqlite       COUNT(*)     a + 1         (the text as written)
    duckdb               count_star() (a + 1)       (DuckDB's own rendering)
    spark / databricks   count(1)     (a + 1)       (Spark's rendering)
    hive                 _c0          _c1           (position among all output columns)
    trino / presto       _col0        _col1         (position among all output columns)
    bigquery             f0_          f1_           (counting the unnamed columns)

Only the final output is renamed (inner derived tables keep sqlglot's names), only
unaliased non-column projections are touched, and ``_col_N`` stays where the rule is
unknown or the engine refuses the statement (BigQuery, Trino and T-SQL reject a CREATE
whose column has no name: a warning says so). ``docs/sql-lineage.md`` states each rule.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.tokenizer_core import Token, TokenType

from lineage.model.sql_text import sql_text
from parsers.sql.output_renderers import duckdb_name, postgres_name, spark_name

__all__ = ["RAW_TEXT_DIALECTS", "NamedOutputs", "SourceText", "name_outputs", "output_select"]

#: Dialects whose names are the projection's text as written (the cache key then
#: includes the raw text, since reformatting changes the names).
RAW_TEXT_DIALECTS = frozenset({"snowflake", "mysql", "sqlite"})

_POSITIONAL = {"hive": "_c{}", "trino": "_col{}", "presto": "_col{}", "athena": "_col{}"}
#: Engines that refuse a CREATE TABLE AS / VIEW whose output column has no name.
_REJECT_UNNAMED = {
    "bigquery": "BigQuery",
    "trino": "Trino",
    "presto": "Presto",
    "athena": "Athena",
    "tsql": "T-SQL",
}
_DEDUPE = {"duckdb": "{}_{}", "sqlite": "{}:{}"}
_STRUCTURAL = {
    "postgres": postgres_name,
    "redshift": postgres_name,
    "duckdb": duckdb_name,
    "spark": spark_name,
    "spark2": spark_name,
    "databricks": spark_name,
}
_RULES: tuple[Collection[str], ...] = (_POSITIONAL, _REJECT_UNNAMED, _STRUCTURAL, RAW_TEXT_DIALECTS)
_CLAUSE_END = frozenset(
    {
        TokenType.FROM,
        TokenType.INTO,
        TokenType.WHERE,
        TokenType.GROUP_BY,
        TokenType.HAVING,
        TokenType.WINDOW,
        TokenType.QUALIFY,
        TokenType.ORDER_BY,
        TokenType.LIMIT,
        TokenType.UNION,
        TokenType.EXCEPT,
        TokenType.INTERSECT,
        TokenType.FETCH,
        TokenType.OFFSET,
        TokenType.SEMICOLON,
    }
)


@dataclass(frozen=True)
class SourceText:
    """A statement's text and tokens; a token at ``start`` is ``text[start - offset]``."""

    text: str
    offset: int
    tokens: Sequence[Token]


@dataclass
class NamedOutputs:
    """Engine names picked before qualification, applied after it (``apply``)."""

    select: exp.Select
    names: dict[int, str | None]
    dialect: str
    creates: bool

    def apply(self) -> list[str]:
        """Rename the qualified output select's generated aliases; the warnings."""
        warnings: list[str] = []
        pattern = _POSITIONAL.get(self.dialect)
        taken: set[str] = set()
        pending: list[tuple[exp.Expr, int, str | None]] = []
        unnamed = 0
        for position, projection in enumerate(self.select.expressions):
            inner = projection.this if isinstance(projection, exp.Alias) else projection
            if id(inner) not in self.names or not isinstance(projection, exp.Alias | exp.Subquery):
                taken.add(projection.alias_or_name.lower())
                continue
            name = self.names[id(inner)]
            if pattern is not None:
                name = pattern.format(position)
            elif self.dialect == "bigquery":
                name = f"f{unnamed}_"
            unnamed += 1
            pending.append((projection, position, name))
        engine = _REJECT_UNNAMED.get(self.dialect)
        if self.creates and engine is not None and pending:
            positions = ", ".join(str(p + 1) for _, p, _ in pending)
            warnings.append(
                f"{engine} rejects a CREATE whose column has no name (column {positions}); "
                "the column keeps a generated name"
            )
            return warnings
        for projection, position, name in pending:
            if name is None:
                continue
            name = self._unique(name, taken, position, warnings)
            if name is None:
                continue
            taken.add(name.lower())
            _rename(projection, name)
        return warnings

    def _unique(self, name: str, taken: set[str], position: int, warnings: list[str]) -> str | None:
        if name.lower() not in taken:
            return name
        suffix = _DEDUPE.get(self.dialect)
        if suffix is not None:  # the engine numbers repeats itself (verified on both)
            count = 1
            while suffix.format(name, count).lower() in taken:
                count += 1
            return suffix.format(name, count)
        if self.creates:
            warnings.append(
                f"output column {position + 1} would repeat the name {name!r}, "
                "which the engine rejects in a CREATE; it keeps a generated name"
            )
        return None


def output_select(query: exp.Expr) -> exp.Select | None:
    """The SELECT whose projections name a query's output (a UNION's first branch)."""
    node: exp.Expr | None = query
    while node is not None and not isinstance(node, exp.Select):
        if isinstance(node, exp.SetOperation | exp.Subquery):
            node = node.this
        else:
            return None
    return node


def name_outputs(
    query: exp.Expr, dialect: str | None, creates: bool, source: SourceText | None
) -> NamedOutputs | None:
    """The engine's names of ``query``'s unaliased output expressions, before qualification.

    Args:
        query: the statement's query, not yet qualified (text-based names need the
            columns as written).
        dialect: the sqlglot dialect name.
        creates: whether the output becomes a new table or view (CREATE ... AS).
        source: the statement's text and tokens, for names that are the text as written.

    Returns:
        None when nothing needs naming (the common case: every projection has a name).
    """
    select = output_select(query)
    if select is None or dialect is None:
        return None
    unnamed = [(i, p) for i, p in enumerate(select.expressions) if _needs_name(p)]
    if not unnamed:
        return None
    if not any(dialect in rules for rules in _RULES):
        return None  # the engine's rule is unknown: sqlglot's names stay
    structural = _STRUCTURAL.get(dialect)
    texts = _projection_texts(select, source) if dialect in RAW_TEXT_DIALECTS else None
    names: dict[int, str | None] = {}
    for index, projection in unnamed:
        name: str | None = None
        if structural is not None:
            name = structural(projection, source)
        elif dialect in RAW_TEXT_DIALECTS:
            text = texts[index] if texts is not None else sql_text(projection, dialect)
            name = text.upper() if dialect == "snowflake" else text
        names[id(projection)] = name
    return NamedOutputs(select, names, dialect, creates)


def _needs_name(projection: exp.Expr) -> bool:
    """Whether a projection's name is the engine's to invent (no alias, not a column)."""
    node = projection
    while isinstance(node, exp.Paren):
        node = node.this
    return not isinstance(node, (exp.Alias, exp.Column, exp.Dot, exp.Star, exp.Aliases)) and not (
        isinstance(node, exp.Subquery) and node.alias
    )


def _rename(projection: exp.Expr, name: str) -> None:
    identifier = exp.to_identifier(name, quoted=True)
    if isinstance(projection, exp.Subquery):
        projection.set("alias", exp.TableAlias(this=identifier))
    else:
        projection.set("alias", identifier)


def _projection_texts(select: exp.Select, source: SourceText | None) -> list[str] | None:
    """Each projection's text as written, from the statement's tokens; None if unsure.

    The SELECT keyword is found from a token inside the first positioned projection (the
    nearest SELECT not inside a bracket passed on the way back); the list ends at the
    first clause keyword at its own depth. The split is trusted only if it yields one
    piece per projection and each projection's positioned tokens fall in its piece.
    """
    if source is None:
        return None
    tokens = source.tokens
    anchors = [_positions(p) for p in select.expressions]
    first = next((a for a in anchors if a), None)
    if first is None:
        return None
    index = bisect_left(tokens, first[0], key=_token_start)  # tokens are in text order
    if index >= len(tokens) or tokens[index].start != first[0]:
        return None
    depth = low = 0
    while index >= 0:
        token = tokens[index]
        if token.token_type == TokenType.R_PAREN:
            depth += 1
        elif token.token_type == TokenType.L_PAREN:
            depth -= 1
            low = min(low, depth)
        elif token.token_type == TokenType.SELECT and depth == low:
            break
        index -= 1
    else:
        return None
    keyword = tokens[index]
    if source.text[keyword.start - source.offset : keyword.end - source.offset + 1].upper() != (
        "SELECT"
    ):
        return None  # the tokens are not this text's (offsets from another script)
    pieces: list[list[Token]] = [[]]
    depth = 0
    for token in tokens[index + 1 :]:
        kind = token.token_type
        if depth == 0 and (kind in _CLAUSE_END or kind == TokenType.R_PAREN):
            break
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            depth -= 1
        if depth == 0 and kind == TokenType.COMMA:
            pieces.append([])
            continue
        pieces[-1].append(token)
    while pieces[0] and pieces[0][0].token_type in (TokenType.DISTINCT, TokenType.ALL):
        pieces[0].pop(0)
    if len(pieces) != len(select.expressions) or not all(pieces):
        return None
    texts = []
    for piece, anchor in zip(pieces, anchors, strict=True):
        begin, end = piece[0].start, piece[-1].end
        if anchor and not (begin <= anchor[0] and anchor[-1] <= end):
            return None
        texts.append(source.text[begin - source.offset : end - source.offset + 1])
    return texts


def _token_start(token: Token) -> int:
    return token.start


def _positions(node: exp.Expr) -> list[int]:
    """Token start offsets sqlglot recorded inside ``node``, sorted."""
    found = [n.meta["start"] for n in node.walk() if n._meta and "start" in n._meta]
    return sorted(found)
