"""A scan's lineage does not depend on file order nor on what the catalog held: files are
parsed after the files whose tables they read, with the schemas those create."""

from __future__ import annotations

from pathlib import Path

from lineage.config import ProjectConfig
from lineage.workspace import Workspace
from parsers.sql.files import ScanOptions, scan_sql


def _project(root: Path) -> Path:
    models = root / "models"
    models.mkdir()
    # Alphabetically gold comes first, but it reads what silver creates.
    (models / "a_gold.sql").write_text("CREATE TABLE gold.g AS SELECT * FROM silver.s;\n")
    (models / "b_silver.sql").write_text(
        "CREATE TABLE silver.s AS SELECT id, upper(name) AS name FROM bronze.b;\n"
    )
    return models


def _gold(result):  # type: ignore[no-untyped-def]
    [statement] = [s for s in result.statements if s.file.endswith("a_gold.sql")]
    return statement


def test_a_file_reading_another_files_table_sees_its_columns(tmp_path: Path) -> None:
    gold = _gold(scan_sql([str(_project(tmp_path))], ScanOptions()))
    assert gold.confidence == 1.0
    [lineage] = gold.column_lineage
    assert [name for name, _ in lineage.fields] == ["id", "name"]
    assert not any("*" in name for name, _ in lineage.fields)


def test_the_first_scan_equals_the_second(tmp_path: Path) -> None:
    models = _project(tmp_path)
    workspace = Workspace(ProjectConfig(root=tmp_path), f"sqlite:///{tmp_path / 'c.db'}")
    try:
        first = workspace.scan([str(models)]).scripts
        second = workspace.scan([str(models)]).scripts
    finally:
        workspace.close()
    assert first.to_dict() == second.to_dict()


def test_a_stale_catalog_schema_never_hides_what_a_file_now_creates(tmp_path: Path) -> None:
    models = _project(tmp_path)
    stale = {"silver.s": {"id": "int", "old_column": "text"}}
    gold = _gold(scan_sql([str(models)], ScanOptions(known_schema=stale)))
    assert [name for name, _ in gold.column_lineage[0].fields] == ["id", "name"]
    given = {"silver.s": {"id": "int", "given": "text"}}  # --schema wins over the files
    gold = _gold(scan_sql([str(models)], ScanOptions(schema=given)))
    assert [name for name, _ in gold.column_lineage[0].fields] == ["id", "given"]
