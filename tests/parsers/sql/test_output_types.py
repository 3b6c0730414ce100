"""Output columns get the types that are certain, and --schema tables keep every column."""

from __future__ import annotations

from pathlib import Path

from lineage.config import ProjectConfig
from lineage.model import DatasetId, Field, Schema
from lineage.workspace import Workspace
from parsers.sql import parse_sql

SQL = (
    "CREATE TABLE silver.t AS SELECT id::VARCHAR(50) AS cid, CAST(name AS INT) AS n, "
    "TRY_CAST(name AS DATE) AS d, upper(name) AS u, id AS same_id, count(*) AS c "
    "FROM bronze.b GROUP BY 1, 2, 3, 4, 5"
)
SCHEMA = {"bronze.b": {"id": "int", "name": "varchar(20)", "extra": "date"}}


def test_casts_counts_and_copied_columns_are_typed() -> None:
    [statement] = parse_sql(SQL, dialect="snowflake", schema=SCHEMA).statements
    [(dataset, schema)] = statement.output_schemas
    assert dataset.name == "silver.t"
    assert [(f.name, f.type) for f in schema.fields] == [
        ("cid", "varchar(50)"), ("n", "int"), ("d", "date"),
        ("u", None),  # a function of a column: not certain, so not said
        ("same_id", "int"), ("c", "bigint"),
    ]  # fmt: skip


def test_schema_file_tables_keep_every_column(tmp_path: Path) -> None:
    (tmp_path / "t.sql").write_text(SQL + ";\n")
    (tmp_path / "schema.yml").write_text(
        "bronze.b:\n  id: int\n  name: varchar(20)\n  extra:\n    type: date\n"
        "    description: when the row was extracted\n"
    )
    workspace = Workspace(ProjectConfig(root=tmp_path), f"sqlite:///{tmp_path / 'c.db'}")
    try:
        schema_file = str(tmp_path / "schema.yml")
        options = workspace.scan_options(dialect="postgres", schema_file=schema_file)
        workspace.scan([str(tmp_path / "t.sql")], options)
        bronze = workspace.catalog.dataset(DatasetId("postgres", "bronze.b"))
        silver = workspace.catalog.dataset(DatasetId("postgres", "silver.t"))
    finally:
        workspace.close()
    assert bronze is not None and bronze.schema == Schema((
        Field("id", "int"), Field("name", "varchar(20)"),
        Field("extra", "date", "when the row was extracted"),
    ))  # fmt: skip
    assert silver is not None and silver.schema is not None
    assert silver.schema.fields[0] == Field("cid", "varchar(50)")
