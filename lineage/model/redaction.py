"""Redaction: one set of rules for every secret shape Silverline knows."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TypeVar, cast

__all__ = [
    "MASK",
    "SQL_SECRET_KEYWORDS",
    "RedactingFilter",
    "is_secret_key",
    "redact_mapping",
    "redact_text",
    "redact_url",
    "redacted_logger",
]


# -- secrets: one set of redaction rules ----------------------------------------------------
# Connection strings in driver errors, credentials in SQL, tokens in stack traces and
# passwords in catalog URLs would leave the machine in events, catalog rows, DataHub
# aspects and error lines; every such path calls these functions (parsers, connectors and
# the CLI alike), so a shape added here is masked everywhere:
#
#     redact_text("postgresql://etl:p@ss/w0rd@db:5432/dwh") -> 'postgresql://etl:***@db:5432/dwh'
#     redact_text("CREATE USER bob PASSWORD 'hunter2'")    -> "CREATE USER bob PASSWORD '***'"
#     redact_mapping({"user": "etl", "pass": "hunter2"})    -> {'user': 'etl', 'pass': '***'}

_T = TypeVar("_T")

#: What a secret is replaced with.
MASK = "***"

#: SQL keywords whose string operand is a secret (``PASSWORD '...'``, ``CREDENTIALS '...'``).
SQL_SECRET_KEYWORDS = frozenset({
    "PASSWORD", "CREDENTIALS", "SECRET", "SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY",
    "ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID", "SESSION_TOKEN", "AWS_SESSION_TOKEN", "AWS_KEY_ID",
    "AWS_SECRET_KEY", "AWS_TOKEN", "MASTER_KEY", "MASTER_SYMMETRIC_KEY", "AZURE_SAS_TOKEN",
    "TOKEN", "PRIVATE_KEY", "API_KEY", "CLIENT_SECRET", "ACCOUNT_KEY", "SAS_TOKEN",
})

# A key (in a mapping, ``key=value`` or ``key: 'value'``) that names a secret: it ends
# with one of these words (``db_password``, ``aws_secret_access_key``, ``x-api-key``).
_KEY_END = (
    r"(?:password|passwd|passphrase|pwd|secret|token|credentials?|authorization"
    r"|api[_-]?key|access[_-]?key(?:[_-]?id)?|secret[_-]?key|private[_-]?key"
    r"|aws[_-]?key[_-]?id|symmetric[_-]?key|master[_-]?key|account[_-]?key)"
)
_KEY = rf"[\w.-]*?{_KEY_END}|pass"
_SECRET_KEY = re.compile(rf"(?:{_KEY})", re.IGNORECASE)

# scheme://user:password@host — the password may hold '/', '@' or ':' (greedy up to the
# last '@' that a host follows); a port ('host:8080/path@x') is not taken for one.
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[a-zA-Z][\w+.-]*://[^\s/:@'\"]*:)(?!\d+(?:[/?#]|$))[^\s'\"]*@"
    r"(?=[\w.\-\[\]%]+(?:[:/?#\s'\",;)]|$))"
)
# 'password': '...', "token": "..." (dict reprs, JSON).
_QUOTED_PAIR = re.compile(
    rf"(?P<head>(?P<q>['\"])(?:{_KEY})(?P=q)\s*[:=]\s*)(?P<v>['\"])(?:\\.|(?!(?P=v)).)*(?P=v)",
    re.IGNORECASE,
)
# token = "..." (source lines in stack traces), password: '...'.
_BARE_QUOTED = re.compile(
    # Not a doubled quote: that is SQL's nested literal, masked above.
    rf"(?P<head>\b(?:{_KEY})\s*[:=]\s*)(?!'')(?P<v>['\"])(?:\\.|(?!(?P=v)).)*(?P=v)",
    re.IGNORECASE,
)
# PASSWORD '...', CREDENTIALS = '...', IDENTIFIED BY '...' (SQL; '' escapes a quote), and
# the same inside a string literal, where the quotes are doubled: EXEC('... PASSWORD =
# ''hunter2''') (then the mask keeps them doubled, so the outer literal stays whole).
_SQL_QUOTED = re.compile(
    r"(?P<head>(?<!['\"])\b(?:" + "|".join(sorted(SQL_SECRET_KEYWORDS, key=len, reverse=True))
    + r"|IDENTIFIED\s+(?:WITH\s+\S+\s+)?(?:BY|AS)(?:\s+PASSWORD)?)"
    + r"\s*(?:=|\bAS\b)?\s*)(?:(?P<nested>''(?:[^']|'''')+'')|'(?:[^']|'')*(?:'|$))",
    re.IGNORECASE,
)
def _masked_sql_literal(match: re.Match[str]) -> str:
    quote = "''" if match.group("nested") else "'"
    return f"{match.group('head')}{quote}{MASK}{quote}"


# password=hunter2 (libpq strings, query parameters, environment dumps).
_BARE_VALUE = re.compile(
    rf"(?P<head>\b(?:{_KEY})\s*=\s*)(?!['\"*(])[^\s;'\"&,()\]}}]+", re.IGNORECASE
)
_AUTH_HEADER = re.compile(
    r"(?P<head>\b(?:authorization|proxy-authorization)\s*[:=]\s*)"
    r"(?:(?:bearer|basic|token|digest)\s+)?(?!['\"])[^\s'\",;]+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<head>\b(?:Bearer|Basic)\s+)(?!\*\*\*)[A-Za-z0-9._~+/=-]+")
# SQLAlchemy's "[parameters: (...)]": bound values, the row being written.
_PARAMETERS = re.compile(r"(?P<head>\[parameters: )[^\n]*\]")


def redact_text(text: str) -> str:
    """``text`` with every secret shape this module knows replaced by ``***``.

    Meant for free text (messages, stack traces, SQL, URLs): over-masking a value that
    only looks like a secret is the accepted cost.
    """
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\g<head>{MASK}@", text)
    if "[parameters: " in text:
        text = _PARAMETERS.sub(rf"\g<head>{MASK}]", text)
    text = _QUOTED_PAIR.sub(rf"\g<head>\g<v>{MASK}\g<v>", text)
    text = _SQL_QUOTED.sub(_masked_sql_literal, text)
    text = _BARE_QUOTED.sub(rf"\g<head>\g<v>{MASK}\g<v>", text)
    text = _AUTH_HEADER.sub(rf"\g<head>{MASK}", text)
    text = _BEARER.sub(rf"\g<head>{MASK}", text)
    return _BARE_VALUE.sub(rf"\g<head>{MASK}", text)


def redact_url(url: str) -> str:
    """``url`` with the password of its user info and secret query parameters masked.

    Done by hand, not by a URL parser: an unencoded ``/`` or ``@`` in a password
    (common in hand-written URLs) makes parsers split the URL in the wrong place.
    """
    scheme, sep, rest = url.partition("://")
    if sep:
        query = rest.find("?")
        at = rest.rfind("@", 0, query if query >= 0 else len(rest))
        if at >= 0 and ":" in rest[:at]:
            user = rest[:at].split(":", 1)[0]
            rest = f"{user}:{MASK}{rest[at:]}"
        url = f"{scheme}{sep}{rest}"
    return redact_text(url)


def is_secret_key(name: str) -> bool:
    """Whether a mapping key names a secret (``password``, ``pass``, ``apiKey``, ...)."""
    return _SECRET_KEY.fullmatch(name.strip()) is not None


def redact_mapping(obj: _T) -> _T:
    """A copy of ``obj`` (nested dicts, lists, tuples) with secret-keyed values masked.

    The value of a key that names a secret becomes ``***`` whatever its type; other
    strings go through ``redact_text``.
    """
    if isinstance(obj, Mapping):
        return cast(_T, {
            key: (MASK if value not in (None, "") else value)
            if isinstance(key, str) and is_secret_key(key) else redact_mapping(value)
            for key, value in obj.items()
        })
    if isinstance(obj, list):
        return cast(_T, [redact_mapping(item) for item in obj])
    if isinstance(obj, tuple):
        return cast(_T, tuple(redact_mapping(item) for item in obj))
    if isinstance(obj, str):
        return cast(_T, redact_text(obj))
    return obj


class RedactingFilter(logging.Filter):
    """Masks secrets in log records: the formatted message and the exception's text.

    Attached to Silverline's own loggers (``redacted_logger``) and, in the ``lineage``
    command, to the handlers that print any library's records.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: the handler reports it as usual
            return True
        masked = redact_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            # Formatters print a cached exc_text as it is: cache the masked one.
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        return True


_FILTER = RedactingFilter()


def redacted_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with the redaction filter attached (once)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
