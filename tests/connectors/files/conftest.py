"""Bronze folders for the files connector, generated in each test: the seed's shapes
(``bronze/erp/cust_az12`` with Airbyte columns, Hive-partitioned by year and month;
``bronze/erp/loc_a101`` partitioned by country, one partition of many tiny files), and a
real S3 server: moto's, started in-process on 127.0.0.1 for the session."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ACCESS_KEY = "AKIAFILESTEST0000001"
SECRET_KEY = "s3cr3t-Files-Connector-Key/0123456789abcd"
EXTRACTED = datetime(2024, 2, 3, 4, 5, 6, tzinfo=timezone.utc)


def cust_table(rows: int, start: int = 0, month: int = 1) -> Any:
    """Rows of the seed's ``erp.cust_az12`` as Airbyte lands them."""
    ids = range(start, start + rows)
    return pa.table(
        {
            "_airbyte_raw_id": pa.array([f"raw-{i:06d}" for i in ids], pa.string()),
            "_airbyte_extracted_at": pa.array(
                [EXTRACTED - timedelta(days=31 * (12 - month), seconds=i) for i in ids],
                pa.timestamp("us", tz="UTC"),
            ),
            "cid": pa.array([f"NASAW{i:05d}" for i in ids], pa.string()),
            "gen": pa.array([None if i % 4 == 0 else ("M" if i % 2 else "F") for i in ids]),
            "bdate": pa.array([datetime(1970, 1, 1).date() + timedelta(days=i) for i in ids]),
        }
    )


def loc_table(rows: int, start: int = 0) -> Any:
    ids = range(start, start + rows)
    return pa.table(
        {
            "cid": pa.array([f"AW-{i:05d}" for i in ids], pa.string()),
            "cntry": pa.array(["Indonesia"] * rows, pa.string()),
        }
    )


def write_seed(bronze: Path) -> Path:
    """``bronze/erp/cust_az12/year=2024/month=01,02/`` (one file each) and
    ``bronze/erp/loc_a101/country=ID/`` (12 tiny files) + ``country=SG/`` (one file)."""
    for month, rows in ((1, 30), (2, 20)):
        folder = bronze / "erp" / "cust_az12" / "year=2024" / f"month={month:02d}"
        folder.mkdir(parents=True)
        pq.write_table(cust_table(rows, start=month * 100, month=month), folder / "part-0.parquet")
    tiny = bronze / "erp" / "loc_a101" / "country=ID"
    tiny.mkdir(parents=True)
    for index in range(12):
        pq.write_table(loc_table(5, start=index * 5), tiny / f"part-{index:03d}.parquet")
    one = bronze / "erp" / "loc_a101" / "country=SG"
    one.mkdir(parents=True)
    pq.write_table(loc_table(7, start=900), one / "part-000.parquet")
    return bronze


@dataclass(frozen=True)
class S3Server:
    """moto's S3 server on 127.0.0.1: its endpoint and the options that reach it."""

    endpoint: str
    port: int

    @property
    def options(self) -> dict[str, str]:
        return {
            "endpoint_url": self.endpoint,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
            "region": "us-east-1",
        }

    def filesystem(self) -> Any:
        from pyarrow import fs

        return fs.S3FileSystem(
            endpoint_override=f"127.0.0.1:{self.port}", scheme="http",
            access_key=ACCESS_KEY, secret_key=SECRET_KEY, region="us-east-1",
            allow_bucket_creation=True,
        )  # fmt: skip

    def create_bucket(self, name: str) -> None:
        self.filesystem().create_dir(name)

    def upload(self, local: Path, bucket_prefix: str) -> None:
        """Copy the files below ``local`` to ``bucket/prefix`` (same relative paths)."""
        target = self.filesystem()
        for path in sorted(local.rglob("*")):
            if path.is_file():
                key = f"{bucket_prefix}/{path.relative_to(local).as_posix()}"
                with target.open_output_stream(key) as out:
                    out.write(path.read_bytes())


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A real S3 API (moto's server mode) on a free port of 127.0.0.1."""
    server_module = pytest.importorskip("moto.server")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3Server(f"http://127.0.0.1:{port}", port)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_process_server() -> Iterator[S3Server]:
    """moto's S3 server in a child process, for deltalake: ``DeltaTable.history()`` holds
    the GIL while it waits for S3, so it deadlocks against a server in this process."""
    import subprocess
    import sys
    import time
    import urllib.request

    pytest.importorskip("moto.server")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or child.poll() is not None:
                    pytest.fail("moto's server did not start", pytrace=False)
                time.sleep(0.05)
        yield S3Server(f"http://127.0.0.1:{port}", port)
    finally:
        child.terminate()
        child.wait(timeout=10)
