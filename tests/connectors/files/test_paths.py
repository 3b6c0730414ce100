"""Naming bronze roots by the OpenLineage spec, as the rest of Silverline names files."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.files.paths import dataset_root, parse_location
from lineage.errors import ConfigError
from lineage.model import DatasetId
from parsers.sql.names import location_dataset


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        ("s3://bucket/bronze/erp/cust_az12", DatasetId("s3://bucket", "bronze/erp/cust_az12")),
        ("s3://bucket/bronze/erp/cust_az12/", DatasetId("s3://bucket", "bronze/erp/cust_az12")),
        ("s3a://bucket/bronze/erp/", DatasetId("s3://bucket", "bronze/erp")),
        ("/data/bronze/erp/loc_a101//", DatasetId("file", "/data/bronze/erp/loc_a101")),
        ("file:///data/bronze/erp", DatasetId("file", "/data/bronze/erp")),
        # Partition folders and globs fold to the dataset root.
        ("s3://bucket/bronze/cust/year=2024/month=01/", DatasetId("s3://bucket", "bronze/cust")),
        ("/data/cust/year=*/month=*/*.parquet", DatasetId("file", "/data/cust")),
        ("s3://bucket/bronze/cust/*.parquet", DatasetId("s3://bucket", "bronze/cust")),
    ],
)
def test_dataset_names_follow_openlineage(root: str, expected: DatasetId) -> None:
    assert dataset_root(parse_location(root)).root.dataset_id == expected


@pytest.mark.parametrize("root", ["s3://bucket/bronze/erp/cust_az12/", "/data/bronze/erp/x"])
def test_names_match_the_sql_parser(root: str) -> None:
    # A table read by SQL (read_parquet('s3://...')) and the folder observed are one dataset.
    assert parse_location(root).dataset_id == location_dataset(root, "duckdb")


def test_relative_paths_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(str(tmp_path))
    assert parse_location("bronze/erp").dataset_id == DatasetId("file", f"{tmp_path}/bronze/erp")


def test_fold_keeps_the_scan_folder_and_fixed_values() -> None:
    folded = dataset_root(parse_location("s3://bkt/erp/cust/year=2024/month=01"))
    assert folded.root.uri == "s3://bkt/erp/cust"
    assert folded.scan.uri == "s3://bkt/erp/cust/year=2024/month=01"
    assert folded.fixed == (("year", "2024"), ("month", "01"))
    assert folded.pattern is None


@pytest.mark.parametrize("root", ["", "gs://bucket/x", "s3://ab/x"])
def test_unsupported_roots_are_config_errors(root: str) -> None:
    with pytest.raises(ConfigError):
        parse_location(root)
