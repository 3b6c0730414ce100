"""Real failures for the connector tests: an HTTP endpoint on 127.0.0.1 answering the
statuses a test scripts, a port nothing listens on, and a call made without root's
right to write anywhere."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Answering:
    """What the endpoint answers (``statuses``, then ``status``), and what it received."""

    url: str = ""
    status: int = 200
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    requests: list[str] = field(default_factory=list)

    def answer(self) -> int:
        return self.statuses.pop(0) if self.statuses else self.status


def _handler(endpoint: Answering) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _reply(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            endpoint.requests.append(f"{self.command} {self.path}")
            status = endpoint.answer()
            if endpoint.delay:
                time.sleep(endpoint.delay)
            body = b'{"message": "scripted answer"}'
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting

        do_GET = do_POST = _reply

    return Handler


@pytest.fixture
def answering() -> Iterator[Answering]:
    """An HTTP endpoint on 127.0.0.1 that answers every request with a scripted status."""
    endpoint = Answering()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(endpoint))
    server.daemon_threads = True
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval: shutdown() waits for one, at the end of every test.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield endpoint
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port() -> int:
    """A port that was bound and closed again: nothing listens there."""
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as server:
        return int(server.server_address[1])


def unprivileged(call: Callable[[], str]) -> str:
    """``call()`` without the right to write to folders it does not own: as is when not
    root, else in a forked child that drops to the ``nobody`` user first (root may write
    anywhere). Returns what ``call`` returned (the name of what it raised, say)."""
    if os.geteuid() != 0:
        return call()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.write(write, call().encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        found = answer.read().decode()
    os.waitpid(pid, 0)
    return found


def read_only_folder(folder: os.PathLike[str]) -> None:
    """Make ``folder`` unwritable for ``unprivileged`` calls."""
    os.chmod(folder, 0o555)
