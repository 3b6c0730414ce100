"""Split a SQL script into statements, keeping where each one starts.

The dialect's own tokenizer decides what a semicolon is (not one inside a string, a
comment or a dollar-quoted body). When the script does not even tokenize (an
unterminated string, say), a quote-aware character scan splits it instead, so one
broken statement never hides the others. ``too_deep`` reads the same tokens to refuse a
statement nested deeper than sqlglot's recursive parser and optimizer survive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType

__all__ = ["StatementText", "split_statements", "too_deep"]


@dataclass(frozen=True)
class StatementText:
    """One statement's text, its 1-based start line and column, and its tokens if known."""

    text: str
    start: int
    line: int
    column: int
    tokens: tuple[Token, ...] | None


def split_statements(sql: str, dialect: Dialect) -> list[StatementText]:
    """Statements of ``sql`` in order; empty statements (``;;``) are dropped."""
    try:
        tokens = dialect.tokenize(sql)
    except TokenError:
        return _split_by_scan(sql, dialect)
    statements: list[StatementText] = []
    chunk: list[Token] = []
    for token in [*tokens, None]:
        if token is not None and token.token_type != TokenType.SEMICOLON:
            chunk.append(token)
            continue
        if chunk:
            first, last = chunk[0], chunk[-1]
            start = first.start
            statements.append(
                StatementText(
                    text=sql[start : last.end + 1],
                    start=start,
                    line=first.line,
                    column=max(first.col - len(first.text) + 1, 1),
                    tokens=tuple(chunk),
                )
            )
        chunk = []
    return statements


def _split_by_scan(sql: str, dialect: Dialect) -> list[StatementText]:
    statements: list[StatementText] = []
    quote: str | None = None
    start = 0
    i = 0
    length = len(sql)
    while i < length:
        char = sql[i]
        if quote is not None:
            if char == quote:
                quote = None
        elif char in ("'", '"', "`"):
            quote = char
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = length if newline < 0 else newline
            continue
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            i = length if close < 0 else close + 2
            continue
        elif char == ";":
            _append_piece(statements, sql, start, i)
            start = i + 1
        i += 1
    _append_piece(statements, sql, start, length)
    return statements


def _append_piece(statements: list[StatementText], sql: str, start: int, end: int) -> None:
    piece = sql[start:end]
    stripped = piece.lstrip()
    if not stripped.strip():
        return
    offset = start + len(piece) - len(stripped)
    line = sql.count("\n", 0, offset) + 1
    column = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    statements.append(StatementText(stripped.rstrip(), offset, line, column, None))


# What opens and closes a level of sqlglot's recursion: brackets of every kind and CASE.
_DEPTH_STEP = {
    TokenType.L_PAREN: 1,
    TokenType.L_BRACKET: 1,
    TokenType.L_BRACE: 1,
    TokenType.CASE: 1,
    TokenType.R_PAREN: -1,
    TokenType.R_BRACKET: -1,
    TokenType.R_BRACE: -1,
    TokenType.END: -1,
}


def too_deep(tokens: Iterable[Token], limit: int) -> Token | None:
    """The first token nested deeper than ``limit`` levels, or None.

    sqlglot parses and qualifies recursively, partly in compiled code that overflows the
    C stack (a segfault, not a RecursionError) a few thousand levels down; one pass over
    the tokens, before parsing, costs about a tenth of tokenizing.
    """
    depth = 0
    step_of = _DEPTH_STEP.get
    for token in tokens:
        step = step_of(token.token_type)
        if step is None:
            continue
        depth = max(depth + step, 0)  # a stray closer (END of a block) opens nothing
        if depth > limit:
            return token
    return None
