"""The real DataHubRestEmitter against a recording GMS stand-in on 127.0.0.1.

The stand-in answers ``GET /config`` the way GMS does (``noCode: "true"`` and a version)
and records every ``POST /aspects?action=ingestProposal(Batch)``; a script of replies
makes it fail (500s, a slow answer, a refused aspect) to prove retries and error reports,
and which failures are temporary (retried, worth pushing again) or permanent (not retried).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from datahub.emitter.mcp import MetadataChangeProposalWrapper

from connectors.classify import status_kind
from connectors.datahub import (
    DataHubSettings,
    PushTarget,
    aspect_hash,
    aspect_key,
    build_mcps,
    push,
)
from connectors.datahub.errors import RETRIED_STATUSES
from connectors.datahub.sinks import open_sink
from lineage.catalog import Catalog
from lineage.errors import (
    ConfigError,
    ConnectorError,
    PermanentConnectorError,
    TemporaryConnectorError,
)
from tests.connectors.conftest import read_only_folder, unprivileged

GOLD_URN = "urn:li:dataset:(urn:li:dataPlatform:redshift,gold.customer_age_groups,PROD)"
TOKEN = "s3cr3t-token-value"
GMS_CONFIG = {
    "noCode": "true",
    "versions": {"acryldata/datahub": {"version": "v1.0.0", "commit": "abc"}},
}


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeGms:
    """What the stand-in received, and how it will answer."""

    url: str = ""
    config: Reply = field(default_factory=lambda: Reply(200, GMS_CONFIG))
    script: list[Reply] = field(default_factory=list)  # replies to the next POSTs
    refuse: Callable[[dict[str, Any]], bool] | None = None  # 400 for such proposals
    requests: list[Recorded] = field(default_factory=list)

    @property
    def proposals(self) -> list[dict[str, Any]]:
        """Every proposal of every answered-200 request, in order."""
        out: list[dict[str, Any]] = []
        for request in self.requests:
            if request.headers.get("x-answered") == "200":
                out.extend(request.body.get("proposals") or [request.body["proposal"]])
        return out


def _handler(gms: FakeGms) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _answer(self, reply: Reply) -> None:
            if reply.delay:
                time.sleep(reply.delay)
            payload = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def do_GET(self) -> None:
            self._answer(gms.config if self.path == "/config" else Reply(404, {}))

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            recorded = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            gms.requests.append(recorded)
            proposals = body.get("proposals") or [body.get("proposal")]
            if gms.script:
                reply = gms.script.pop(0)
            elif gms.refuse is not None and any(gms.refuse(p) for p in proposals):
                reply = Reply(400, {"status": 400, "message": "Failed to validate record"})
            else:
                reply = Reply(200, {"value": [p["entityUrn"] for p in proposals]})
            recorded.headers["x-answered"] = str(reply.status) if not reply.delay else "late"
            self._answer(reply)

    return Handler


@pytest.fixture
def gms() -> Iterator[FakeGms]:
    fake = FakeGms()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval: shutdown() waits for one, at the end of every test.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_DATAHUB_TOKEN", TOKEN)
    monkeypatch.delenv("DATAHUB_GMS_TOKEN", raising=False)


def rest(gms: FakeGms) -> PushTarget:
    return PushTarget.rest(gms.url + "/", token_env="TEST_DATAHUB_TOKEN")


def decoded(proposals: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    out = {}
    for proposal in proposals:
        mcp = MetadataChangeProposalWrapper.from_obj(json.loads(json.dumps(proposal)))
        assert isinstance(mcp, MetadataChangeProposalWrapper) and mcp.validate()
        out[aspect_key(mcp)] = aspect_hash(mcp)
    return out


def test_requests_decode_back_into_the_mcps(datahub_catalog: Catalog, gms: FakeGms) -> None:
    settings = DataHubSettings(batch_size=20)
    report = push(datahub_catalog, rest(gms), settings)
    built = {aspect_key(m): aspect_hash(m) for m in build_mcps(datahub_catalog)}
    assert report.sent == len(built) and report.target == f"rest:{gms.url}"
    assert decoded(gms.proposals) == built
    batches = [r for r in gms.requests if r.path == "/aspects?action=ingestProposalBatch"]
    assert len(batches) == len(gms.requests) == -(-len(built) // 20)  # batched, no singles
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in batches)
    assert all(r.body["async"] == "false" for r in batches)
    runs = {p["systemMetadata"]["runId"] for p in gms.proposals}
    assert len(runs) == 1 and runs.pop().startswith("silverline-")

    again = push(datahub_catalog, rest(gms), settings)
    assert again.sent == 0 and len(gms.requests) == len(batches)  # nothing sent twice


def test_a_500_is_retried(datahub_catalog: Catalog, gms: FakeGms) -> None:
    gms.script = [Reply(500, {"message": "GMS is restarting"})]
    report = push(datahub_catalog, rest(gms), DataHubSettings(retries=2))
    assert report.sent == report.built
    assert [r.headers["x-answered"] for r in gms.requests] == ["500", "200"]
    assert gms.requests[0].body == gms.requests[1].body
    assert decoded(gms.proposals) == {
        aspect_key(m): aspect_hash(m) for m in build_mcps(datahub_catalog)
    }


def test_a_timeout_is_retried(datahub_catalog: Catalog, gms: FakeGms) -> None:
    # A margin a loaded CI machine keeps: the retried request must answer within 2 s.
    gms.script = [Reply(200, {}, delay=4.0)]
    report = push(datahub_catalog, rest(gms), DataHubSettings(retries=2, timeout=2.0))
    assert report.sent == report.built
    assert [r.headers["x-answered"] for r in gms.requests] == ["late", "200"]


def test_persistent_failure_is_reported_and_what_got_through_is_kept(
    datahub_catalog: Catalog, gms: FakeGms
) -> None:
    settings = DataHubSettings(batch_size=10, retries=1)
    gms.script = [Reply(200, {})] + [Reply(503, {"message": "overloaded"})] * 2
    target = rest(gms)
    with pytest.raises(ConnectorError) as caught:
        push(datahub_catalog, target, settings)
    message = str(caught.value)
    assert "HTTP 503 (after 1 retries): overloaded" in message
    assert "10 of" in message and gms.url in message
    assert TOKEN not in message
    state = datahub_catalog.push_state(target.canonical)
    assert set(state) == set(decoded(gms.requests[0].body["proposals"]))

    report = push(datahub_catalog, target, settings)  # the rest, and only the rest
    assert report.sent == report.built - 10


def test_a_refused_aspect_is_named(datahub_catalog: Catalog, gms: FakeGms) -> None:
    def bad(proposal: dict[str, Any]) -> bool:
        return proposal["entityUrn"] == GOLD_URN and proposal["aspectName"] == "schemaMetadata"

    gms.refuse = bad
    target = rest(gms)
    with pytest.raises(ConnectorError) as caught:
        push(datahub_catalog, target, DataHubSettings(batch_size=500))
    error = caught.value
    assert f"DataHub refused aspect schemaMetadata of {GOLD_URN} (HTTP 400)" in str(error)
    assert "Failed to validate record" in str(error)
    assert error.obj == GOLD_URN
    # One refused batch, then one request per aspect up to the refused one.
    assert gms.requests[0].headers["x-answered"] == "400"
    singles = [r for r in gms.requests[1:] if r.path == "/aspects?action=ingestProposal"]
    assert len(singles) == len(gms.requests) - 1
    assert bad(singles[-1].body["proposal"])
    delivered = decoded([r.body["proposal"] for r in singles[:-1]])
    assert datahub_catalog.push_state(target.canonical) == delivered


def test_refused_credentials(datahub_catalog: Catalog, gms: FakeGms) -> None:
    gms.script = [Reply(401, {"message": "Unauthorized"})]
    with pytest.raises(ConnectorError, match=r"refused the credentials \(HTTP 401\)") as caught:
        push(datahub_catalog, rest(gms))
    assert TOKEN not in str(caught.value)
    assert len(gms.requests) == 1  # no retries, no per-aspect resending


def test_not_a_gms(datahub_catalog: Catalog, gms: FakeGms) -> None:
    gms.config = Reply(200, {"versions": {}})  # the frontend answers without noCode
    with pytest.raises(ConnectorError, match="frontend service instead of the GMS"):
        push(datahub_catalog, rest(gms))
    gms.config = Reply(404, {})
    with pytest.raises(ConnectorError, match="status_code: 404"):
        push(datahub_catalog, rest(gms))
    assert gms.requests == []


def test_unreachable_server(datahub_catalog: Catalog) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as server:
        port = server.server_address[1]  # bound, then closed: nothing listens there
    target = PushTarget.rest(f"http://127.0.0.1:{port}")
    with pytest.raises(ConnectorError, match="did not answer"):
        push(datahub_catalog, target, DataHubSettings(retries=0))
    assert datahub_catalog.push_state(target.canonical) == {}


def test_token_variable_must_be_set(datahub_catalog: Catalog, gms: FakeGms) -> None:
    with pytest.raises(ConfigError, match=r"\$NOPE_TOKEN is not set"):
        push(datahub_catalog, PushTarget.rest(gms.url, token_env="NOPE_TOKEN"))
    with pytest.raises(ConfigError, match="http"):
        PushTarget.rest("gms:8080")


# -- temporary or permanent ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("replies", "retries", "kind", "sent", "message"),
    [
        ([Reply(503, {"message": "overloaded"})] * 2, 1, TemporaryConnectorError, 2,
         r"HTTP 503 \(after 1 retries\): overloaded"),
        ([Reply(500, {"message": "restarting"})], 0, TemporaryConnectorError, 1,
         r"HTTP 500 \(after 0 retries\): restarting"),
        ([Reply(429, {"message": "slow down"})] * 4, 0, TemporaryConnectorError, None,
         r"HTTP 429"),
        ([Reply(401, {"message": "Unauthorized"})], 3, PermanentConnectorError, 1,
         r"refused the credentials \(HTTP 401\)"),
        ([Reply(403, {"message": "Forbidden"})], 3, PermanentConnectorError, 1,
         r"refused the credentials \(HTTP 403\)"),
        ([Reply(404, {"message": "no such endpoint"})], 3, PermanentConnectorError, 1,
         r"HTTP 404 \(after 3 retries\)"),
    ],
)  # fmt: skip
def test_temporary_answers_are_retried_and_permanent_ones_are_not(
    datahub_catalog: Catalog,
    gms: FakeGms,
    replies: list[Reply],
    retries: int,
    kind: type[ConnectorError],
    sent: int | None,
    message: str,
) -> None:
    gms.script = list(replies)
    with pytest.raises(ConnectorError, match=message) as caught:
        push(datahub_catalog, rest(gms), DataHubSettings(retries=retries))
    assert type(caught.value) is kind
    if sent is not None:  # 429s get extra retries (the SDK's multiplier): at least one
        assert len(gms.requests) == sent
    assert {r.path for r in gms.requests} == {"/aspects?action=ingestProposalBatch"}
    assert datahub_catalog.push_state(rest(gms).canonical) == {}


def test_every_retried_status_is_temporary() -> None:
    assert all(status_kind(status) is TemporaryConnectorError for status in RETRIED_STATUSES)


def test_a_refused_aspect_is_permanent_and_sent_once(
    datahub_catalog: Catalog, gms: FakeGms
) -> None:
    gms.refuse = lambda p: p["aspectName"] == "schemaMetadata" and p["entityUrn"] == GOLD_URN
    with pytest.raises(PermanentConnectorError, match="DataHub refused aspect schemaMetadata"):
        push(datahub_catalog, rest(gms), DataHubSettings(batch_size=500, retries=3))
    refused = [r for r in gms.requests if r.headers["x-answered"] == "400"]
    assert len(refused) == 2  # the batch once, then the aspect once: never retried


def test_a_lasting_timeout_is_temporary(datahub_catalog: Catalog, gms: FakeGms) -> None:
    gms.script = [Reply(200, {}, delay=1.0)] * 2
    settings = DataHubSettings(retries=1, timeout=0.3)
    with pytest.raises(TemporaryConnectorError, match=r"did not answer \(after 1 retries\)"):
        push(datahub_catalog, rest(gms), settings)
    assert [r.headers["x-answered"] for r in gms.requests] == ["late", "late"]


@pytest.mark.parametrize(
    ("config", "kind", "message"),
    [
        (Reply(503, {}), TemporaryConnectorError, "status_code: 503"),
        (Reply(401, {}), PermanentConnectorError, "authentication error"),
        (Reply(404, {}), PermanentConnectorError, "status_code: 404"),
        (Reply(200, {"versions": {}}), PermanentConnectorError, "frontend service"),
    ],
)
def test_what_gms_config_answers(
    datahub_catalog: Catalog, gms: FakeGms, config: Reply, kind: type[ConnectorError], message: str
) -> None:
    gms.config = config
    with pytest.raises(ConnectorError, match=message) as caught:
        push(datahub_catalog, rest(gms), DataHubSettings(retries=0))
    assert type(caught.value) is kind and gms.requests == []


def test_a_closed_port_is_temporary(datahub_catalog: Catalog, closed_port: int) -> None:
    target = PushTarget.rest(f"http://127.0.0.1:{closed_port}")
    with pytest.raises(TemporaryConnectorError, match="did not answer"):
        push(datahub_catalog, target, DataHubSettings(retries=0))


def test_a_file_without_permission_is_permanent(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    read_only_folder(folder)

    def write() -> str:
        sink = open_sink(PushTarget.file(folder / "mcps.json"), DataHubSettings())
        sink.send([])
        try:
            sink.finish()
        except ConnectorError as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            sink.close()
        return "written"

    found = unprivileged(write)
    assert found.startswith("PermanentConnectorError:") and "Permission denied" in found
    assert "cannot write the MCP file" in found


def test_lite_that_is_not_a_database_is_permanent(datahub_catalog: Catalog, tmp_path: Path) -> None:
    lite = tmp_path / "lite.db"
    lite.write_bytes(b"not a database, not at all" * 100)
    with pytest.raises(PermanentConnectorError, match="cannot open DataHub Lite"):
        push(datahub_catalog, PushTarget.lite(lite))
