"""SQL scripts -> column-level lineage, with sqlglot.

>>> result = parse_sql(
...     "INSERT INTO silver.customers SELECT cid AS customer_id FROM bronze.cust",
...     dialect="redshift",
... )
>>> result.statements[0].column_lineage[0].field_map()["customer_id"][0].field
'cid'

``parse_sql`` never raises for bad SQL: a statement that does not parse gets an error
with its line, column and text, and the rest of the script is still analysed. That
includes hostile nesting: a statement deeper than ``max_depth`` brackets or CASEs is
refused before sqlglot recurses into it (deep enough, its compiled code segfaults), and a
RecursionError while parsing or tracing costs only its statement. Results
are cached by statement fingerprint, dialect, defaults and schema, so a statement seen
again (query logs repeat themselves) costs a dictionary lookup.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError
from sqlglot.tokenizer_core import Token

from lineage.errors import ConfigError
from lineage.model import (
    ParseIssue,
    ParseWarning,
    ScriptLineage,
    SqlContext,
    StatementKind,
    StatementLineage,
)
from parsers.sql.options import DEFAULT_MAX_DEPTH, DEFAULT_MAX_STATEMENT_BYTES
from parsers.sql.output_names import RAW_TEXT_DIALECTS, SourceText
from parsers.sql.procedures import ProcedurePiece, Unanalysed, expand_procedures
from parsers.sql.redact import redact_statement
from parsers.sql.schema import SchemaRegistry
from parsers.sql.split import StatementText, split_statements, too_deep
from parsers.sql.statements import ScriptState, analyze_statement

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_STATEMENT_BYTES",
    "SUPPORTED_DIALECTS",
    "clear_cache",
    "export_cache",
    "import_cache",
    "lookup_script",
    "parse_sql",
    "store_script",
]

# Dialects the test suite proves; any other sqlglot dialect name is accepted too.
SUPPORTED_DIALECTS = (
    "redshift",
    "postgres",
    "snowflake",
    "bigquery",
    "spark",
    "databricks",
    "hive",
    "duckdb",
    "mysql",
    "tsql",
    "trino",
)

_CACHE_SIZE = 50_000
_cache: OrderedDict[tuple[str, ...], StatementLineage] = OrderedDict()
_scripts: OrderedDict[tuple[str, ...], tuple[StatementLineage, ...]] = OrderedDict()


class _CommandFallbackFilter(logging.Filter):
    """sqlglot logs a warning when it falls back to an opaque Command; we report it ourselves."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_CommandFallbackFilter())


def clear_cache() -> None:
    """Forget every cached statement and script result."""
    _cache.clear()
    _scripts.clear()


def parse_sql(
    sql: str,
    dialect: str | None = None,
    schema: Mapping[str, Any] | SchemaRegistry | None = None,
    default_database: str | None = None,
    default_schema: str | None = None,
    namespace: str | None = None,
    file: str | None = None,
    *,
    context: SqlContext | None = None,
    max_depth: int | None = DEFAULT_MAX_DEPTH,
    max_statement_bytes: int | None = DEFAULT_MAX_STATEMENT_BYTES,
) -> ScriptLineage:
    """The lineage of every statement of a SQL script.

    Args:
        sql: one or more statements separated by semicolons.
        dialect: a sqlglot dialect name (``redshift``, ``snowflake``, ``bigquery``, ...).
        schema: known tables: ``{"db.schema.table" | "schema.table" | "table": {column: type}}``.
        default_database: database for names that lack one.
        default_schema: schema for names that lack one.
        namespace: OpenLineage namespace of the tables (default: the dialect's name).
        file: where the script came from, reported on each statement.
        context: dialect, namespace and defaults as one value; ``dialect``,
            ``default_database``, ``default_schema`` and ``namespace``, when given, win
            over its values.
        max_depth: nesting (brackets and CASE) beyond which a statement is an error and
            is not parsed; None: no limit (sqlglot may then crash the interpreter).
        max_statement_bytes: size of a statement's text (UTF-8) beyond which it is an
            error and is not parsed; None: no limit.

    Returns:
        A ``ScriptLineage`` with one ``StatementLineage`` per statement.

    Raises:
        ConfigError: for an unknown dialect or a malformed ``schema`` (never for bad SQL).
    """
    context = (context or SqlContext()).updated(
        dialect=dialect,
        namespace=namespace,
        default_database=default_database,
        default_schema=default_schema,
    )
    try:
        sqlglot_dialect = Dialect.get_or_raise(context.dialect)
    except ValueError as exc:
        raise ConfigError(f"unknown SQL dialect {context.dialect!r}") from exc
    registry = _registry_for(schema)
    # A script seen before (query logs repeat verbatim) skips even tokenizing.
    script_key = _script_key(sql, context, registry)
    seen = _cached_script(script_key, file) if _fits(sql, max_statement_bytes) else None
    if seen is not None:
        return seen
    state = ScriptState(registry)
    statements: list[StatementLineage] = []
    pieces = expand_procedures(split_statements(sql, sqlglot_dialect), sql, sqlglot_dialect)
    for index, item in enumerate(pieces):
        if isinstance(item, Unanalysed):
            # Part of a procedural body reported, not analysed (parsers.sql.procedures).
            noted = _unanalysed(item, context.dialect, index, file)
            statements.append(redact_statement(noted, item.piece, sqlglot_dialect))
            continue
        piece = item.piece if isinstance(item, ProcedurePiece) else item
        if not _fits(piece.text, max_statement_bytes):
            oversized = _too_large(piece, context.dialect, max_statement_bytes)
            statements.append(replace(oversized, index=index, file=file, line=piece.line))
            continue
        # Names as written (parsers.sql.output_names) make the text itself part of the key.
        raw = context.dialect in RAW_TEXT_DIALECTS
        key = (_fingerprint(piece, raw), *context.key, registry.fingerprint, state.fingerprint)
        result = _cache.get(key)
        if result is None:
            result = _analyze(piece, sqlglot_dialect, context, state, max_depth)
            if result.ok:
                _cache[key] = result
                if len(_cache) > _CACHE_SIZE:
                    _cache.popitem(last=False)
        if isinstance(item, ProcedurePiece) and item.note is not None:
            result = replace(result, warnings=(*result.warnings, ParseWarning(item.note)))
        if isinstance(item, ProcedurePiece) and item.procedure is not None:
            result = replace(result, procedure=item.procedure)
        state.apply(result)
        # Secrets leave the stored text (and errors) here; the lineage is already traced.
        if isinstance(item, ProcedurePiece) and item.original is not None:
            piece = replace(piece, text=item.original)  # report the statement as written
        placed = replace(result, index=index, file=file, line=piece.line, sql=piece.text)
        statements.append(redact_statement(placed, piece, sqlglot_dialect))
    script = ScriptLineage(tuple(statements))
    _remember_script(script_key, script)
    return script


def _unanalysed(
    item: Unanalysed, dialect: str | None, index: int, file: str | None
) -> StatementLineage:
    piece = item.piece
    return StatementLineage(
        index=index,
        kind=StatementKind.OTHER,
        dialect=dialect,
        confidence=item.confidence,
        warnings=(ParseWarning(item.message),) if item.message else (),
        file=file,
        line=piece.line,
        sql=piece.text,
        procedure=item.procedure,
    )


def _fits(text: str, limit: int | None) -> bool:
    """Whether ``text`` is at most ``limit`` bytes of UTF-8 (encoded only when in doubt)."""
    if limit is None or len(text) * 4 <= limit:
        return True
    return len(text) <= limit and len(text.encode("utf-8", "surrogatepass")) <= limit


def _too_large(piece: StatementText, dialect: str | None, limit: int | None) -> StatementLineage:
    """A statement refused for its size: its error, with its first line, and no text kept."""
    size = len(piece.text.encode("utf-8", "surrogatepass"))
    message = f"statement of {size} bytes exceeds the {_size_label(limit or 0)} budget; not parsed"
    text = (piece.text[:200].splitlines() or [""])[0]
    return _error(dialect, ParseIssue(message, piece.line, piece.column, text))


def _size_label(size: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("KB", 1_000)):
        if size >= scale and size % (scale // 10) == 0:
            return f"{size / scale:g} {unit}"
    return f"{size} bytes"


def _cached_script(key: tuple[str, ...], file: str | None) -> ScriptLineage | None:
    seen = _scripts.get(key)
    if seen is None:
        return None
    _scripts.move_to_end(key)
    return ScriptLineage(tuple(replace(s, file=file) for s in seen))


def _remember_script(key: tuple[str, ...], result: ScriptLineage) -> None:
    # Only scripts that parsed completely: an error's position belongs to one occurrence.
    if not all(statement.ok for statement in result.statements):
        return
    _scripts[key] = tuple(replace(s, file=None) for s in result.statements)
    if len(_scripts) > _CACHE_SIZE:
        _scripts.popitem(last=False)


def _script_key(sql: str, context: SqlContext, registry: SchemaRegistry) -> tuple[str, ...]:
    # The same tuple as before the context was one value: saved caches stay valid.
    digest = hashlib.blake2b(sql.encode(), digest_size=16).hexdigest()
    return (digest, *context.key, registry.fingerprint)


def lookup_script(
    sql: str,
    context: SqlContext,
    schema: Mapping[str, Any] | SchemaRegistry | None = None,
    file: str | None = None,
) -> ScriptLineage | None:
    """``parse_sql``'s cached result for these arguments, or None without parsing.

    Lets a caller that fans out over processes send only the misses to its workers.
    """
    return _cached_script(_script_key(sql, context, _registry_for(schema)), file)


def store_script(
    result: ScriptLineage,
    sql: str,
    context: SqlContext,
    schema: Mapping[str, Any] | SchemaRegistry | None = None,
) -> None:
    """Remember a result a worker process computed with ``parse_sql`` for these arguments."""
    _remember_script(_script_key(sql, context, _registry_for(schema)), result)


def export_cache() -> dict[tuple[str, ...], tuple[StatementLineage, ...]]:
    """The script-level cache, to persist between runs (see ``import_cache``)."""
    return dict(_scripts)


def import_cache(entries: Mapping[tuple[str, ...], tuple[StatementLineage, ...]]) -> int:
    """Add results saved by ``export_cache`` (same Silverline and sqlglot versions only).

    Returns the number of entries added. A re-scan of an unchanged project then costs a
    hash per file instead of a parse.
    """
    added = 0
    for key, statements in entries.items():
        if key not in _scripts:
            _scripts[key] = statements
            added += 1
    while len(_scripts) > _CACHE_SIZE:
        _scripts.popitem(last=False)
    return added


_registries: OrderedDict[int, tuple[Mapping[str, Any], SchemaRegistry]] = OrderedDict()


def _registry_for(schema: Mapping[str, Any] | SchemaRegistry | None) -> SchemaRegistry:
    """Normalise a schema once per mapping object, not once per call.

    Query-log scans call ``parse_sql`` once per statement with the same schema dict;
    rebuilding and hashing a warehouse-sized schema each time would dominate. A dict
    passed again is taken as unchanged: after changing one in place, pass a new dict or
    a ``SchemaRegistry``.
    """
    if isinstance(schema, SchemaRegistry):
        return schema
    if schema is None:
        return _EMPTY_REGISTRY
    hit = _registries.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    registry = SchemaRegistry(schema)
    _registries[id(schema)] = (schema, registry)  # holding the mapping keeps its id unique
    if len(_registries) > 8:
        _registries.popitem(last=False)
    return registry


_EMPTY_REGISTRY = SchemaRegistry()


def _fingerprint(piece: StatementText, raw: bool = False) -> str:
    # Tokens, not raw text: reformatting or comments do not change the fingerprint.
    if piece.tokens is not None and not raw:
        text = "\x1f".join(f"{t.token_type.value}\x1e{t.text}" for t in piece.tokens)
    else:
        text = piece.text
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _analyze(
    piece: StatementText,
    sqlglot_dialect: Dialect,
    context: SqlContext,
    state: ScriptState,
    max_depth: int | None,
) -> StatementLineage:
    dialect = context.dialect
    try:
        # Without the script's tokens (it did not tokenize whole), the statement's own.
        if piece.tokens is not None:
            tokens = list(piece.tokens)
        else:
            tokens = sqlglot_dialect.tokenize(piece.text)
        deep = too_deep(tokens, max_depth) if max_depth is not None else None
        if deep is not None:
            return _too_deep(piece, dialect, f"nesting deeper than {max_depth} levels", deep)
        parser = sqlglot_dialect.parser(error_level=ErrorLevel.RAISE)
        expressions = parser.parse(tokens, piece.text)
        if piece.tokens is not None and any(isinstance(e, exp.Command) for e in expressions):
            # A Command keeps the raw text sliced by token offsets, which are the script's:
            # re-read the statement from its own tokens (Commands are rare).
            expressions = parser.parse(sqlglot_dialect.tokenize(piece.text), piece.text)
    except (ParseError, TokenError) as exc:
        return _failed(piece, dialect, exc)
    except (TypeError, ValueError, AttributeError) as exc:
        # sqlglot's compiled parser type-checks its own nodes: BigQuery's q."ID" (a string
        # after a dot) fails there with a TypeError instead of a ParseError.
        message = f"the SQL parser failed: {type(exc).__name__}: {exc}"
        text = (piece.text[:200].splitlines() or [""])[0]
        return _error(dialect, ParseIssue(message, piece.line, piece.column, text))
    except RecursionError:
        return _too_deep(piece, dialect, "nesting too deep for the SQL parser", None)
    expression = next((e for e in expressions if e is not None), None)
    if expression is None:
        return StatementLineage(index=0, kind=StatementKind.OTHER, dialect=dialect)
    try:
        offset = piece.start if piece.tokens is not None else 0
        source = SourceText(piece.text, offset, tokens)
        return analyze_statement(expression, context=context, state=state, source=source)
    except (SqlglotError, RecursionError, KeyError, ValueError, TypeError, AttributeError) as exc:
        # A sqlglot corner we do not handle must not cost the rest of the script.
        message = f"lineage analysis failed: {type(exc).__name__}: {exc}"
        return _error(dialect, ParseIssue(message, piece.line, piece.column, piece.text[:200]))


_TOKEN_REPR = re.compile(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: \d+.*?>")


def _describe_token(match: re.Match[str]) -> str:
    return "end of statement" if match.group(1) == "SENTINEL" else repr(match.group(2))


def _failed(piece: StatementText, dialect: str | None, exc: Exception) -> StatementLineage:
    details = getattr(exc, "errors", None) or [{}]
    first = details[0]
    line, column = _position(piece, first.get("line"), first.get("col"))
    text = first.get("highlight") or piece.text.splitlines()[0][:200]
    message = _TOKEN_REPR.sub(_describe_token, first.get("description") or str(exc).splitlines()[0])
    return _error(dialect, ParseIssue(message, line, column, text))


def _too_deep(
    piece: StatementText, dialect: str | None, message: str, token: Token | None
) -> StatementLineage:
    """A statement not parsed for its nesting, located at the token past the limit."""
    if token is None:
        line, column = piece.line, piece.column
    else:
        line, column = _position(piece, token.line, max(token.col - len(token.text) + 1, 1))
    text = (piece.text[:200].splitlines() or [""])[0]
    issue = ParseIssue(f"{message}; the statement was not parsed", line, column, text)
    return _error(dialect, issue)


def _position(piece: StatementText, line: int | None, column: int | None) -> tuple[int, int]:
    """Script line and column of a position sqlglot gives (the statement's own, if re-tokenized)."""
    if not line:
        return piece.line, column or piece.column
    if piece.tokens is not None:
        return line, column or piece.column
    # Tokenized from the statement's own text: positions are relative to it.
    if line == 1:
        return piece.line, piece.column + (column or 1) - 1
    return piece.line + line - 1, column or piece.column


def _error(dialect: str | None, issue: ParseIssue) -> StatementLineage:
    return StatementLineage(
        index=0, kind=StatementKind.UNKNOWN, dialect=dialect, confidence=0.0, errors=(issue,)
    )
