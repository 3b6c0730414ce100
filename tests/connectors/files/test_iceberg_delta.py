"""Iceberg tables (pyiceberg's SQL catalog on SQLite) and Delta tables (deltalake):
schema, partition spec, snapshots newest first, layout from the current data files."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from connectors.files import discover, observe_files, profile_files
from lineage.errors import ConnectorError
from lineage.model import DatasetId, DatasetKind
from tests.connectors.files.conftest import pa, write_seed

pytest.importorskip("pyiceberg")
deltalake = pytest.importorskip("deltalake")


def _rows(start: int, countries: list[str]) -> Any:
    return pa.table(
        {
            "id": pa.array(range(start, start + len(countries)), pa.int64()),
            "country": pa.array(countries, pa.string()),
            "_loaded_at": pa.array(
                [datetime(2024, 5, 1, 12, start, tzinfo=timezone.utc)] * len(countries),
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )


def _iceberg(warehouse: Path) -> Any:
    from pyiceberg.catalog.sql import SqlCatalog

    warehouse.mkdir(parents=True, exist_ok=True)
    catalog = SqlCatalog(
        "local", uri=f"sqlite:///{warehouse}/catalog.db", warehouse=f"file://{warehouse}"
    )
    catalog.create_namespace("erp")
    table = catalog.create_table("erp.loc_a101", schema=_rows(0, ["ID"]).schema)
    with table.update_spec() as spec:
        spec.add_identity("country")
    table = catalog.load_table("erp.loc_a101")
    table.append(_rows(0, ["ID", "ID", "SG"]))
    table.append(_rows(10, ["ID"]))
    return catalog.load_table("erp.loc_a101")


def test_iceberg_table(tmp_path: Path) -> None:
    table = _iceberg(tmp_path / "warehouse")
    root = table.location().removeprefix("file://")
    for given in (root, table.metadata_location):  # the folder or its metadata.json
        observation = observe_files(given)
        assert observation.issues == ()
        (live,) = observation.tables
        assert live.id == DatasetId("file", root) and live.kind is DatasetKind.TABLE
        assert [(c.name, c.type, c.nullable, c.partition) for c in live.columns] == [
            ("id", "long", True, False),
            ("country", "string", True, True),
            ("_loaded_at", "timestamptz", True, False),
        ]
        layout = live.layout
        assert layout is not None and layout.format == "iceberg"
        assert layout.partition_columns == ("country",)
        assert [(p.path, p.file_count, p.row_count) for p in layout.partitions] == [
            ("country=ID", 2, 3),
            ("country=SG", 1, 1),
        ]
        ids = [str(s.snapshot_id) for s in table.metadata.snapshots]
        assert [s.id for s in layout.snapshots] == ids[::-1]  # newest first
        newest = layout.snapshots[0]
        assert newest.operation == "append" and ("total-records", "4") in newest.summary
        assert newest.committed_at is not None and newest.committed_at.tzinfo is not None
    profile = profile_files(root)
    assert profile.metric("row_count") == 4
    assert profile.metric("max", "id") == 10
    assert (
        profile.metric("last_loaded_at", "_loaded_at")
        == datetime(2024, 5, 1, 12, 10, tzinfo=timezone.utc).timestamp()
    )


def _delta(path: Path) -> Path:
    deltalake.write_deltalake(str(path), _rows(0, ["ID", "ID", "SG"]), partition_by=["country"])
    deltalake.write_deltalake(str(path), _rows(10, ["ID"]), mode="append")
    return path


def test_delta_table(tmp_path: Path) -> None:
    root = _delta(tmp_path / "bronze" / "erp" / "loc_delta")
    observation = observe_files(str(root))
    assert observation.issues == ()
    (live,) = observation.tables
    assert live.id == DatasetId("file", str(root)) and live.kind is DatasetKind.TABLE
    assert [(c.name, c.type, c.partition) for c in live.columns] == [
        ("id", "long", False),
        ("country", "string", True),
        ("_loaded_at", "timestamp", False),
    ]
    layout = live.layout
    assert layout is not None and layout.format == "delta"
    assert layout.partition_columns == ("country",)
    assert [(p.path, p.file_count, p.row_count) for p in layout.partitions] == [
        ("country=ID", 2, 3),
        ("country=SG", 1, 1),
    ]
    assert [s.id for s in layout.snapshots] == ["1", "0"]
    assert layout.snapshots[0].operation == "WRITE"
    assert ("num_added_rows", "1") in layout.snapshots[0].summary
    profile = profile_files(str(root))
    assert profile.metric("row_count") == 4
    assert profile.metric("null_count", "country") == 0


def test_discover_finds_tables_and_folders(tmp_path: Path) -> None:
    bronze = write_seed(tmp_path / "bronze")
    _delta(bronze / "erp" / "loc_delta")
    table = _iceberg(bronze / "lake")
    observation = discover(str(bronze))
    assert observation.issues == ()
    found = [(t.id.name.removeprefix(f"{bronze}/"), t.layout.format) for t in observation.tables]  # type: ignore[union-attr]
    assert found == [
        ("erp/cust_az12", "parquet"),
        ("erp/loc_a101", "parquet"),
        ("erp/loc_delta", "delta"),
        (table.location().removeprefix(f"file://{bronze}/"), "iceberg"),
    ]


def test_not_a_table_and_broken_metadata(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "x.parquet").write_bytes(b"")
    issue = observe_files(str(tmp_path / "plain"), format="delta").issues[0]
    assert issue.message == "not a delta table (no _delta_log/)"
    broken = tmp_path / "broken" / "metadata"
    broken.mkdir(parents=True)
    (broken / "00001-x.metadata.json").write_text("{not json")
    (issue,) = observe_files(str(tmp_path / "broken")).issues
    assert issue.subject == str(tmp_path / "broken")


def test_a_missing_library_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _delta(tmp_path / "t")
    monkeypatch.setitem(sys.modules, "deltalake", None)  # what Python does when it is absent
    with pytest.raises(ConnectorError, match=r"pip install 'silverline\[delta\]'"):
        observe_files(str(root))


def test_iceberg_transform_partitions_add_typed_columns(tmp_path: Path) -> None:
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.transforms import BucketTransform, DayTransform

    catalog = SqlCatalog("t", uri=f"sqlite:///{tmp_path}/c.db", warehouse=f"file://{tmp_path}")
    catalog.create_namespace("erp")
    table = catalog.create_table("erp.events", schema=_rows(0, ["ID"]).schema)
    with table.update_spec() as spec:
        spec.add_field("_loaded_at", DayTransform(), "loaded_day")
        spec.add_field("id", BucketTransform(8), "id_bucket")
    observation = observe_files(table.location())
    (live,) = observation.tables
    assert [(c.name, c.type, c.comment) for c in live.columns if c.partition] == [
        ("loaded_day", "date", "day(_loaded_at)"),
        ("id_bucket", "int", "bucket[8](id)"),
    ]
    assert live.layout is not None and live.layout.partition_columns == ("loaded_day", "id_bucket")
    assert live.layout.partitions == () and live.layout.snapshots == ()


def test_delta_and_iceberg_on_s3(s3_process_server: Any, tmp_path: Path) -> None:
    from pyiceberg.catalog.sql import SqlCatalog

    from connectors.files import S3Settings

    server = s3_process_server
    server.create_bucket("lakehouse")
    settings = S3Settings.resolve(server.options)
    deltalake.write_deltalake(
        "s3://lakehouse/bronze/erp/loc_delta", _rows(0, ["ID", "SG"]), partition_by=["country"],
        storage_options=settings.delta_options() | {"AWS_S3_ALLOW_UNSAFE_RENAME": "true"},
    )  # fmt: skip
    catalog = SqlCatalog(
        "s3", uri=f"sqlite:///{tmp_path}/c.db", warehouse="s3://lakehouse/bronze",
        **settings.iceberg_properties(),
    )  # fmt: skip
    catalog.create_namespace("erp")
    table = catalog.create_table("erp.loc_iceberg", schema=_rows(0, ["ID"]).schema)
    table.append(_rows(0, ["ID", "ID", "SG"]))
    observation = discover("s3://lakehouse/bronze", storage_options=server.options)
    assert observation.issues == ()
    assert [(t.id, t.layout.format, t.layout.row_count) for t in observation.tables] == [  # type: ignore[union-attr]
        (DatasetId("s3://lakehouse", "bronze/erp/loc_delta"), "delta", 2),
        (DatasetId("s3://lakehouse", "bronze/erp/loc_iceberg"), "iceberg", 3),
    ]
    profile = profile_files("s3://lakehouse/bronze/erp/loc_delta", storage_options=server.options)
    assert profile.metric("row_count") == 2
