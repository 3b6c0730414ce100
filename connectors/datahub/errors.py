"""DataHub failures as Silverline errors: the one place that reads the SDK's exceptions.

The REST emitter raises ``ConfigurationError`` (from ``GET /config``: not GMS, refused
credentials, an HTTP status) and ``OperationalError`` (a refused or failed request, with
the ``requests`` exception as its cause); DataHub Lite raises ``sqlite3`` errors, OSErrors
and whatever its hooks raise; the file sink raises OSErrors. ``translate`` turns each
into a ``TemporaryConnectorError`` or a ``PermanentConnectorError`` by the rules shared by
every connector (``connectors.classify``) and these::

    failure                                                 kind
    ------------------------------------------------------  ---------
    GMS answered 408, 429 or 5xx (after the retries)        temporary
    GMS did not answer: connection refused, timeout         temporary
    GMS refused the credentials (401, 403) or an aspect     permanent
      (other 4xx); not GMS (the frontend, no /config)
    Lite: a locked or busy database, a full disk            temporary
    Lite: not a database, no permission, a bad path         permanent
    the MCP file: no permission, a file where a folder      permanent
      should be; a full disk                                temporary
    anything else (a name DataHub cannot take, a Lite       permanent
      hook's own failure): pushing again fails again

The REST sink retries (the SDK's urllib3 policy) only the statuses of ``RETRIED_STATUSES``,
all of them temporary, and connection errors and timeouts.
"""

from __future__ import annotations

import re
from typing import Any

import requests
from datahub.configuration.common import ConfigurationError, OperationalError
from datahub.emitter.mcp import MetadataChangeProposalWrapper

from connectors.classify import Kind, answered_status, chain, classify, reason, status_kind
from lineage.errors import ConnectorError, PermanentConnectorError

__all__ = [
    "GMS_FAILURES",
    "RETRIED_STATUSES",
    "gms_status",
    "refused_aspect",
    "refuses_content",
    "translate",
]

#: What the SDK's REST emitter raises when a request fails (``except GMS_FAILURES``).
GMS_FAILURES = (ConfigurationError, OperationalError, requests.RequestException)
#: Statuses the REST emitter retries, with exponential back-off (the SDK's own list).
RETRIED_STATUSES = (429, 500, 502, 503, 504)
# Refusals about the request, not its content: resending aspect by aspect cannot help.
_ABOUT_THE_REQUEST = frozenset({401, 403, 404, 405})
_CONFIG_STATUS = re.compile(r"status_code: (\d{3})")


def translate(
    exc: BaseException, what: str, *, obj: str | None = None, retries: int | None = None
) -> ConnectorError:
    """``exc`` as a Temporary- or PermanentConnectorError (raise it ``from exc``).

    Args:
        exc: what the SDK, Lite or the file system raised.
        what: the subject of the message: ``"DataHub GMS"`` for a REST request, else what
            failed (``"cannot open DataHub Lite"``).
        obj: the URL, URN or path the error is about.
        retries: for a REST request, the retries the emitter made (said in the message).
    """
    kind = classify(exc, _sdk) or PermanentConnectorError
    return kind(_describe(exc, what, retries), obj=obj)


def gms_status(exc: BaseException) -> int | None:
    """The HTTP status GMS answered with, if it answered."""
    for item in chain(exc):
        status = answered_status(item)
        if status is not None:
            return status
    for item in chain(exc):
        info = getattr(item, "info", None)
        if isinstance(item, OperationalError) and isinstance(info, dict):
            status = info.get("status")
            if isinstance(status, int):
                return status
    return None


def refuses_content(exc: BaseException) -> bool:
    """True when GMS refused what a request carried (a 4xx about an aspect): sending the
    batch's MCPs one at a time finds the aspect it refuses."""
    status = gms_status(exc)
    return (
        status is not None
        and 400 <= status < 500
        and status not in _ABOUT_THE_REQUEST
        and status_kind(status) is PermanentConnectorError
    )


def refused_aspect(exc: BaseException, mcp: MetadataChangeProposalWrapper) -> ConnectorError:
    """The error naming the aspect GMS refused (``refuses_content(exc)`` is true)."""
    return PermanentConnectorError(
        f"DataHub refused aspect {mcp.aspectName} of {mcp.entityUrn} "
        f"(HTTP {gms_status(exc)}): {_message(exc)}",
        obj=mcp.entityUrn,
    )


def _sdk(exc: BaseException) -> Kind | None:
    if isinstance(exc, ConfigurationError):
        found = _CONFIG_STATUS.search(str(exc))
        # Otherwise not GMS, refused credentials, or no server given.
        return status_kind(int(found.group(1))) if found else PermanentConnectorError
    if isinstance(exc, OperationalError):
        status = gms_status(exc)
        return status_kind(status) if status is not None else None
    return None


def _describe(exc: BaseException, what: str, retries: int | None) -> str:
    if isinstance(exc, ConfigurationError):
        return str(exc).split("\n")[0]  # the SDK's first sentence names the URL and the problem
    if retries is None:
        return f"{what}: {reason(exc)}"
    status = gms_status(exc)
    message = _message(exc)
    if status in (401, 403):
        return (
            f"{what} refused the credentials (HTTP {status}): {message}; "
            "check the token variable (--token-env)"
        )
    if status is None:
        return f"{what} did not answer (after {retries} retries): {message}"
    return f"{what} answered HTTP {status} (after {retries} retries): {message}"


def _message(exc: BaseException) -> str:
    """GMS's own message (the JSON body of its answer) when it gave one."""
    if not isinstance(exc, OperationalError):
        return reason(exc)
    info: dict[str, Any] = exc.info or {}
    text = str(info.get("message") or exc.message or type(exc).__name__)
    return " ".join(text.split())[:500]
