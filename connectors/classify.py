"""Is a failure of an outside system worth retrying? The rules every connector shares.

Each connector translates third-party exceptions in one module of its own
(``connectors.datahub.errors``, ``connectors.openlineage.errors``): these rules, its own
rules first, and its own answer for a failure no rule knows. A rule looks at each
exception of the chain in turn (the exception, what it was raised ``from``, what was being
handled), and the first one recognised decides::

    failure, anywhere in the chain                          kind
    ------------------------------------------------------  ---------
    a Temporary/PermanentConnectorError                     its own
    an HTTP answer 408, 429 or 5xx                          temporary
    an HTTP answer 3xx or any other 4xx                     permanent
    no answer: refused or reset connection, DNS, timeout    temporary
    retries used up on a retried status (RetryError)        that status's kind
    TLS refused (SSLError), a malformed URL or header,      permanent
      too many redirects
    OSError: no space or quota, busy, interrupted, I/O,     temporary
      out of descriptors or memory, network down
    OSError: no permission, read-only, not a folder, is a   permanent
      folder, no such file, name too long
    SQLite: busy, locked, full, I/O error                   temporary
    SQLite: anything else (not a database, a bad query)     permanent
    SQLAlchemy: a lost or refused server connection, a      temporary
      pool timeout, SQLSTATE 08/40/53/57/58
    SQLAlchemy: anything else (SQLSTATE 28: credentials)    permanent
    ImportError (a driver or an extra is not installed)     permanent

Libraries are never imported here: an exception of a module that is not loaded cannot
be raised, so each rule looks the module up in ``sys.modules``.
"""

from __future__ import annotations

import errno
import re
import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

from lineage.errors import (
    ConnectorError,
    LineageError,
    PermanentConnectorError,
    TemporaryConnectorError,
)

__all__ = [
    "Kind",
    "Rule",
    "answered_status",
    "chain",
    "classify",
    "module_of",
    "reason",
    "status_kind",
]

#: ``TemporaryConnectorError`` or ``PermanentConnectorError``.
Kind = type[ConnectorError]
#: One exception -> its kind, or None when the rule does not know it.
Rule = Callable[[BaseException], Kind | None]

_TEMPORARY_ERRNOS = frozenset(
    {
        errno.ENOSPC, errno.EDQUOT, errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.EIO,
        errno.ETIMEDOUT, errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED,
        errno.EPIPE, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EMFILE,
        errno.ENFILE, errno.ENOMEM, errno.ENOBUFS,
    }
)  # fmt: skip
_PERMANENT_ERRNOS = frozenset(
    {
        errno.EACCES, errno.EPERM, errno.EROFS, errno.EISDIR, errno.ENOTDIR, errno.ENOENT,
        errno.ENAMETOOLONG, errno.ELOOP, errno.EEXIST, errno.EXDEV, errno.EINVAL,
        errno.EBADF, errno.EFBIG,
    }
)  # fmt: skip
# SQLite's primary result codes for a busy, locked or full database and an I/O error.
_TEMPORARY_SQLITE_CODES = frozenset({5, 6, 10, 13})
_TEMPORARY_SQLITE_WORDS = ("locked", "busy", "disk is full", "disk i/o")
# SQLSTATE classes: connection, transaction rollback (deadlock, serialization), resources,
# operator intervention (a server shutting down or starting), system error.
_TEMPORARY_SQLSTATES = ("08", "40", "53", "57", "58")
# urllib3's ResponseError text, inside a RetryError: "too many 503 error responses".
_RETRIED_STATUS = re.compile(r"too many (\d{3}) error responses")


def status_kind(status: int) -> Kind:
    """The kind of an HTTP answer: temporary for 408, 429 and 5xx, else permanent.

    >>> status_kind(503).__name__, status_kind(401).__name__
    ('TemporaryConnectorError', 'PermanentConnectorError')
    """
    if status in (408, 429) or status >= 500:
        return TemporaryConnectorError
    return PermanentConnectorError


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what it was raised from (or, failing that, what was being handled)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        if current.__cause__ is not None:
            current = current.__cause__
        else:
            current = None if current.__suppress_context__ else current.__context__


def classify(exc: BaseException, *rules: Rule) -> Kind | None:
    """The kind of ``exc``: ``rules`` (a connector's own) then the shared ones, applied to
    each exception of its chain in turn; None when no rule knows any of them."""
    for item in chain(exc):
        for rule in (*rules, *_SHARED_RULES):
            kind = rule(item)
            if kind is not None:
                return kind
    return None


def answered_status(exc: BaseException) -> int | None:
    """The HTTP status of the answer ``exc`` carries (``exc.response.status_code``)."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def reason(exc: BaseException, *, named: bool = False) -> str:
    """``exc`` on one line (at most 500 characters): an OSError's ``strerror`` (its file is
    the error's ``file``/``obj``), else its text; ``named`` puts a foreign exception's
    class name first (``ReadTimeout: ...``)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = " ".join(str(exc).split())[:500]
    if not text:
        return type(exc).__name__
    if named and not isinstance(exc, LineageError):
        return f"{type(exc).__name__}: {text}"
    return text


def module_of(exc: BaseException, module: str, base: str) -> Any:
    """``module`` if it is loaded and ``exc`` is one of its ``base`` exceptions, else None
    (for a rule about a library the connector does not import itself)."""
    found = sys.modules.get(module)
    cls = getattr(found, base, None) if found is not None else None
    return found if isinstance(cls, type) and isinstance(exc, cls) else None


def _own(exc: BaseException) -> Kind | None:
    if isinstance(exc, TemporaryConnectorError):
        return TemporaryConnectorError
    if isinstance(exc, PermanentConnectorError):
        return PermanentConnectorError
    return None


def _http_answer(exc: BaseException) -> Kind | None:
    status = answered_status(exc)
    return status_kind(status) if status is not None and status >= 300 else None


def _retried_status(exc: BaseException) -> Kind:
    found = _RETRIED_STATUS.search(str(exc))
    return status_kind(int(found.group(1))) if found else TemporaryConnectorError


def _requests(exc: BaseException) -> Kind | None:
    module = module_of(exc, "requests.exceptions", "RequestException")
    if module is None:
        return None
    if isinstance(exc, module.RetryError):
        return _retried_status(exc)
    if isinstance(exc, module.SSLError):  # a ConnectionError, but no retry fixes a certificate
        return PermanentConnectorError
    if isinstance(exc, module.ConnectionError | module.Timeout | module.ChunkedEncodingError):
        return TemporaryConnectorError
    permanent = (
        module.InvalidURL,
        module.MissingSchema,
        module.InvalidSchema,
        module.InvalidHeader,
        module.URLRequired,
        module.TooManyRedirects,
    )
    return PermanentConnectorError if isinstance(exc, permanent) else None


def _urllib3(exc: BaseException) -> Kind | None:
    module = module_of(exc, "urllib3.exceptions", "HTTPError")
    if module is None:
        return None
    if isinstance(exc, module.MaxRetryError):
        cause = exc.reason
        if isinstance(cause, module.ResponseError):
            return _retried_status(cause)
        return classify(cause) if isinstance(cause, BaseException) else TemporaryConnectorError
    if isinstance(exc, module.ResponseError):
        return _retried_status(exc)
    if isinstance(exc, module.SSLError | module.LocationValueError):
        return PermanentConnectorError
    if isinstance(exc, module.TimeoutError | module.NewConnectionError | module.ProtocolError):
        return TemporaryConnectorError
    return None


def _sqlite(exc: BaseException) -> Kind | None:
    if module_of(exc, "sqlite3", "Error") is None:
        return None
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if isinstance(code, int) and (code & 0xFF) in _TEMPORARY_SQLITE_CODES:
        return TemporaryConnectorError
    text = str(exc).lower()
    if any(word in text for word in _TEMPORARY_SQLITE_WORDS):
        return TemporaryConnectorError
    return PermanentConnectorError


def _sqlalchemy(exc: BaseException) -> Kind | None:
    module = module_of(exc, "sqlalchemy.exc", "SQLAlchemyError")
    if module is None:
        return None
    if isinstance(exc, module.DBAPIError):
        driver_error = exc.orig
        if driver_error is not None and (found := _sqlite(driver_error)) is not None:
            return found
        state = getattr(driver_error, "sqlstate", None) or getattr(driver_error, "pgcode", None)
        if isinstance(state, str) and state:
            temporary = state[:2] in _TEMPORARY_SQLSTATES
            return TemporaryConnectorError if temporary else PermanentConnectorError
        if exc.connection_invalidated or isinstance(exc, module.OperationalError):
            return TemporaryConnectorError  # no SQLSTATE: the server was never reached
        return PermanentConnectorError
    if isinstance(exc, module.DisconnectionError | module.TimeoutError):
        return TemporaryConnectorError
    return PermanentConnectorError


def _os(exc: BaseException) -> Kind | None:
    if isinstance(exc, TimeoutError | ConnectionError | socket.gaierror):
        return TemporaryConnectorError
    if not isinstance(exc, OSError):
        return PermanentConnectorError if isinstance(exc, ImportError) else None
    if exc.errno in _TEMPORARY_ERRNOS:
        return TemporaryConnectorError
    if exc.errno in _PERMANENT_ERRNOS:
        return PermanentConnectorError
    permanent = (PermissionError, FileNotFoundError, IsADirectoryError, NotADirectoryError)
    return PermanentConnectorError if isinstance(exc, permanent) else None


_SHARED_RULES: tuple[Rule, ...] = (
    _own,
    _http_answer,
    _requests,
    _urllib3,
    _sqlalchemy,
    _sqlite,
    _os,
)
