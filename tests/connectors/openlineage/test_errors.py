"""Every OpenLineage sink's failures, classified: the client's http transport against an
endpoint on 127.0.0.1 (500, 503, 429 / 400, 401) and a closed port, its file transport, a
broken client configuration, the event files (a full device / no permission), the catalog
(a server that does not answer / not a database), the spool's folder, and Kafka."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import HttpConfig, HttpTransport

from connectors.openlineage.errors import translate
from connectors.openlineage.sinks import CatalogSink, ClientSink, JsonLinesSink
from connectors.openlineage.spool import EventSpool
from lineage.errors import ConnectorError, PermanentConnectorError, TemporaryConnectorError
from tests.connectors.conftest import Answering, read_only_folder, unprivileged

EVENT: dict[str, Any] = {
    "eventType": "START",
    "eventTime": "2024-06-18T01:00:00+00:00",
    "producer": "https://github.com/silverline/silverline",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    "run": {"runId": "01900000-0000-7000-8000-000000000001"},
    "job": {"namespace": "default", "name": "j"},
}


@pytest.fixture(autouse=True)
def _no_openlineage_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in sys.modules["os"].environ if k.startswith("OPENLINEAGE")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


def http_sink(url: str) -> ClientSink:
    config = HttpConfig(url=url, timeout=2.0, retry={"total": 0})
    return ClientSink(OpenLineageClient(transport=HttpTransport(config)))


def _error(sink: Any, event: dict[str, Any] = EVENT) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught:
        sink.send(event)
    return caught.value


@pytest.mark.parametrize(
    ("status", "kind"),
    [(500, TemporaryConnectorError), (503, TemporaryConnectorError),
     (429, TemporaryConnectorError), (400, PermanentConnectorError),
     (401, PermanentConnectorError), (403, PermanentConnectorError)],
)  # fmt: skip
def test_the_http_transport(answering: Answering, status: int, kind: type[ConnectorError]) -> None:
    answering.status = status
    error = _error(http_sink(answering.url))
    assert type(error) is kind
    assert str(error).startswith(f"OpenLineage http failed: HTTPError: {status}")


def test_the_http_transport_unreachable(closed_port: int) -> None:
    error = _error(http_sink(f"http://127.0.0.1:{closed_port}"))
    assert type(error) is TemporaryConnectorError and "ConnectionError" in str(error)


def test_the_http_transport_timing_out(answering: Answering) -> None:
    answering.delay = 3.0
    config = HttpConfig(url=answering.url, timeout=0.3, retry={"total": 0})
    sink = ClientSink(OpenLineageClient(transport=HttpTransport(config)))
    assert type(_error(sink)) is TemporaryConnectorError


def test_the_file_transport_where_a_folder_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    config = FileConfig(log_file_path=str(blocker / "events.jsonl"), append=True)
    error = _error(ClientSink(transport=FileTransport(config)))
    assert type(error) is PermanentConnectorError  # RuntimeError from NotADirectoryError


def test_a_broken_client_configuration_is_permanent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")  # and no URL
    error = _error(ClientSink())
    assert type(error) is PermanentConnectorError
    assert "cannot build the OpenLineage client from its configuration" in str(error)


def test_a_malformed_event_is_permanent(answering: Answering) -> None:
    error = _error(http_sink(answering.url), {"eventTime": "2024-06-18T01:00:00+00:00"})
    assert type(error) is PermanentConnectorError and answering.requests == []


def test_event_files_on_a_full_device_are_temporary(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    sink = JsonLinesSink(tmp_path)
    sink.path_for(EVENT).symlink_to("/dev/full")
    error = _error(sink)
    assert type(error) is TemporaryConnectorError
    assert "cannot write events: No space left on device" in str(error)


def test_event_files_without_permission_are_permanent(tmp_path: Path) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    read_only_folder(folder)

    def send() -> str:
        try:
            JsonLinesSink(folder).send(EVENT)
        except ConnectorError as exc:
            return f"{type(exc).__name__}: {exc}"
        return "sent"

    found = unprivileged(send)
    assert found.startswith("PermanentConnectorError:") and "Permission denied" in found


def test_the_catalog_not_answering_is_temporary(closed_port: int) -> None:
    sink = CatalogSink(f"postgresql+psycopg://u@127.0.0.1:{closed_port}/catalog")
    error = _error(sink)
    assert type(error) is TemporaryConnectorError
    assert str(error).startswith("cannot record the event in the catalog: postgresql")
    assert "cannot open the catalog" in str(error)


def test_a_catalog_that_is_not_a_database_is_permanent(tmp_path: Path) -> None:
    garbage = tmp_path / "catalog.db"
    garbage.write_bytes(b"not a database, not at all" * 100)
    assert type(_error(CatalogSink(f"sqlite:///{garbage}"))) is PermanentConnectorError


def test_a_malformed_event_for_the_catalog_is_permanent(tmp_path: Path) -> None:
    sink = CatalogSink(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        error = _error(sink, {**EVENT, "run": {}})
        assert type(error) is PermanentConnectorError
    finally:
        sink.close()


def test_a_spool_folder_that_cannot_exist_is_permanent(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(PermanentConnectorError, match="cannot spool events: Not a directory"):
        EventSpool(blocker / "spool").append([(EVENT, ["memory"])])


@pytest.fixture
def kafka(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """confluent-kafka's two exception types, as the client raises them (the package itself
    is not installed here: librdkafka needs a broker to fail for real)."""

    class KafkaError:
        def __init__(self, name: str, *, fatal: bool = False, retriable: bool = False) -> None:
            self._name, self._fatal, self._retriable = name, fatal, retriable

        def name(self) -> str:
            return self._name

        def fatal(self) -> bool:
            return self._fatal

        def retriable(self) -> bool:
            return self._retriable

    class KafkaException(Exception):
        pass

    module = types.ModuleType("confluent_kafka")
    module.KafkaError = KafkaError  # type: ignore[attr-defined]
    module.KafkaException = KafkaException  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "confluent_kafka", module)
    yield module


@pytest.mark.parametrize(
    ("error", "kind"),
    [({"name": "_ALL_BROKERS_DOWN"}, TemporaryConnectorError),
     ({"name": "_MSG_TIMED_OUT"}, TemporaryConnectorError),
     ({"name": "SOMETHING_NEW", "retriable": True}, TemporaryConnectorError),
     ({"name": "SASL_AUTHENTICATION_FAILED"}, PermanentConnectorError),
     ({"name": "MSG_SIZE_TOO_LARGE"}, PermanentConnectorError),
     ({"name": "_TRANSPORT", "fatal": True}, PermanentConnectorError)],
)  # fmt: skip
def test_kafka(kafka: types.ModuleType, error: dict[str, Any], kind: type[ConnectorError]) -> None:
    name = error.pop("name")
    exc = kafka.KafkaException(kafka.KafkaError(name, **error))
    assert type(translate(exc, "OpenLineage kafka failed")) is kind
    assert type(translate(BufferError("queue full"), "x")) is TemporaryConnectorError


def test_an_unknown_failure_stays_in_the_spool() -> None:
    assert type(translate(RuntimeError("?"), "x")) is TemporaryConnectorError
    error = translate(RuntimeError("?"), "x", default=PermanentConnectorError)
    assert type(error) is PermanentConnectorError and str(error) == "x: RuntimeError: ?"
