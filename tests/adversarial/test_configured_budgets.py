"""The budgets of lineage.yml apply: a statement over ``sql.max_statement_bytes`` or deeper
than ``sql.max_depth`` is that statement's error, a model rendering past
``dbt.max_loop_items`` is that model's; bad values name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage.config import load_config
from lineage.errors import ConfigError
from lineage.workspace import Workspace


def _workspace(root: Path, yaml: str) -> Workspace:
    (root / "lineage.yml").write_text(yaml)
    return Workspace.open(root, catalog_url=f"sqlite:///{root / 'c.db'}")


def test_sql_budgets_from_lineage_yml(tmp_path: Path) -> None:
    columns = ", ".join(f"c{i}" for i in range(100))
    (tmp_path / "big.sql").write_text(f"SELECT {columns} FROM t;\n")
    (tmp_path / "deep.sql").write_text("SELECT " + "(" * 30 + "1" + ")" * 30 + " AS x;\n")
    (tmp_path / "ok.sql").write_text("SELECT a FROM t;\n")
    workspace = _workspace(tmp_path, "sql: {max_statement_bytes: 200, max_depth: 20}\n")
    try:
        report = workspace.scan([str(tmp_path)], write=False)
    finally:
        workspace.close()
    messages = {Path(str(i.file)).name: i.message for i in report.issues}
    assert set(messages) == {"big.sql", "deep.sql"}  # ok.sql is fine
    assert "200" in messages["big.sql"]
    assert "20" in messages["deep.sql"]


def test_dbt_render_budget_from_lineage_yml(tmp_path: Path) -> None:
    project = tmp_path / "dbt"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: p\nversion: '1'\nprofile: p\n")
    (project / "models" / "loop.sql").write_text(
        "SELECT {% for i in range(500) %}{{ i }} AS c{{ i }}{% if not loop.last %}, "
        "{% endif %}{% endfor %}"
    )
    (project / "models" / "fine.sql").write_text("SELECT 1 AS one")
    workspace = _workspace(tmp_path, "dbt: {project: dbt, max_loop_items: 100}\n")
    try:
        report = workspace.scan(write=False)
    finally:
        workspace.close()
    [issue] = report.issues
    assert "loop.sql" in str(issue.file) and "100" in issue.message
    assert any(j.name.endswith("fine") for b in report.batches for j in b.jobs)


@pytest.mark.parametrize(
    ("yaml", "key"),
    [("sql: {max_depth: 0}\n", "sql.max_depth"), ("dbt: {render_timeout: fast}\n",
                                                  "dbt.render_timeout")],
)  # fmt: skip
def test_a_bad_budget_names_its_key(tmp_path: Path, yaml: str, key: str) -> None:
    (tmp_path / "lineage.yml").write_text(yaml)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(tmp_path)
