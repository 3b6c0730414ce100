"""OpenLineage failures as Silverline errors: the one place that reads third-party exceptions
of the OpenLineage side.

That is the openlineage-python client and its transports (http over ``requests`` and
urllib3, kafka over confluent-kafka, file, composite, which wraps the others' errors), the
OSErrors of the event files and the spool, and the catalog's errors under the catalog
sink. ``translate`` turns each into a ``TemporaryConnectorError`` (the emitter spools the
event, replay keeps it) or a ``PermanentConnectorError`` (neither: see
``connectors.openlineage.emitter``) by the rules shared by every connector
(``connectors.classify``) and these::

    failure                                                 kind
    ------------------------------------------------------  ---------
    HTTP 408, 429, 5xx; no answer; a timeout                temporary
    HTTP 401/403 (credentials), 400/422 (the event), other  permanent
      4xx; TLS refused; a malformed URL
    Kafka: a retriable error, brokers down or unreachable,  temporary
      a message timed out, the producer's queue is full
    Kafka: a fatal or non-retriable error (authentication,  permanent
      authorization, message too large, a bad setting)
    a file or spool folder: a full disk                     temporary
    a file or spool folder: no permission, not a folder     permanent
    the catalog: locked, busy, a lost server connection     temporary
    ValueError, TypeError, KeyError, AttributeError: the    permanent
      event or the client's configuration is malformed
    anything else                                           temporary

A failure no rule knows counts as temporary: the event stays in the spool, where replay
stops at it and reports it, rather than being set aside on a guess.
"""

from __future__ import annotations

import errno

from connectors.classify import Kind, answered_status, chain, classify, module_of, reason
from lineage.errors import ConnectorError, PermanentConnectorError, TemporaryConnectorError

__all__ = ["certainly_not_delivered", "translate"]

# librdkafka's errors that pass when the cluster comes back, whether or not it marks them
# retriable (``KafkaError.name()``).
_TEMPORARY_KAFKA = frozenset(
    {
        "_ALL_BROKERS_DOWN",
        "_TRANSPORT",
        "_MSG_TIMED_OUT",
        "_TIMED_OUT",
        "_TIMED_OUT_QUEUE",
        "_RESOLVE",
        "_QUEUE_FULL",
        "REQUEST_TIMED_OUT",
        "NETWORK_EXCEPTION",
        "LEADER_NOT_AVAILABLE",
        "NOT_LEADER_FOR_PARTITION",
        "NOT_ENOUGH_REPLICAS",
        "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
        "BROKER_NOT_AVAILABLE",
        "COORDINATOR_NOT_AVAILABLE",
    }
)


def translate(
    exc: BaseException,
    what: str,
    *,
    file: str | None = None,
    default: Kind = TemporaryConnectorError,
) -> ConnectorError:
    """``exc`` as a Temporary- or PermanentConnectorError (raise it ``from exc``).

    Args:
        exc: what the client, a transport, the file system or the catalog raised.
        what: what failed, the start of the message (``"cannot write events"``).
        file: the file or folder the error is about.
        default: the kind of a failure no rule knows (building the client from its
            configuration cannot fail for a passing reason: permanent there).
    """
    kind = classify(exc, _kafka, _malformed) or default
    return kind(f"{what}: {reason(exc, named=True)}", file=file)


def _kafka(exc: BaseException) -> Kind | None:
    if isinstance(exc, BufferError):  # the producer's local queue is full
        return TemporaryConnectorError
    if module_of(exc, "confluent_kafka", "KafkaException") is None:
        return None
    error = exc.args[0] if exc.args else None
    if error is None or not callable(getattr(error, "retriable", None)):
        return TemporaryConnectorError
    if error.fatal():
        return PermanentConnectorError
    if error.retriable() or error.name() in _TEMPORARY_KAFKA:
        return TemporaryConnectorError
    return PermanentConnectorError


def _malformed(exc: BaseException) -> Kind | None:
    # An event the client cannot serialize, or a configuration it cannot read: the same
    # event or configuration fails the same way every time.
    if isinstance(exc, ValueError | TypeError | LookupError | AttributeError):
        return PermanentConnectorError
    return None


def certainly_not_delivered(exc: BaseException) -> bool:
    """Did the send that raised ``exc`` certainly not deliver the event? True when the
    receiver answered with an error status (``answered_status``, or urllib3's "too many
    500 error responses" after its retries) or refused the connection; False for a
    timeout, a reset connection or anything unknown (the event may have arrived)."""
    for item in chain(exc):
        if (status := answered_status(item)) is not None and status >= 300:
            return True
        if isinstance(item, ConnectionRefusedError) or getattr(item, "errno", None) == (
            errno.ECONNREFUSED
        ):
            return True
        urllib3 = module_of(item, "urllib3.exceptions", "HTTPError")
        if urllib3 is not None and isinstance(item, urllib3.ResponseError):
            return True
        # urllib3's MaxRetryError keeps its cause as ``reason``; requests wraps it in args.
        wrapped = [getattr(item, "reason", None), *(item.args[:1] if item.args else ())]
        if any(isinstance(w, BaseException) and certainly_not_delivered(w) for w in wrapped):
            return True
    return False
