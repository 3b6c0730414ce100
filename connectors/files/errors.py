"""Failures of bronze files as Silverline errors and issue messages, in one place.

A file that cannot be read becomes an ``ObservationIssue`` with the library's own message
(``describe``); a root that cannot be listed at all raises (``listing_error``): no answer
from S3, a refused connection or a timeout is temporary, anything else (access denied, a
bucket that does not exist, a bad setting) permanent. Every message passes through
``lineage.model.redact_text`` and has the configured secrets masked.
"""

from __future__ import annotations

from collections.abc import Iterable

from connectors.classify import classify, reason
from lineage.errors import ConnectorError, PermanentConnectorError, TemporaryConnectorError
from lineage.model import MASK, redact_text

__all__ = ["describe", "listing_error", "mask"]

# What pyarrow's S3 client says when it got no answer (AWS SDK error names and curl texts).
_NO_ANSWER = (
    "network_connection",
    "couldn't connect",
    "could not connect",
    "connection refused",
    "timed out",
    "timeout",
    "slowdown",
    "service unavailable",
    "internal error",
    "curl error",
)


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every ``secrets`` value and every known secret shape masked (values
    under 4 characters are left: masking them would garble the message, not hide much)."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, MASK)
    return redact_text(text)


def describe(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """The source's own message for ``exc`` on one line, masked (for an issue)."""
    return mask(reason(exc, named=True), secrets)


def listing_error(exc: BaseException, subject: str, secrets: Iterable[str] = ()) -> ConnectorError:
    """The ConnectorError for a root that could not be listed."""
    if isinstance(exc, ConnectorError):
        return exc
    message = describe(exc, secrets)
    kind = classify(exc)
    if kind is None or (
        kind is PermanentConnectorError and any(w in message.lower() for w in _NO_ANSWER)
    ):
        lowered = message.lower()
        kind = (
            TemporaryConnectorError
            if any(w in lowered for w in _NO_ANSWER)
            else PermanentConnectorError
        )
    return kind(message, obj=subject)
