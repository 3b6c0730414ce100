"""The real DataHubRestEmitter against a recording GMS stand-in on 127.0.0.1.

The stand-in answers ``GET /config`` the way GMS does (``noCode: "true"`` and a version)
and records every ``POST /aspects?action=ingestProposal(Batch)``; a script of replies
makes it fail (500s, a slow answer, a refused aspect) to prove retries and error reports.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from datahub.emitter.mcp import MetadataChangeProposalWrapper

from connectors.datahub import (
    DataHubSettings,
    PushTarget,
    aspect_hash,
    aspect_key,
    build_mcps,
    push,
)
from lineage.catalog import Catalog
from lineage.errors import ConfigError, ConnectorError

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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
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
    gms.script = [Reply(200, {}, delay=2.5)]
    report = push(datahub_catalog, rest(gms), DataHubSettings(retries=2, timeout=1.0))
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
