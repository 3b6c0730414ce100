"""Secret literals out of a statement's stored SQL: COPY credentials, passwords, keys.

A statement's text goes to the catalog, the parse cache, OpenLineage ``sql`` facets and
DataHub's ``queryStatement``; a ``COPY ... CREDENTIALS '...'`` or ``CREATE USER ...
PASSWORD '...'`` must reach none of them. Only the stored text is redacted: lineage is
traced from the original tree first, so it does not change. The string operand of a
secret keyword (sqlglot's tree where it names the node: ``exp.Credentials``, a
``CopyParameter`` or ``Property`` keyed ``AWS_SECRET_KEY``...; the tokens for statements
kept as an opaque ``Command``) becomes ``'***'``; other strings lose their
``password=...`` parts (dblink connection strings); text that does not even tokenize goes
through ``lineage.model.redact_text``. A fast pre-check keeps ordinary statements free.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, SqlglotError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

from lineage.model import MASK, SQL_SECRET_KEYWORDS, ParseIssue, StatementLineage, redact_text
from parsers.sql.split import StatementText

__all__ = ["redact_statement"]

# Words any secret shape contains; a statement without one is returned untouched.
_SUSPECT = re.compile(
    r"pass|pwd|secret|credential|token|_key|key_|identified|authoriz|bearer|://[^\s'\"]*@"
    r"|crypt|hmac|aes_",
    re.IGNORECASE,
)
_STRINGS = frozenset({
    TokenType.STRING, TokenType.RAW_STRING, TokenType.NATIONAL_STRING,
    TokenType.HEREDOC_STRING, TokenType.UNICODE_STRING, TokenType.BYTE_STRING,
})
_QUOTED_MASK = f"'{MASK}'"
_QUOTES = frozenset("'\"$`")
# Functions whose string arguments are keys or passphrases: decrypt(col, 'key'),
# pgp_sym_encrypt(x, 'pass'), hmac(x, 'key', 'sha256'), Snowflake ENCRYPT(v, 'pass'),
# MySQL AES_ENCRYPT(s, 'key'). Every string argument is masked (a plaintext too: cheap).
_KEYED_FUNCTIONS = frozenset({
    "encrypt", "decrypt", "encrypt_raw", "decrypt_raw", "try_decrypt", "try_decrypt_raw",
    "aes_encrypt", "aes_decrypt", "des_encrypt", "des_decrypt", "pgp_sym_encrypt",
    "pgp_sym_decrypt", "pgp_sym_encrypt_bytea", "pgp_sym_decrypt_bytea", "pgp_pub_encrypt",
    "pgp_pub_decrypt", "hmac", "crypt",
})
# Words between a secret keyword and its string: PASSWORD = '...', IDENTIFIED BY '...'.
_LINKS = frozenset({"=", "AS", "BY"})


def redact_statement(
    statement: StatementLineage, piece: StatementText, dialect: Dialect
) -> StatementLineage:
    """``statement`` with secrets masked in its ``sql`` (``piece``'s text) and its errors."""
    text = piece.text
    if not _SUSPECT.search(text):
        return statement
    tokens, offset = _tokens(piece, dialect)
    if tokens is None:
        return _with_sql(statement, redact_text(text), set())
    spans = set(_keyword_spans(tokens))
    if statement.ok:  # an error may be a nesting too deep to parse again
        spans.update(_tree_spans(tokens, text, dialect))
    inner = dict(_string_spans(tokens))
    pieces: list[str] = []
    secrets: set[str] = set()
    cursor = 0
    for start, end in sorted(spans | inner.keys()):
        begin, stop = start - offset, end - offset + 1
        if begin < cursor or begin < 0 or stop > len(text):
            continue
        original = text[begin:stop]
        if (start, end) in spans and original[:1] in _QUOTES and original[-1:] in _QUOTES:
            masked = _QUOTED_MASK
            secrets.add(inner.get((start, end), original))
        else:
            masked = redact_text(original)
        pieces += [text[cursor:begin], masked]
        cursor = stop
    pieces.append(text[cursor:])
    return _with_sql(statement, "".join(pieces), secrets)


def _tokens(piece: StatementText, dialect: Dialect) -> tuple[Sequence[Token] | None, int]:
    """The statement's tokens and the offset their positions count from."""
    if piece.tokens is not None:
        return piece.tokens, piece.start
    try:
        return dialect.tokenize(piece.text), 0
    except TokenError:
        return None, 0


def _string_spans(tokens: Sequence[Token]) -> Iterator[tuple[tuple[int, int], str]]:
    """Where each string token is, and its content.

    A statement kept as a command (``UNLOAD ...`` in Redshift) is one string token after
    the command's keyword, with an unreliable start: it runs from the keyword to the end.
    """
    for index, token in enumerate(tokens):
        if token.token_type not in _STRINGS:
            continue
        before = tokens[index - 1] if index else None
        if before is not None and before.token_type == TokenType.COMMAND:
            yield (before.end + 1, token.end), token.text
        else:
            yield (token.start, token.end), token.text


def _keyword_spans(tokens: Sequence[Token]) -> Iterator[tuple[int, int]]:
    """Strings that follow a secret keyword (``PASSWORD 'x'``, ``IDENTIFIED BY 'x'``)."""
    for index, token in enumerate(tokens):
        if token.token_type not in _STRINGS:
            continue
        back = index - 1
        while back >= 0 and tokens[back].text.upper() in _LINKS:
            back -= 1
        if back < 0:
            continue
        word = tokens[back].text.upper()
        linked = back < index - 1
        # IDENTIFIED BY '...', IDENTIFIED WITH plugin BY|AS '...' (MySQL)
        identified = linked and any(
            t.text.upper() == "IDENTIFIED" for t in tokens[max(back - 2, 0) : back + 1]
        )
        if word in SQL_SECRET_KEYWORDS or identified:
            yield token.start, token.end


def _tree_spans(tokens: Sequence[Token], text: str, dialect: Dialect) -> Iterator[tuple[int, int]]:
    """String literals the parsed tree names as credentials."""
    try:
        parser = dialect.parser(error_level=ErrorLevel.IGNORE)
        trees = [e for e in parser.parse(list(tokens), text) if e is not None]
    except (SqlglotError, RecursionError, ValueError, TypeError, KeyError):
        return
    for tree in trees:
        for node in tree.walk():
            for literal in _secret_literals(node):
                start, end = literal.meta.get("start"), literal.meta.get("end")
                if isinstance(start, int) and isinstance(end, int):
                    yield start, end


def _secret_literals(node: exp.Expr) -> Iterator[exp.Literal]:
    if isinstance(node, exp.Credentials):
        credentials = node.args.get("credentials")
        for part in credentials if isinstance(credentials, list) else [credentials]:
            if isinstance(part, exp.Property):
                part = part.args.get("value")
            if isinstance(part, exp.Literal):
                yield part
    elif isinstance(node, exp.CredentialsProperty):
        yield from (v for v in node.find_all(exp.Literal) if v.is_string)
    elif isinstance(node, exp.Func) and _function_name(node) in _KEYED_FUNCTIONS:
        yield from (a for a in node.find_all(exp.Literal) if a.is_string)
    elif isinstance(node, (exp.CopyParameter, exp.Property)) and node.name.upper() in (
        SQL_SECRET_KEYWORDS
    ):
        value = node.args.get("value", node.args.get("expression"))
        if isinstance(value, exp.Literal) and value.is_string:
            yield value


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _with_sql(statement: StatementLineage, sql: str, secrets: set[str]) -> StatementLineage:
    errors = tuple(_scrub_issue(issue, secrets) for issue in statement.errors)
    return replace(statement, sql=sql, errors=errors)


def _scrub_issue(issue: ParseIssue, secrets: set[str]) -> ParseIssue:
    """An error's message and text quote the statement: the same secrets go."""

    def scrub(value: str) -> str:
        for secret in sorted((s for s in secrets if s and s != MASK), key=len, reverse=True):
            value = value.replace(secret, MASK)
        return redact_text(value)

    text = scrub(issue.text) if issue.text is not None else None
    return replace(issue, message=scrub(issue.message), text=text)
