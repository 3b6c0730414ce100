"""Parquet folders on the local disk: footers, unified schemas, Hive partitions, layout,
findings, and bad input as issues."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.files import discover, observe_files
from lineage.model import DatasetId, DatasetKind, Severity
from tests.connectors.files.conftest import cust_table, loc_table, pa, pq, write_seed


@pytest.fixture
def bronze(tmp_path: Path) -> Path:
    return write_seed(tmp_path / "bronze")


def test_seed_customers(bronze: Path) -> None:
    root = bronze / "erp" / "cust_az12"
    observation = observe_files(f"{root}/")
    assert observation.source == str(root)
    assert observation.issues == () and observation.findings == ()
    (table,) = observation.tables
    assert table.id == DatasetId("file", str(root))
    assert table.kind is DatasetKind.LOCATION and table.location == str(root)
    assert [(c.name, c.type, c.partition) for c in table.columns] == [
        ("_airbyte_raw_id", "string", False),
        ("_airbyte_extracted_at", "timestamp[us, tz=UTC]", False),
        ("cid", "string", False),
        ("gen", "string", False),
        ("bdate", "date32[day]", False),
        ("year", "int32", True),
        ("month", "int32", True),
    ]
    layout = table.layout
    assert layout is not None
    assert (layout.format, layout.root, layout.partition_columns) == (
        "parquet",
        str(root),
        ("year", "month"),
    )
    assert [p.path for p in layout.partitions] == ["year=2024/month=01", "year=2024/month=02"]
    assert [p.row_count for p in layout.partitions] == [30, 20]
    assert layout.row_count == 50 and layout.file_count == 2
    sizes = sorted(p.stat().st_size for p in root.rglob("*.parquet"))
    assert sorted(p.total_bytes for p in layout.partitions) == sizes


def test_a_partition_folder_or_glob_names_the_dataset_root(bronze: Path) -> None:
    root = bronze / "erp" / "cust_az12"
    one = observe_files(str(root / "year=2024" / "month=02"))
    (table,) = one.tables
    assert table.id == DatasetId("file", str(root))
    assert table.layout is not None and [p.path for p in table.layout.partitions] == [
        "year=2024/month=02"
    ]
    globbed = observe_files(f"{root}/year=*/month=01/*.parquet")
    assert [p.row_count for p in globbed.tables[0].layout.partitions] == [30]  # type: ignore[union-attr]


def test_small_files_only_where_many_tiny_files(bronze: Path) -> None:
    observation = observe_files(str(bronze / "erp" / "loc_a101"))
    (table,) = observation.tables
    assert table.layout is not None
    counts = {p.path: (p.file_count, p.row_count) for p in table.layout.partitions}
    assert counts == {"country=ID": (12, 60), "country=SG": (1, 7)}
    assert [c.name for c in table.columns if c.partition] == ["country"]
    (finding,) = observation.findings
    assert finding.kind == "small_files" and finding.severity is Severity.WARNING
    assert finding.message.startswith("partition country=ID: 12 files averaging")
    assert "128 MB-1 GB" in finding.message
    # With a target below the files' size nothing is flagged.
    assert observe_files(str(bronze / "erp" / "loc_a101"), small_file_bytes=1000).findings == ()


def test_schema_mismatch_is_reported_and_the_schema_unified(bronze: Path) -> None:
    root = bronze / "erp" / "cust_az12"
    later = root / "year=2024" / "month=03"
    later.mkdir()
    changed = (
        cust_table(5).drop_columns(["gen"]).set_column(2, "cid", pa.array(range(5), pa.int64()))
    )
    pq.write_table(changed, later / "part-0.parquet")
    observation = observe_files(str(root))
    (table,) = observation.tables
    # First-seen wins for types that cannot be merged; the missing column is kept.
    assert [(c.name, c.type) for c in table.columns][:5] == [
        ("_airbyte_raw_id", "string"),
        ("_airbyte_extracted_at", "timestamp[us, tz=UTC]"),
        ("cid", "string"),
        ("gen", "string"),
        ("bdate", "date32[day]"),
    ]
    (finding,) = observation.findings
    assert finding.kind == "schema_mismatch" and finding.severity is Severity.WARNING
    assert finding.message == (
        f"{later}/part-0.parquet: missing column gen; "
        "column cid is int64 here, string in the dataset"
    )


def test_compatible_types_are_promoted(tmp_path: Path) -> None:
    pq.write_table(pa.table({"n": pa.array([1], pa.int32())}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"n": pa.array([2], pa.int64())}), tmp_path / "b.parquet")
    observation = observe_files(str(tmp_path))
    assert [c.type for c in observation.tables[0].columns] == ["int64"]
    assert "n is int32 here, int64 in the dataset" in observation.findings[0].message


def test_only_footers_are_read(tmp_path: Path) -> None:
    # Data pages overwritten, footer intact: the footer's row count and schema still come out.
    path = tmp_path / "data.parquet"
    pq.write_table(loc_table(2000), path, compression="none")
    raw = bytearray(path.read_bytes())
    raw[8 : len(raw) // 2] = b"\xff" * (len(raw) // 2 - 8)
    path.write_bytes(bytes(raw))
    with pytest.raises((OSError, ValueError)):  # ArrowInvalid, ArrowIOError
        pq.read_table(path)
    observation = observe_files(str(path))
    assert observation.issues == ()
    (table,) = observation.tables
    assert table.id == DatasetId("file", str(path))
    assert table.layout is not None and table.layout.row_count == 2000


def test_corrupt_and_unreadable_files_are_issues_and_the_rest_goes_on(bronze: Path) -> None:
    root = bronze / "erp" / "cust_az12"
    corrupt = root / "year=2024" / "month=01" / "part-1.parquet"
    corrupt.write_bytes(b"PAR1 not really parquet")
    truncated = root / "year=2024" / "month=02" / "part-1.parquet"
    whole = (root / "year=2024" / "month=02" / "part-0.parquet").read_bytes()
    truncated.write_bytes(whole[: len(whole) // 2])
    observation = observe_files(str(root))
    assert [i.subject for i in observation.issues] == [str(corrupt), str(truncated)]
    assert all("Parquet" in i.message or "parquet" in i.message for i in observation.issues)
    (table,) = observation.tables
    assert table.layout is not None and table.layout.row_count == 50  # the good files


def test_empty_and_missing_roots(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "_temporary").mkdir(parents=True)
    (empty / "_SUCCESS").write_text("")
    observation = observe_files(str(empty))
    assert observation.tables == ()
    assert [i.subject for i in observation.issues] == [str(empty)]
    missing = observe_files(str(tmp_path / "nowhere"))
    assert missing.tables == () and missing.findings == ()
    assert [str(i) for i in missing.issues] == [f"{tmp_path}/nowhere: no such file or folder"]


def test_discover_a_bronze_folder(bronze: Path) -> None:
    (bronze / "crm" / "cust_info").mkdir(parents=True)
    pq.write_table(loc_table(3), bronze / "crm" / "cust_info" / "x.parquet")
    (bronze / "crm" / "empty").mkdir()
    (bronze / "erp" / "broken").mkdir()
    (bronze / "erp" / "broken" / "x.parquet").write_bytes(b"garbage")
    observation = discover(str(bronze))
    names = [t.id.name for t in observation.tables]
    assert names == [str(bronze / n) for n in ("crm/cust_info", "erp/cust_az12", "erp/loc_a101")]
    assert [i.subject for i in observation.issues] == [str(bronze / "erp/broken/x.parquet")]
    assert [(f.dataset.name, f.kind) for f in observation.findings] == [
        (str(bronze / "erp/loc_a101"), "small_files")
    ]
    assert discover(str(bronze)) == observation  # deterministic


def test_unknown_format_is_a_config_error(bronze: Path) -> None:
    from lineage.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown bronze format"):
        observe_files(str(bronze), format="orc")


def test_a_file_without_read_permission_is_an_issue(tmp_path: Path) -> None:
    # As root every file is readable: the observation runs as ``nobody`` (see unprivileged).
    import os
    import shutil
    import tempfile

    from tests.connectors.conftest import unprivileged

    shared = Path(tempfile.mkdtemp(prefix="bronze-perm-"))
    try:
        os.chmod(shared, 0o755)
        pq.write_table(loc_table(4), shared / "a.parquet")
        pq.write_table(loc_table(4), shared / "b.parquet")
        os.chmod(shared / "a.parquet", 0o644)
        os.chmod(shared / "b.parquet", 0o000)

        def observe() -> str:
            found = observe_files(str(shared))
            rows = found.tables[0].layout.row_count if found.tables else None  # type: ignore[union-attr]
            return f"{rows}|" + "|".join(f"{i.subject}={i.message}" for i in found.issues)

        rows, issue = unprivileged(observe).split("|", 1)
        assert rows == "4"
        assert issue.startswith(f"{shared}/b.parquet=")
        assert "ermission denied" in issue
    finally:
        shutil.rmtree(shared)


def test_the_dataset_name_can_be_given(bronze: Path) -> None:
    name = DatasetId("s3://landing", "erp/loc_a101")
    observation = observe_files(str(bronze / "erp" / "loc_a101"), dataset=name)
    assert observation.tables[0].id == name
    assert observation.tables[0].location == str(bronze / "erp" / "loc_a101")
    assert [f.dataset for f in observation.findings] == [name]
