"""Profiling bronze files: the warehouse profile's metrics, streamed batch by batch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from connectors.files import profile_files
from connectors.files.stats import DISTINCT_LIMIT
from lineage.errors import PermanentConnectorError
from lineage.model import DatasetId
from tests.connectors.files.conftest import EXTRACTED, pa, pq, write_seed

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)


def test_seed_profile(tmp_path: Path) -> None:
    root = write_seed(tmp_path / "bronze") / "erp" / "cust_az12"
    profile = profile_files(str(root), now=NOW)
    assert profile.dataset == DatasetId("file", str(root)) and profile.observed_at == NOW
    assert profile.sampled_rows is None
    assert profile.metric("row_count") == 50
    # gen is null for every fourth id: ids 100..129 and 200..219.
    nulls = sum(1 for i in [*range(100, 130), *range(200, 220)] if i % 4 == 0)
    assert profile.metric("null_count", "gen") == nulls
    assert profile.metric("null_rate", "gen") == pytest.approx(nulls / 50)
    assert profile.metric("distinct_count", "gen") == 2
    assert profile.metric("distinct_count", "cid") == 50
    assert profile.metric("min", "month") == 1 and profile.metric("max", "month") == 2
    assert profile.metric("min", "cid") is None  # text goes to bounds
    bounds = {column: (low, high) for column, low, high in profile.bounds}
    assert bounds["cid"] == ("NASAW00100", "NASAW00219")
    assert bounds["bdate"] == ("1970-04-11", "1970-08-08")
    # The newest extraction: month 2's first row (ids count seconds back from EXTRACTED).
    newest = EXTRACTED.timestamp() - 31 * 86400 * 10 - 200
    assert profile.metric("last_loaded_at", "_airbyte_extracted_at") == newest


def test_loaded_at_columns_order_and_text_timestamps(tmp_path: Path) -> None:
    data = pa.table({
        "dwh_loaded_at": ["2024-01-01T00:00:00Z", "2024-03-01T10:00:00+00:00"],
        "_loaded_at": [datetime(2030, 1, 1), None],
        "amount": pa.array([1.5, None]),
    })  # fmt: skip
    pq.write_table(data, tmp_path / "x.parquet")
    profile = profile_files(str(tmp_path))
    expected = datetime(2024, 3, 1, 10, tzinfo=timezone.utc).timestamp()
    assert profile.metric("last_loaded_at", "dwh_loaded_at") == expected
    assert profile.metric("last_loaded_at", "_loaded_at") is None  # only the first present
    assert profile.metric("max", "amount") == 1.5 and profile.metric("null_rate", "amount") == 0.5
    custom = profile_files(str(tmp_path), loaded_at_columns=("_loaded_at",))
    assert (
        custom.metric("last_loaded_at", "_loaded_at")
        == datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()
    )


def test_sampling_keeps_row_count_exact(tmp_path: Path) -> None:
    for part in range(8):
        folder = tmp_path / f"part={part}"
        folder.mkdir()
        pq.write_table(
            pa.table({"n": pa.array(range(part * 1000, part * 1000 + 1000))}), folder / "f.parquet"
        )
    profile = profile_files(str(tmp_path), sample_above_rows=2500)
    assert profile.metric("row_count") == 8000
    assert profile.sampled_rows == 2500
    # Spread over the dataset, not the first files only.
    assert profile.metric("max", "n") >= 4000  # type: ignore[operator]
    assert profile_files(str(tmp_path), sample_above_rows=9000).sampled_rows is None


def test_distinct_count_stops_above_the_limit(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"n": pa.array(range(DISTINCT_LIMIT + 1)), "k": [1] * (DISTINCT_LIMIT + 1)}),
        tmp_path / "x.parquet",
    )
    profile = profile_files(str(tmp_path))
    assert profile.metric("distinct_count", "n") is None
    assert profile.metric("distinct_count", "k") == 1


def test_bad_input_raises_a_connector_error_naming_the_file(tmp_path: Path) -> None:
    pq.write_table(pa.table({"n": [1]}), tmp_path / "a.parquet")
    (tmp_path / "b.parquet").write_bytes(b"PAR1 junk")
    with pytest.raises(PermanentConnectorError) as caught:
        profile_files(str(tmp_path))
    assert caught.value.message.startswith(f"{tmp_path / 'b.parquet'}: ")
    with pytest.raises(PermanentConnectorError, match="no such file"):
        profile_files(str(tmp_path / "missing"))


def test_memory_stays_bounded_on_a_large_dataset(tmp_path: Path) -> None:
    # ~100 MB of incompressible int64/float64 in 16 files; the profile runs in a fresh process
    # so that the pool's peak (pyarrow's max_memory) measures the profile alone.
    import numpy as np

    rng = np.random.default_rng(7)
    rows = 330_000
    for index in range(16):
        folder = tmp_path / f"day={index:02d}"
        folder.mkdir()
        table = pa.table({
            "id": pa.array(rng.integers(0, 2**62, rows)),
            "value": pa.array(rng.random(rows)),
        })  # fmt: skip
        pq.write_table(table, folder / "part.parquet", row_group_size=65_536, compression="none")
    size = sum(p.stat().st_size for p in tmp_path.rglob("*.parquet"))
    assert size > 95 * 1024**2
    script = textwrap.dedent(f"""
        import pyarrow as pa
        from connectors.files import profile_files
        profile = profile_files({str(tmp_path)!r})
        print(int(profile.metric("row_count")), pa.default_memory_pool().max_memory())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parents[3], timeout=120)  # fmt: skip
    counted, peak = (int(v) for v in done.stdout.split())
    assert counted == rows * 16
    assert peak < size / 6, f"peak {peak} bytes for a {size}-byte dataset"


def test_csv_and_json_lines_profiles_count_every_row(tmp_path: Path) -> None:
    csv = tmp_path / "csv" / "region=ID"
    csv.mkdir(parents=True)
    (csv / "a.csv").write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in range(3000)))
    profile = profile_files(str(tmp_path / "csv"))
    assert profile.metric("row_count") == 3000 and profile.metric("max", "id") == 2999
    assert profile.metric("distinct_count", "region") == 1
    lines = tmp_path / "events.jsonl"
    lines.write_text("".join(f'{{"n": {i}, "s": null}}\n' for i in range(10)))
    events = profile_files(str(lines))
    assert events.dataset == DatasetId("file", str(lines))
    assert events.metric("row_count") == 10 and events.metric("null_rate", "s") == 1.0
