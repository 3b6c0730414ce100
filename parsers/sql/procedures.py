"""Procedural bodies: stored procedures and script blocks, statement by statement.

A procedure is not one statement: its body holds the DML that runs when it is called.
``expand_procedures`` replaces, in the list of statements ``split_statements`` found,

* ``CREATE [OR REPLACE | OR ALTER] PROC[EDURE] ... AS BEGIN ... END`` (T-SQL, Oracle
  PL/SQL, BigQuery), whose semicolons the splitter took for statement ends;
* ``CREATE PROCEDURE ... AS $$ ... $$`` / ``AS '...'`` (Snowflake scripting, Postgres and
  Redshift PL/pgSQL), whose body is one string token;
* script blocks at the top level (BigQuery scripting, T-SQL): ``BEGIN ... END``,
  ``IF ... THEN ... END IF``, ``WHILE``, ``LOOP``, ``FOR``, ``REPEAT``;

by the statements of the body: each DML statement (INSERT, UPDATE, MERGE, DELETE, CTAS,
SELECT) as a piece of its own, analysed like any other, and each statement that cannot be
analysed (a control-flow condition, dynamic SQL, a variable assigned from a query, PL
code sqlglot does not know) as an ``Unanalysed`` note: a warning, lowered confidence.
Declarations, ``SET`` of a variable without a query, ``RETURN``, ``RAISE``, ``COMMIT`` and
the like carry no lineage and are dropped. A named procedure keeps one header entry
(``CREATE PROCEDURE name``) that says how much of its body was not analysed.

Boundaries come from the dialect's tokenizer, never from regexes over the raw text: each
segment is re-tokenized after a structural keyword is stripped, because sqlglot's
tokenizer folds the rest of a "command" (BigQuery's ``BEGIN``, T-SQL's ``END``) into one
string token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType

from lineage.model import redact_text
from parsers.sql.procedure_tokens import (
    BENIGN,
    BLOCK_OPENERS,
    CONDITION_ENDS,
    CREATE_PREFIX,
    DML,
    DYNAMIC,
    END_WORDS,
    NAMES,
    PROCEDURE_WORDS,
    TRANSACTION,
    body_start,
    condition_end,
    declared,
    language,
    parameters,
    procedure_name,
    select_into,
    tsql_cut,
)
from parsers.sql.split import StatementText, split_statements

__all__ = ["UNANALYSED_CONFIDENCE", "ProcedurePiece", "Unanalysed", "expand_procedures"]

#: Confidence of a statement of a procedural body that was not analysed.
UNANALYSED_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Unanalysed:
    """A part of a procedural body reported as a warning instead of lineage."""

    piece: StatementText
    #: The warning; None for a procedure's header whose whole body was analysed.
    message: str | None
    #: Confidence of the entry: lowered when lineage may be missing, 1.0 for a header
    #: whose whole body was analysed.
    confidence: float = UNANALYSED_CONFIDENCE
    #: The procedure it belongs to (named procedures only; not anonymous script blocks).
    procedure: str | None = None


@dataclass(frozen=True)
class ProcedurePiece:
    """A statement of a procedural body, analysed as usual, with a note to add as a warning."""

    piece: StatementText
    note: str | None = None
    #: The statement as written, when ``piece`` was rewritten for analysis (variables
    #: replaced by NULL, ``INTO variables`` dropped); reported as the statement's text.
    original: str | None = None
    #: The procedure it belongs to (named procedures only; not anonymous script blocks).
    procedure: str | None = None


Expanded = StatementText | ProcedurePiece | Unanalysed


def expand_procedures(
    pieces: Sequence[StatementText], sql: str, dialect: Dialect
) -> list[Expanded]:
    """``pieces`` with procedures and script blocks replaced by their bodies' statements."""
    out: list[Expanded] = []
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        opening = _opening(piece, dialect) if piece.tokens else None
        if opening is None:
            out.append(piece)
            i += 1
            continue
        walker = _Walker(sql, dialect, opening)
        if opening == "procedure":
            walker.procedure_header(piece)
        else:
            walker.feed(piece.text, piece.start)
        i += 1
        while (walker.depth > 0 or walker.awaiting) and i < len(pieces):
            walker.feed(pieces[i].text, pieces[i].start)
            i += 1
        out.extend(walker.finish())
        if walker.rest is not None and walker.rest[0].strip():
            out.append(walker.piece(walker.rest[1], walker.rest[0]))
    return out


def _of_procedure(item: Expanded, name: str) -> Expanded:
    """``item`` marked as part of the body of procedure ``name``."""
    if isinstance(item, StatementText):
        return ProcedurePiece(item, procedure=name)
    return replace(item, procedure=name)


def _words(tokens: Sequence[Token], n: int) -> list[str]:
    return [t.text.upper() for t in tokens[:n]]


def _opening(piece: StatementText, dialect: Dialect) -> str | None:
    """``procedure``, ``block`` or None: whether ``piece`` opens a procedural unit."""
    tokens = piece.tokens or ()
    words = _words(tokens, 8)
    if words and words[0] == "CREATE":
        rest = words[1:]
        while rest and rest[0] in CREATE_PREFIX:
            rest = rest[1:]
        return "procedure" if rest and rest[0] in PROCEDURE_WORDS else None
    if not words or len(tokens) < 2:
        return None  # BEGIN; alone starts a transaction
    if words[0] == "BEGIN":
        return None if words[1] in TRANSACTION else "block"
    if words[0] in BLOCK_OPENERS and words[0] != "CASE":
        # IF at the top level is scripting (BigQuery, Snowflake) or T-SQL's IF ... stmt.
        return "block"
    return None


@dataclass
class _Segment:
    """Text of the script from ``base`` on, and its tokens (re-tokenized on its own)."""

    text: str
    base: int
    tokens: list[Token]


class _Walker:
    """Walks a procedural body segment by segment, tracking BEGIN/END depth."""

    def __init__(self, sql: str, dialect: Dialect, opening: str) -> None:
        self.sql = sql
        self.dialect = dialect
        self.opening = opening
        self.name: str | None = None
        self.depth = 0
        self.opened = False
        self.tsql = type(dialect).__name__.lower() == "tsql"
        self.declaring = False  # in a DECLARE section (PL/SQL, PL/pgSQL, Snowflake)
        self.handling = False  # in an EXCEPTION section: WHEN names an error, not data
        self.header: StatementText | None = None
        self.header_note: str | None = None
        self.items: list[Expanded] = []
        self.rest: tuple[str, int] | None = None  # text after the unit's closing END
        # Parameters and declared variables: in the body's SQL they look like columns.
        self.variables: set[str] = set()

    # -- entry points ------------------------------------------------------------------

    def procedure_header(self, piece: StatementText) -> None:
        tokens = list(piece.tokens or ())
        self.name = procedure_name(tokens)
        self.variables.update(parameters(tokens[: body_start(tokens)]))
        body_at = body_start(tokens)
        end = tokens[body_at - 1].end if body_at > 0 else tokens[-1].end
        self.header = self.piece(piece.start, self.sql[piece.start : end + 1])
        if body_at >= len(tokens):
            self.header_note = "its body was not found"
            return
        body = tokens[body_at]
        if body.token_type in (TokenType.HEREDOC_STRING, TokenType.RAW_STRING, TokenType.STRING):
            self._string_body(body, language(tokens))
            return
        if tokens[body_at - 1].text.upper() in ("AS", "IS") and not self.tsql:
            self.declaring = True  # Oracle: AS/IS opens the declarations
        start = body.start
        self.feed(self.sql[start : piece.start + len(piece.text)], start)

    def feed(self, text: str, base: int) -> None:
        """Walk one segment of the body (a statement as split at semicolons)."""
        pending: str | None = None  # a condition keyword whose condition comes next
        after_end = False  # END was just stripped: IF / LOOP / TRY / a name may follow
        while text.strip():
            segment = self._tokenize(text, base)
            if segment is None or not segment.tokens:
                return
            tokens = segment.tokens
            first = tokens[0].text.upper()
            second = tokens[1].text.upper() if len(tokens) > 1 else ""
            if after_end:
                after_end = False
                lone_name = len(tokens) == 1 and tokens[0].token_type in NAMES
                if first in END_WORDS or lone_name:
                    text, base = self._after(segment, 1)
                    continue
            if self.opened and self.depth == 0:
                # The unit is closed: what follows (T-SQL needs no semicolon) is not its body.
                self.rest = self._after(segment, 1) if self.tsql and first == "GO" else (text, base)
                return
            if pending is not None:
                cut = condition_end(tokens, self.tsql)
                self._condition(pending, segment, cut)
                if cut < len(tokens) and tokens[cut].text.upper() in CONDITION_ENDS:
                    if pending in ("IF", "WHILE", "FOR"):
                        self._open()  # closed by END IF / END WHILE / END LOOP / END FOR
                    cut += 1
                pending = None
                text, base = self._after(segment, cut)
            elif first == "BEGIN" and second not in TRANSACTION:
                self._open()
                self.declaring = self.handling = False
                text, base = self._after(segment, 2 if second in ("TRY", "CATCH") else 1)
            elif first == "END":
                self.depth = max(self.depth - 1, 0)
                after_end = True
                text, base = self._after(segment, 1)
            elif first in ("IF", "ELSEIF", "ELSIF", "WHILE", "FOR", "UNTIL") or (
                first == "WHEN" and not self.handling
            ):
                pending = first
                text, base = self._after(segment, 1)
            elif first == "WHEN":  # WHEN OTHERS THEN in an EXCEPTION section: no data
                text, base = self._after(segment, condition_end(tokens, False) + 1)
            elif first in ("ELSE", "DO", "THEN"):
                text, base = self._after(segment, 1)
            elif first in ("LOOP", "REPEAT", "CASE"):
                self._open()
                text, base = self._after(segment, 1)
            elif first == "EXCEPTION":
                self.handling = True
                text, base = self._after(segment, 1)
            elif first == "DECLARE" and not self.tsql:
                self.declaring = True  # a section (PL/SQL, PL/pgSQL, Snowflake) or one variable
                text, base = self._after(segment, 1)
            else:
                text, base = self._statement(segment)

    def _open(self) -> None:
        self.depth += 1
        self.opened = True

    @property
    def awaiting(self) -> bool:
        """A procedure whose declarations were read but whose BEGIN has not come yet."""
        return self.declaring and not self.opened

    def finish(self) -> list[Expanded]:
        """The header (for a named procedure), then the body's statements in order."""
        if self.header is None:
            return self.items
        skipped = sum(1 for item in self.items if isinstance(item, Unanalysed))
        who = f"procedure {self.name}" if self.name else "procedure"
        if self.header_note is not None:
            message = f"{who}: {self.header_note}; its lineage is unknown"
        elif skipped:
            message = (
                f"{who}: {skipped} statement(s) of its body not analysed"
                " (control flow, variables or dynamic SQL); its lineage may be incomplete"
            )
        else:
            message = None
        confidence = UNANALYSED_CONFIDENCE if skipped or self.header_note else 1.0
        header = Unanalysed(self.header, message, confidence)
        if self.name is None:
            return [header, *self.items]
        return [_of_procedure(item, self.name) for item in (header, *self.items)]

    # -- pieces of the body ------------------------------------------------------------

    def _statement(self, segment: _Segment) -> tuple[str, int]:
        """Emit the statement that starts ``segment``; what follows it is left to walk."""
        tokens = segment.tokens
        stop = len(segment.text)
        if self.tsql:
            stop = self._tsql_stop(segment)
        text = segment.text[:stop]
        self._emit(self.piece(segment.base, text), [t for t in tokens if t.start < stop])
        return segment.text[stop:], segment.base + stop

    def _tsql_stop(self, segment: _Segment) -> int:
        """Where a T-SQL statement ends without a semicolon (an offset in the segment)."""
        tokens = segment.tokens
        view, shift = tokens, 0
        commands = self.dialect.tokenizer_class.COMMANDS
        if len(tokens) > 1 and tokens[0].token_type in commands:
            # The tokenizer folded the rest into one string: look inside it.
            shift = tokens[0].end + 1
            try:
                view = [tokens[0], *self.dialect.tokenize(segment.text[shift:])]
            except TokenError:
                return len(segment.text)
        cut = tsql_cut(view)
        if cut >= len(view):
            return len(segment.text)
        return view[cut].start + (shift if view is not tokens else 0)

    def _emit(self, piece: StatementText, tokens: list[Token]) -> None:
        first = tokens[0].text.upper()
        where = f"procedure {self.name}: " if self.name else ""
        snippet = _snippet(piece.text)
        has_query = any(t.token_type == TokenType.SELECT for t in tokens[1:])
        if first in DML:
            text, notes = piece.text, []
            into = None
            if not self.tsql and first in ("SELECT", "WITH"):
                own = self.dialect.tokenize(text)  # offsets in the statement's own text
                into = select_into(own)
            if into is not None:
                begin, end = into
                text = text[: own[begin].start] + text[own[end].start :]
                notes.append(f"{where}SELECT ... INTO stores its values in variables")
            text, used = self._without_variables(text)
            if used:
                names = ", ".join(sorted(used))
                notes.append(f"{where}{names}: declared variable(s) or parameter(s), not columns")
            if text == piece.text:
                self.items.append(ProcedurePiece(piece))
            else:
                note = "; ".join(notes) or None
                self.items.append(ProcedurePiece(_replace_text(piece, text), note, piece.text))
        elif first == "PERFORM":  # PL/pgSQL: a query whose result is discarded
            text, _ = self._without_variables("SELECT" + piece.text[tokens[0].end + 1 :])
            note = f"{where}PERFORM runs a query: read, not written"
            self.items.append(ProcedurePiece(_replace_text(piece, text), note, piece.text))
        elif first in DYNAMIC:
            message = (
                f"{where}dynamic SQL or procedure call not analysed, its tables are unknown:"
                f" {snippet}"
            )
            self.items.append(Unanalysed(piece, message))
        elif first in BENIGN or self.declaring:
            self.variables.update(declared(tokens, self.declaring))
            if has_query:
                message = f"{where}variable assigned from a query not analysed: {snippet}"
                self.items.append(Unanalysed(piece, message))
        else:
            message = f"{where}statement not analysed: {snippet}"
            self.items.append(Unanalysed(piece, message))

    def _condition(self, keyword: str, segment: _Segment, cut: int) -> None:
        if cut <= 0:
            return
        text = segment.text[: segment.tokens[cut - 1].end + 1].strip()
        where = f"procedure {self.name}: " if self.name else ""
        message = f"{where}control flow not analysed: {keyword} {_snippet(text)}"
        self.items.append(Unanalysed(self.piece(segment.base, text), message))

    def _string_body(self, body: Token, language: str | None) -> None:
        if language not in (None, "SQL", "PLPGSQL"):
            self.header_note = f"its LANGUAGE {language} body is not SQL and was not analysed"
            return
        raw = self.sql[body.start : body.end + 1]
        found = raw.find(body.text)
        offset = body.start + (found if found >= 0 else 0)
        inner = _Walker(self.sql, self.dialect, "procedure")
        inner.name = self.name
        inner.variables = self.variables
        for piece in split_statements(body.text, self.dialect):
            inner.feed(piece.text, offset + piece.start)
        self.items.extend(inner.items)

    # -- helpers -----------------------------------------------------------------------

    def _without_variables(self, text: str) -> tuple[str, set[str]]:
        """``text`` with each bare use of a variable replaced by NULL, and the names used."""
        if not self.variables:
            return text, set()
        try:
            tokens = self.dialect.tokenize(text)
        except TokenError:
            return text, set()
        used: set[str] = set()
        out: list[str] = []
        cursor = 0
        for i, token in enumerate(tokens):
            name = token.text.lower()
            if token.token_type != TokenType.VAR or name not in self.variables:
                continue
            before = tokens[i - 1].token_type if i else None
            after = tokens[i + 1].token_type if i + 1 < len(tokens) else None
            if TokenType.DOT in (before, after) or after == TokenType.L_PAREN:
                continue  # qualified (t.x, x.y) or a function call: not the variable
            if before in (TokenType.COLON, TokenType.PARAMETER):
                continue  # already a bind (:x, @x): sqlglot does not take it for a column
            used.add(name)
            out.append(text[cursor : token.start])
            out.append("NULL")
            cursor = token.end + 1
        out.append(text[cursor:])
        return "".join(out), used

    def _tokenize(self, text: str, base: int) -> _Segment | None:
        try:
            tokens = self.dialect.tokenize(text)
        except TokenError as exc:
            where = f"procedure {self.name}: " if self.name else ""
            message = f"{where}statement not analysed ({exc}): {_snippet(text)}"
            self.items.append(Unanalysed(self.piece(base, text.strip()), message))
            return None
        return _Segment(text, base, tokens)

    def _after(self, segment: _Segment, count: int) -> tuple[str, int]:
        if count >= len(segment.tokens):
            return "", segment.base
        # After the previous token, not at the next one: a command's folded remainder
        # (BigQuery's BEGIN, T-SQL's END) is a string token whose own offsets are not the text's.
        start = segment.tokens[count - 1].end + 1 if count > 0 else 0
        return segment.text[start:], segment.base + start

    def piece(self, offset: int, text: str) -> StatementText:
        """``text`` found at ``offset`` of the script, as a statement of its own."""
        offset += len(text) - len(text.lstrip())
        line = self.sql.count("\n", 0, offset) + 1
        column = offset - (self.sql.rfind("\n", 0, offset) + 1) + 1
        return StatementText(text.strip(), offset, line, column, None)


def _replace_text(piece: StatementText, text: str) -> StatementText:
    return StatementText(text, piece.start, piece.line, piece.column, None)


def _snippet(text: str, limit: int = 80) -> str:
    """The start of a statement for a warning, on one line, secrets masked."""
    flat = redact_text(" ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
