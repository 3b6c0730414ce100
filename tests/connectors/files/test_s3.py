"""Bronze on S3, for real: moto's S3 server on 127.0.0.1, read through pyarrow."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from connectors.files import S3Settings, discover, observe_files, profile_files
from lineage.errors import TemporaryConnectorError
from lineage.model import DatasetId, Severity
from tests.connectors.files.conftest import (
    ACCESS_KEY,
    SECRET_KEY,
    S3Server,
    cust_table,
    pa,
    pq,
    write_seed,
)


@pytest.fixture
def bucket(s3_server: S3Server, tmp_path: Path) -> str:
    """A fresh bucket holding the seed under ``bronze/`` plus a file whose ``cid`` is an
    integer and a corrupt file, both in ``cust_az12``."""
    name = f"lake-{uuid.uuid4().hex[:8]}"
    s3_server.create_bucket(name)
    local = write_seed(tmp_path / "bronze")
    month = local / "erp" / "cust_az12" / "year=2024" / "month=03"
    month.mkdir()
    changed = cust_table(4).set_column(2, "cid", pa.array(range(4), pa.int64()))
    pq.write_table(changed, month / "part-0.parquet")
    (month / "part-1.parquet").write_bytes(b"PAR1" + b"\x00" * 64)
    s3_server.upload(local, f"{name}/bronze")
    return name


def test_observe_a_hive_partitioned_dataset_on_s3(s3_server: S3Server, bucket: str) -> None:
    root = f"s3://{bucket}/bronze/erp/cust_az12/"
    observation = observe_files(root, storage_options=s3_server.options)
    assert observation.source == root.rstrip("/")
    (table,) = observation.tables
    assert table.id == DatasetId(f"s3://{bucket}", "bronze/erp/cust_az12")
    assert table.location == f"s3://{bucket}/bronze/erp/cust_az12"
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
    assert layout is not None and layout.root == f"s3://{bucket}/bronze/erp/cust_az12"
    assert [(p.path, p.file_count, p.row_count) for p in layout.partitions] == [
        ("year=2024/month=01", 1, 30),
        ("year=2024/month=02", 1, 20),
        ("year=2024/month=03", 1, 4),
    ]
    assert all(p.total_bytes > 0 for p in layout.partitions)
    corrupt = f"s3://{bucket}/bronze/erp/cust_az12/year=2024/month=03/part-1.parquet"
    assert [i.subject for i in observation.issues] == [corrupt]
    assert "Parquet" in observation.issues[0].message
    (mismatch,) = observation.findings
    assert mismatch.kind == "schema_mismatch" and mismatch.severity is Severity.WARNING
    assert mismatch.message == (
        f"s3://{bucket}/bronze/erp/cust_az12/year=2024/month=03/part-0.parquet: "
        "column cid is int64 here, string in the dataset"
    )
    for text in (repr(observation), *map(str, observation.issues)):
        assert SECRET_KEY not in text and ACCESS_KEY not in text


def test_discover_and_settings_from_the_environment(
    s3_server: S3Server, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    observation = discover(f"s3://{bucket}/bronze")
    assert [t.id.name for t in observation.tables] == [
        "bronze/erp/cust_az12",
        "bronze/erp/loc_a101",
    ]
    assert [f.kind for f in observation.findings] == ["schema_mismatch", "small_files"]
    assert "partition country=ID: 12 files" in observation.findings[1].message
    assert len(observation.issues) == 1
    missing = observe_files(f"s3://{bucket}/bronze/nothing/")
    assert [str(i) for i in missing.issues] == [
        f"s3://{bucket}/bronze/nothing: no such file or folder"
    ]


def test_profile_on_s3(s3_server: S3Server, bucket: str) -> None:
    root = f"s3://{bucket}/bronze/erp/loc_a101"
    profile = profile_files(root, storage_options=s3_server.options)
    assert profile.dataset == DatasetId(f"s3://{bucket}", "bronze/erp/loc_a101")
    assert profile.metric("row_count") == 67
    assert profile.metric("distinct_count", "country") == 2
    assert profile.metric("null_rate", "cid") == 0


def test_unreachable_endpoint_is_temporary(closed_port: int) -> None:
    options = {"endpoint_url": f"http://127.0.0.1:{closed_port}", "key": ACCESS_KEY,
               "secret": SECRET_KEY, "region": "us-east-1"}  # fmt: skip
    with pytest.raises(TemporaryConnectorError) as caught:
        observe_files("s3://nobucket/bronze", storage_options=options)
    assert SECRET_KEY not in str(caught.value)


def test_settings_keep_secrets_out_of_repr() -> None:
    settings = S3Settings.resolve(
        {"AWS_SECRET_ACCESS_KEY": SECRET_KEY, "aws_access_key_id": ACCESS_KEY}, environ={}
    )
    assert settings.secret_key == SECRET_KEY and settings.access_key == ACCESS_KEY
    assert SECRET_KEY not in repr(settings) and ACCESS_KEY not in repr(settings)
    from_env = S3Settings.resolve(
        None, environ={"AWS_ENDPOINT_URL_S3": "http://h:9", "AWS_DEFAULT_REGION": "eu-west-1"}
    )
    assert from_env.pyarrow_options() == {
        "endpoint_override": "h:9",
        "scheme": "http",
        "region": "eu-west-1",
    }
    assert (
        S3Settings.resolve(
            {"endpoint_url": "http://a:1"}, environ={"AWS_ENDPOINT_URL": "http://b:2"}
        ).endpoint_url
        == "http://a:1"
    )
