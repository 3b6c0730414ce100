"""Column ``meta`` / ``tags`` of a dbt project reach ``Dataset.meta["columns"]``, so a
``meta: {pii: true}`` column in ``schema.yml`` (or in ``target/manifest.json``) is a
sensitive field of the model's contract, through the catalog too.

The fixture projects stay untouched (their golden outputs have no column marks): each test
copies ``erp`` / ``erp_manifest`` into ``tmp_path`` and marks ``erp_locations``' columns.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from lineage.catalog import Catalog
from lineage.contracts import DBT_COLUMNS_KEY, contract_from_dataset, sensitive_columns
from lineage.model import Dataset, LineageBatch
from parsers.dbt import load_dbt_project

PROJECTS = Path(__file__).parent / "dbt_projects"
LOCATIONS = "dev.silver.erp_locations"
# erp_locations' columns as the test marks them, three ways dbt allows
MARKED_YAML = {
    "cid": "        meta: {pii: true, steward: geo@example.com}\n",
    "country_code": "        config:\n          tags: [sensitive]\n",
}
MARKED_MANIFEST: dict[str, dict[str, Any]] = {
    "cid": {"meta": {"pii": True, "steward": "geo@example.com"}},
    "country_code": {"config": {"meta": {}, "tags": ["sensitive"]}},
}
EXPECTED = {"cid": {"meta": {"pii": True, "steward": "geo@example.com"}},
            "country_code": {"tags": ["sensitive"]}}


def _mark_yaml(project: Path) -> None:
    """Add the marks under each column's ``- name:`` line of erp_locations."""
    path = project / "models" / "silver" / "schema.yml"
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if "- name: erp_locations" in line)
    out = lines[:start]
    for line in lines[start:]:
        out.append(line)
        name = line.strip().removeprefix("- name: ")
        if line.startswith("      - name: ") and name in MARKED_YAML:
            out.append(MARKED_YAML[name])
    path.write_text("".join(out))


def _mark_manifest(project: Path) -> None:
    path = project / "target" / "manifest.json"
    data = json.loads(path.read_text())
    columns = data["nodes"]["model.erp.erp_locations"]["columns"]
    for name, marks in MARKED_MANIFEST.items():
        columns.setdefault(name, {"name": name, "meta": {}, "tags": []}).update(marks)
    path.write_text(json.dumps(data))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> LineageBatch:
    project = tmp_path_factory.mktemp("rendered") / "erp"
    shutil.copytree(PROJECTS / "erp", project)
    _mark_yaml(project)
    return load_dbt_project(project)


@pytest.fixture(scope="module")
def from_manifest(tmp_path_factory: pytest.TempPathFactory) -> LineageBatch:
    project = tmp_path_factory.mktemp("manifest") / "erp"
    shutil.copytree(PROJECTS / "erp_manifest", project)
    _mark_manifest(project)  # schema.yml is not read on this path: the manifest is
    return load_dbt_project(project)


def _dataset(batch: LineageBatch, name: str) -> Dataset:
    return next(d for d in batch.datasets if d.id.name == name)


@pytest.mark.parametrize("path", ["rendered", "from_manifest"])
def test_marked_columns_are_sensitive_fields_of_the_contract(
    path: str, request: pytest.FixtureRequest
) -> None:
    batch: LineageBatch = request.getfixturevalue(path)
    assert batch.issues == ()
    locations = _dataset(batch, LOCATIONS)
    meta = json.loads(locations.meta)
    # Only the marked columns, in manifest.json's shape; the model's own meta is kept.
    assert meta[DBT_COLUMNS_KEY] == EXPECTED
    assert meta["owners"] == ["silver-team@example.com", "geo@example.com"]
    contract = contract_from_dataset(locations)
    assert contract is not None
    fields = {f.name: f.sensitive for f in contract.fields}
    assert fields == {"cid": True, "country_code": True, "country_name": False}
    assert sensitive_columns(locations) == {"cid", "country_code"}


def test_both_paths_give_the_same_meta(rendered: LineageBatch,
                                       from_manifest: LineageBatch) -> None:
    for ours, theirs in zip(rendered.datasets, from_manifest.datasets, strict=True):
        assert (ours.id, json.loads(ours.meta)) == (theirs.id, json.loads(theirs.meta))


def test_models_without_column_marks_keep_their_meta_as_it_was(
    rendered: LineageBatch,
) -> None:
    untouched = load_dbt_project(PROJECTS / "erp")
    for dataset in untouched.datasets:
        assert DBT_COLUMNS_KEY not in json.loads(dataset.meta)
        if dataset.id.name != LOCATIONS:  # the others' meta is unchanged by the marks
            assert dataset.meta == _dataset(rendered, dataset.id.name).meta


def test_the_marks_survive_the_catalog(rendered: LineageBatch, tmp_path: Path) -> None:
    with Catalog(f"sqlite:///{tmp_path / 'catalog.db'}") as catalog:
        catalog.write(rendered)
        stored = catalog.dataset(_dataset(rendered, LOCATIONS).id)
    assert stored is not None
    contract = contract_from_dataset(stored)
    assert contract is not None
    assert {f.name for f in contract.fields if f.sensitive} == {"cid", "country_code"}


def test_column_meta_under_config_and_tags_as_text(tmp_path: Path) -> None:
    """dbt 1.10 moves a column's meta under ``config:``; ``tags`` may be one string."""
    (tmp_path / "models").mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: shop\nprofile: shop\nversion: '1'\n")
    (tmp_path / "models" / "customers.sql").write_text(
        "select 1 as id, 'a@b.c' as email, 'x' as phone, 'y' as city\n")
    (tmp_path / "models" / "schema.yml").write_text("""
version: 2
models:
  - name: customers
    columns:
      - name: id
        description: no marks
      - name: email
        config: {meta: {classification: confidential}}
      - name: Phone
        tags: pii
      - name: city
        meta: {}
        tags: []
""")
    [customers] = load_dbt_project(tmp_path, dialect="duckdb").datasets
    assert json.loads(customers.meta)[DBT_COLUMNS_KEY] == {
        "email": {"meta": {"classification": "confidential"}},
        "phone": {"tags": ["pii"]},
    }
    assert sensitive_columns(customers) == {"email", "phone"}
