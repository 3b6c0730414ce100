"""Token-level reading of procedural SQL, for ``parsers.sql.procedures``.

Keyword sets and small scanners over one statement's tokens: where a condition or an
unterminated T-SQL statement ends, a procedure's name, parameters and body, the variables
a declaration names. Depth counts brackets and CASE ... END, so an END closing a CASE
expression is never taken for the END of a block.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlglot.tokenizer_core import Token, TokenType

__all__ = [
    "BENIGN",
    "BLOCK_OPENERS",
    "CONDITION_ENDS",
    "CREATE_PREFIX",
    "DML",
    "DYNAMIC",
    "END_WORDS",
    "NAMES",
    "PROCEDURE_WORDS",
    "TRANSACTION",
    "body_start",
    "condition_end",
    "declared",
    "depth_walk",
    "language",
    "parameters",
    "procedure_name",
    "select_into",
    "tsql_cut",
]

CREATE_PREFIX = {"OR", "REPLACE", "ALTER", "TEMP", "TEMPORARY", "DEFINER"}
PROCEDURE_WORDS = {"PROC", "PROCEDURE"}
# Statements that carry lineage: analysed by the ordinary statement handlers.
DML = {
    "SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "TRUNCATE", "DROP",
    "ALTER", "COPY", "UNLOAD", "UPSERT", "REPLACE", "(",
}  # fmt: skip
DYNAMIC = {"EXEC", "EXECUTE", "CALL", "SP_EXECUTESQL"}
# Statements without lineage (unless they hide a query, then they are a variable read).
BENIGN = {
    "SET", "DECLARE", "RETURN", "RAISE", "PRINT", "NULL", "COMMIT", "ROLLBACK", "LEAVE",
    "BREAK", "CONTINUE", "ITERATE", "EXIT", "OPEN", "CLOSE", "FETCH", "DEALLOCATE", "GOTO",
    "THROW", "RAISERROR", "USE", "GET", "SAVE", "ASSERT", "GO", "LET",
}  # fmt: skip
TRANSACTION = {"TRAN", "TRANSACTION", "WORK", "DISTRIBUTED", "ISOLATION"}
BLOCK_OPENERS = {"IF", "WHILE", "LOOP", "FOR", "REPEAT", "CASE"}
END_WORDS = {"IF", "LOOP", "WHILE", "FOR", "REPEAT", "CASE", "TRY", "CATCH"}
# Where a condition of IF / WHILE / FOR / WHEN ends.
CONDITION_ENDS = {"THEN", "DO", "LOOP"}
NAMES = (TokenType.VAR, TokenType.IDENTIFIER)
# T-SQL needs no semicolons: a new statement starts at one of these (at depth 0).
_TSQL_STARTS = {
    "INSERT", "UPDATE", "DELETE", "MERGE", "EXEC", "EXECUTE", "DECLARE", "IF", "WHILE",
    "BEGIN", "END", "RETURN", "PRINT", "TRUNCATE", "SET", "ELSE", "DROP", "RAISERROR", "THROW",
}  # fmt: skip
_SET_OPERATORS = {"UNION", "ALL", "EXCEPT", "INTERSECT", "DISTINCT", "MINUS"}
_TSQL_CONDITION_ENDS = _TSQL_STARTS | (DML - {"("})
_NOT_AFTER = {"THEN", "DO", "ON", "FOR", "AND", "OR", "(", "INSTEAD", "NOT", "KEY"}


def procedure_name(tokens: Sequence[Token]) -> str | None:
    words = [t.text.upper() for t in tokens]
    at = next((i for i, w in enumerate(words) if w in PROCEDURE_WORDS), None)
    if at is None:
        return None
    parts: list[str] = []
    for token in tokens[at + 1 :]:
        if token.token_type == TokenType.DOT:
            continue
        if token.token_type in (TokenType.VAR, TokenType.IDENTIFIER) or token.text.isidentifier():
            if parts and tokens[tokens.index(token) - 1].token_type != TokenType.DOT:
                break
            parts.append(token.text)
            continue
        break
    return ".".join(parts) or None


def parameters(tokens: Sequence[Token]) -> set[str]:
    """Names of a procedure's parameters: the first name of each item of its list."""
    at = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.L_PAREN), None)
    names: set[str] = set()
    if at is None:
        return names
    depth, expect = 0, True
    for token in tokens[at:]:
        kind = token.token_type
        if kind == TokenType.L_PAREN:
            depth += 1
            continue
        if kind == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                break
            continue
        if depth != 1:
            continue
        if kind == TokenType.COMMA:
            expect = True
        elif expect and token.text.upper() not in ("IN", "OUT", "INOUT", "VARIADIC"):
            if kind in NAMES:
                names.add(token.text.lower())
            expect = False
    return names


def declared(tokens: Sequence[Token], section: bool) -> set[str]:
    """Variables a declaration names: ``DECLARE a, b INT64``, ``v NUMBER;``, ``LET x := ...``."""
    words = [t.text.upper() for t in tokens]
    if words and words[0] in ("DECLARE", "LET"):
        start = 1
    elif section:
        start = 0
    else:
        return set()
    names: set[str] = set()
    i = start
    while i < len(tokens) and tokens[i].token_type in NAMES:
        names.add(tokens[i].text.lower())
        if i + 1 >= len(tokens) or tokens[i + 1].token_type != TokenType.COMMA:
            break
        i += 2  # name, comma, name ...
    return names


def body_start(tokens: Sequence[Token]) -> int:
    """Index of the first token of the body: after AS/IS, or BEGIN (BigQuery has no AS)."""
    depth = 0
    for i, token in enumerate(tokens):
        kind = token.token_type
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and i > 2:
            word = token.text.upper()
            if word == "BEGIN":
                return i
            if word in ("AS", "IS") and tokens[i - 1].text.upper() != "EXECUTE":
                return i + 1
    return len(tokens)


def language(tokens: Sequence[Token]) -> str | None:
    for i, token in enumerate(tokens[:-1]):
        if token.text.upper() == "LANGUAGE":
            return tokens[i + 1].text.upper()
    return None


def depth_walk(tokens: Sequence[Token]) -> Iterator[tuple[int, int, Token]]:
    """(index, bracket-and-CASE depth, token) for each token."""
    depth = 0
    for i, token in enumerate(tokens):
        kind = token.token_type
        if kind in (TokenType.L_PAREN, TokenType.CASE):
            yield i, depth, token
            depth += 1
            continue
        yield i, depth, token  # a closer still belongs to what it closes
        if kind in (TokenType.R_PAREN, TokenType.END) and depth > 0:
            depth -= 1


def condition_end(tokens: Sequence[Token], tsql: bool) -> int:
    """Index of the token that ends a condition (THEN / DO / LOOP, or T-SQL's next statement)."""
    for i, depth, token in depth_walk(tokens):
        if depth or (i == 0 and tsql):
            continue
        word = token.text.upper()
        if word in CONDITION_ENDS or word == "END" or (tsql and word in _TSQL_CONDITION_ENDS):
            return i
    return len(tokens)


def tsql_cut(tokens: Sequence[Token]) -> int:
    """Index of the token where the T-SQL statement starting ``tokens`` ends (or len)."""
    statement = tokens[0].text.upper()
    takes_select = statement in ("INSERT", "WITH")  # its query is part of it
    for i, depth, token in depth_walk(tokens):
        if i == 0 or depth:
            continue
        word = token.text.upper()
        previous = tokens[i - 1].text.upper()
        if statement == "WITH" and word in ("SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"):
            statement, takes_select = word, word == "INSERT"  # the statement the CTEs serve
            continue
        if statement == "MERGE":
            return len(tokens)  # MERGE must end with a semicolon; its THEN UPDATE is its own
        if word == "VALUES":
            takes_select = False
        if word == "SELECT":
            if takes_select or previous in _SET_OPERATORS:
                takes_select = False
                continue
            return i
        if word not in _TSQL_STARTS or previous in _NOT_AFTER:
            continue
        if word == "SET" and statement == "UPDATE":
            continue
        return i
    return len(tokens)


def select_into(tokens: Sequence[Token]) -> tuple[int, int] | None:
    """(INTO, FROM-or-end) token indexes of a ``SELECT ... INTO vars`` at depth 0."""
    into = None
    for i, depth, token in depth_walk(tokens):
        if depth:
            continue
        if into is None and token.token_type == TokenType.INTO:
            into = i
        elif into is not None and token.token_type in (
            TokenType.FROM,
            TokenType.WHERE,
            TokenType.UNION,
        ):
            return into, i
    if into is not None:
        return into, len(tokens) - 1
    return None
