"""dbt projects -> LineageBatch: naming, column lineage, metadata, errors, the manifest path.

Fixtures in ``dbt_projects/``: ``erp`` (the seed's pipeline on Redshift, with a readable
generate_schema_name override), ``erp_manifest`` (the same project with a dbt 1.9
``target/manifest.json`` and ``catalog.json``), ``erp_broken`` (one broken file of each
kind, dbt's default naming), ``features`` (ephemeral models, union_relations, seeds,
snapshots, docs blocks, packages, a DuckDB profile).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lineage.errors import ConfigError
from lineage.model import (
    DatasetKind,
    DataTest,
    Freshness,
    LineageBatch,
    SqlContext,
    TransformationSubtype,
)
from parsers.dbt import batch as dbt_batch
from parsers.dbt import is_dbt_project, load_dbt_project

PROJECTS = Path(__file__).parent / "dbt_projects"
ERP = PROJECTS / "erp"
ERP_MANIFEST = PROJECTS / "erp_manifest"
BROKEN = PROJECTS / "erp_broken"
FEATURES = PROJECTS / "features"


@pytest.fixture(scope="module")
def erp() -> LineageBatch:
    return load_dbt_project(ERP)


@pytest.fixture(scope="module")
def features() -> LineageBatch:
    return load_dbt_project(FEATURES)


def _dataset(batch: LineageBatch, name: str):
    matches = [d for d in batch.datasets if d.id.name == name]
    assert matches, f"{name} not in {[d.id.name for d in batch.datasets]}"
    return matches[0]


def _job(batch: LineageBatch, name: str):
    return next(j for j in batch.jobs if j.name == name)


def _inputs(batch: LineageBatch, target: str, field: str | None) -> dict[str, set[str]]:
    """``{"dataset.column": {subtypes}}`` flowing into ``target.field``."""
    out: dict[str, set[str]] = {}
    for edge in batch.edges:
        if edge.target.name == target and edge.target_field == field:
            out.setdefault(str(edge.source), set()).update(
                t.subtype.value for t in edge.transformations
            )
    return out


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


# -- the project and its names -----------------------------------------------------------------


def test_is_dbt_project() -> None:
    assert is_dbt_project(ERP)
    assert is_dbt_project(str(ERP))
    assert not is_dbt_project(PROJECTS)


def test_a_folder_without_dbt_project_yml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a dbt project"):
        load_dbt_project(tmp_path)


def test_an_unreadable_dbt_project_yml_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: erp\nmodels:\n  erp: [\n")
    with pytest.raises(ConfigError) as info:
        load_dbt_project(tmp_path)
    assert info.value.file is not None and info.value.file.endswith("dbt_project.yml")
    assert info.value.line == 4
    assert "dbt_project.yml:4" in str(info.value)


def test_relations_use_the_projects_schema_naming(erp: LineageBatch) -> None:
    assert sorted(d.id.name for d in erp.datasets) == [
        "dev.gold.customer_age_groups",
        "dev.gold.customers_by_country",
        "dev.silver.erp_customers",
        "dev.silver.erp_locations",
        "dev.spectrum.erp_cust_az12",
        "dev.spectrum.loc_a101",
        "dev.staging.stg_erp_cust_az12",
        "dev.staging.stg_loc_a101",
    ]
    assert {d.id.namespace for d in erp.datasets} == {"redshift"}  # dialect from profiles.yml


def test_dbts_default_schema_naming_without_an_override(tmp_path: Path) -> None:
    project = _copy(ERP, tmp_path)
    (project / "macros" / "generate_schema_name.sql").unlink()
    names = {d.id.name for d in load_dbt_project(project).datasets}
    assert {"dev.public_silver.erp_customers", "dev.public_staging.stg_erp_cust_az12",
            "dev.public_gold.customer_age_groups"} <= names
    assert "dev.spectrum.erp_cust_az12" in names  # sources are named as declared
    prod = {d.id.name for d in load_dbt_project(project, target="prod").datasets}
    assert "analytics.analytics_silver.erp_customers" in prod


def test_project_alias_and_database_macros_are_honoured(tmp_path: Path) -> None:
    project = _copy(ERP, tmp_path)
    (project / "macros" / "naming.sql").write_text(
        "{% macro generate_alias_name(custom_alias_name=none, node=none) -%}\n"
        "    {{ node.config.materialized[:1] }}_{{ node.name }}\n"
        "{%- endmacro %}\n"
        "{% macro generate_database_name(custom_database_name=none, node=none) -%}\n"
        "    {{ 'lake' if 'silver' in node.fqn else target.database }}\n"
        "{%- endmacro %}\n"
    )
    names = {d.id.name for d in load_dbt_project(project).datasets}
    assert {"lake.silver.i_erp_customers", "lake.silver.t_erp_locations",
            "dev.staging.v_stg_loc_a101", "dev.gold.t_customer_age_groups"} <= names


def test_target_database_schema_dialect_and_namespace_arguments(tmp_path: Path) -> None:
    batch = load_dbt_project(ERP, database="warehouse", namespace="redshift://erp:5439",
                             dialect="postgres")
    names = {d.id.name for d in batch.datasets}
    assert "warehouse.silver.erp_customers" in names
    assert "dev.spectrum.erp_cust_az12" in names  # the source says `database: dev`
    assert {d.id.namespace for d in batch.datasets} == {"redshift://erp:5439"}
    assert {j.namespace for j in batch.jobs} == {"redshift://erp:5439"}
    # Without profiles.yml: database dev, schema public, generic SQL.
    project = _copy(ERP, tmp_path)
    (project / "profiles.yml").unlink()
    (project / "macros" / "generate_schema_name.sql").unlink()
    bare = load_dbt_project(project, schema="analytics")
    assert "dev.analytics_silver.erp_customers" in {d.id.name for d in bare.datasets}
    assert {d.id.namespace for d in bare.datasets} == {"sql"}


def test_a_context_stands_for_dialect_namespace_database_and_schema() -> None:
    loose = load_dbt_project(ERP, database="warehouse", namespace="redshift://erp:5439",
                             dialect="postgres")
    context = SqlContext("postgres", "redshift://erp:5439", "warehouse")
    assert load_dbt_project(ERP, context=context) == loose
    # A loose argument wins over the context's value.
    other = load_dbt_project(ERP, context=context, namespace="redshift://other:5439")
    assert {d.id.namespace for d in other.datasets} == {"redshift://other:5439"}


def test_telling_a_dbt_project_loads_no_dbt_parser() -> None:
    probe = (
        "import sys, parsers.dbt\n"
        f"assert parsers.dbt.is_dbt_project({str(ERP)!r})\n"
        "print(sorted(m for m in sys.modules if m.startswith(('parsers.dbt.', 'jinja2'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "['parsers.dbt.detect']"


def test_dataset_kinds_follow_materializations(erp: LineageBatch) -> None:
    kinds = {d.id.name: d.kind for d in erp.datasets}
    assert kinds["dev.staging.stg_erp_cust_az12"] is DatasetKind.VIEW
    assert kinds["dev.silver.erp_customers"] is DatasetKind.TABLE  # incremental
    assert kinds["dev.silver.erp_locations"] is DatasetKind.TABLE
    assert kinds["dev.gold.customer_age_groups"] is DatasetKind.TABLE
    assert kinds["dev.spectrum.erp_cust_az12"] is DatasetKind.SOURCE


# -- column lineage ----------------------------------------------------------------------------


def test_column_lineage_runs_source_to_staging_to_silver_to_gold(erp: LineageBatch) -> None:
    assert _inputs(erp, "dev.staging.stg_erp_cust_az12", "cid") == {
        "dev.spectrum.erp_cust_az12.cid": {"IDENTITY"}
    }
    assert _inputs(erp, "dev.staging.stg_erp_cust_az12", "extracted_at") == {
        "dev.spectrum.erp_cust_az12._airbyte_extracted_at": {"IDENTITY"}
    }
    assert _inputs(erp, "dev.silver.erp_customers", "customer_id") == {
        "dev.staging.stg_erp_cust_az12.cid": {"TRANSFORMATION"}
    }
    assert _inputs(erp, "dev.silver.erp_customers", "birth_date") == {
        "dev.staging.stg_erp_cust_az12.bdate": {"TRANSFORMATION"}
    }
    assert _inputs(erp, "dev.silver.erp_customers", "gender") == {
        "dev.staging.stg_erp_cust_az12.gen": {"CONDITIONAL"}  # via the clean_gender macro
    }
    assert _inputs(erp, "dev.gold.customer_age_groups", "age_group") == {
        "dev.silver.erp_customers.birth_date": {"TRANSFORMATION"}
    }
    assert _inputs(erp, "dev.gold.customer_age_groups", "gender_groups") == {
        "dev.silver.erp_customers.gender": {"WINDOW"}
    }
    assert _inputs(erp, "dev.gold.customers_by_country", None) == {
        "dev.silver.erp_customers.customer_id": {"JOIN"},
        "dev.silver.erp_customers.gender": {"GROUP_BY"},
        "dev.silver.erp_locations.cid": {"JOIN"},
        "dev.silver.erp_locations.country_code": {"GROUP_BY"},
        "dev.silver.erp_locations.country_name": {"GROUP_BY"},
    }
    assert all(e.job and e.job.startswith("erp.") for e in erp.edges)


def test_surrogate_key_is_rendered_and_masks_its_input(erp: LineageBatch) -> None:
    (edge,) = [e for e in erp.edges if e.target_field == "customer_key"]
    assert str(edge.source) == "dev.staging.stg_erp_cust_az12.cid"
    assert edge.transformations[0].masking
    sql = _job(erp, "erp.erp_customers").sql or ""
    assert "md5(cast(coalesce(cast(cid as varchar), '_dbt_utils_surrogate_key_null_')" in sql


def test_star_is_expanded_from_the_upstream_models_parsed_columns(erp: LineageBatch) -> None:
    locations = _dataset(erp, "dev.silver.erp_locations")
    assert locations.schema is not None
    assert locations.schema.names == ("cid", "country_name", "country_code")
    assert _inputs(erp, "dev.silver.erp_locations", "country_name") == {
        "dev.staging.stg_loc_a101.country_name": {"IDENTITY"}
    }


def test_incremental_branch_is_off_by_default_and_on_when_asked(erp: LineageBatch) -> None:
    sql = _job(erp, "erp.erp_customers").sql or ""
    assert "MAX(extracted_at)" not in sql
    assert _inputs(erp, "dev.silver.erp_customers", None) == {}
    batch = load_dbt_project(ERP, incremental=True)
    sql = _job(batch, "erp.erp_customers").sql or ""
    assert "SELECT MAX(extracted_at) FROM dev.silver.erp_customers" in sql
    assert _inputs(batch, "dev.silver.erp_customers", None) == {
        "dev.staging.stg_erp_cust_az12.extracted_at": {"FILTER"}
    }


def test_vars_argument_overrides_the_project(erp: LineageBatch) -> None:
    assert "'2024-06-01'" in (_job(erp, "erp.stg_erp_cust_az12").sql or "")
    batch = load_dbt_project(ERP, vars={"backfill_date": "2024-07-01"})
    assert "'2024-07-01'" in (_job(batch, "erp.stg_erp_cust_az12").sql or "")


def test_one_job_per_model_with_compiled_sql(erp: LineageBatch) -> None:
    assert sorted(j.name for j in erp.jobs) == [
        "erp.customer_age_groups", "erp.customers_by_country", "erp.erp_customers",
        "erp.erp_locations", "erp.stg_erp_cust_az12", "erp.stg_loc_a101",
    ]
    job = _job(erp, "erp.erp_customers")
    assert job.kind == "dbt_model"
    assert job.namespace == "redshift"
    assert job.source_file == "models/silver/erp_customers.sql"
    assert [i.name for i in job.inputs] == ["dev.staging.stg_erp_cust_az12"]
    assert [o.name for o in job.outputs] == ["dev.silver.erp_customers"]
    assert job.owners == ("silver-team@example.com",)
    assert job.description and job.description.startswith("Cleaned ERP customers")
    assert all("{{" not in (j.sql or "") and "{%" not in (j.sql or "") for j in erp.jobs)
    by_country = _job(erp, "erp.customers_by_country")
    assert [i.name for i in by_country.inputs] == [
        "dev.silver.erp_customers", "dev.silver.erp_locations"
    ]


# -- metadata ----------------------------------------------------------------------------------


def test_descriptions_owners_tags_and_meta(erp: LineageBatch) -> None:
    customers = _dataset(erp, "dev.silver.erp_customers")
    assert customers.description == (
        "Cleaned ERP customers, one row per customer, loaded incrementally."
    )
    assert customers.owners == ("silver-team@example.com",)  # overrides the folder's owner
    assert customers.tags == ("silver", "pii")  # folder tags + properties config tags
    assert json.loads(customers.meta) == {
        "owner": "silver-team@example.com", "sla": "daily 06:00 UTC"
    }
    assert customers.source_file == "models/silver/erp_customers.sql"
    locations = _dataset(erp, "dev.silver.erp_locations")
    assert locations.owners == (
        "data-platform@example.com", "silver-team@example.com", "geo@example.com"
    )
    staging = _dataset(erp, "dev.staging.stg_loc_a101")
    assert staging.owners == ("data-platform@example.com",)
    assert staging.tags == ("staging",)
    source = _dataset(erp, "dev.spectrum.erp_cust_az12")
    assert source.owners == ("erp-ingestion@example.com",)
    assert source.tags == ("bronze",)
    assert source.source_file == "models/staging/sources.yml"
    assert source.schema is not None
    assert source.schema.fields[2].description == "ERP customer id, e.g. CUST001."


def test_schema_merges_sql_columns_with_yaml_descriptions_and_types(erp: LineageBatch) -> None:
    customers = _dataset(erp, "dev.silver.erp_customers")
    assert customers.contract_enforced
    assert customers.schema is not None
    fields = {f.name: f for f in customers.schema.fields}
    assert customers.schema.names == (
        "customer_key", "customer_id", "birth_date", "gender", "extracted_at", "dwh_loaded_at"
    )
    assert fields["birth_date"].type == "date"
    assert fields["customer_id"].description == "ERP customer id."
    # A column copied as is keeps the upstream type (staging cid <- source cid).
    staging = _dataset(erp, "dev.staging.stg_erp_cust_az12")
    assert staging.schema is not None
    assert staging.schema.fields[0].type == "varchar(50)"
    assert not staging.contract_enforced


def test_data_tests_from_tests_and_data_tests_keys(erp: LineageBatch) -> None:
    customers = _dataset(erp, "dev.silver.erp_customers")
    assert set(customers.tests) == {
        DataTest("not_null", "customer_key"),
        DataTest("unique", "customer_key"),
        DataTest("not_null", "customer_id"),
        DataTest("unique", "customer_id"),
        DataTest("accepted_values", "gender", '{"values": ["Male", "Female", "Unknown"]}'),
    }
    locations = _dataset(erp, "dev.silver.erp_locations")
    relationships = next(t for t in locations.tests if t.name == "relationships")
    assert relationships.column == "cid"
    assert relationships.severity == "warn"
    assert json.loads(relationships.arguments) == {
        "to": "ref('erp_customers')", "field": "customer_id",
        "to_dataset": "dev.silver.erp_customers",
    }
    model_level = next(t for t in locations.tests if t.column is None)
    assert model_level.name == "dbt_utils.unique_combination_of_columns"
    assert json.loads(model_level.arguments) == {"combination_of_columns": ["cid", "country_code"]}
    source = _dataset(erp, "dev.spectrum.erp_cust_az12")
    assert source.tests == (DataTest("not_null", "cid"),)


def test_source_freshness(erp: LineageBatch) -> None:
    assert _dataset(erp, "dev.spectrum.erp_cust_az12").freshness == Freshness(
        "_airbyte_extracted_at", "24h", "48h"
    )
    # A table's own freshness block replaces the source's.
    assert _dataset(erp, "dev.spectrum.loc_a101").freshness == Freshness(
        "_airbyte_extracted_at", "12h", None
    )
    assert _dataset(erp, "dev.silver.erp_customers").freshness is None


def test_profile_secrets_are_never_read(erp: LineageBatch) -> None:
    # profiles.yml's password is an env_var without default: skipped, not an error.
    assert erp.issues == ()
    assert erp.observed_by == "parser"


# -- errors ------------------------------------------------------------------------------------


def test_broken_models_are_reported_with_file_and_line_and_the_rest_loads() -> None:
    batch = load_dbt_project(BROKEN)
    issues = {issue.file: issue for issue in batch.issues}
    assert issues["models/silver/broken_undefined.sql"].line == 4
    assert "undefined_helper" in issues["models/silver/broken_undefined.sql"].message
    assert issues["models/silver/broken_var.sql"].line == 3
    assert "start_date" in issues["models/silver/broken_var.sql"].message
    assert issues["models/silver/broken_syntax.sql"].line == 3
    assert issues["models/silver/broken_ref.sql"].line == 3
    assert "no_such_model" in issues["models/silver/broken_ref.sql"].message
    sql_issue = issues["models/silver/broken_sql.sql"]
    assert sql_issue.line == 4 and sql_issue.message.startswith("SQL does not parse")
    yaml_issue = issues["models/silver/bad.yml"]
    assert yaml_issue.line is not None and "line 4" in yaml_issue.message
    assert len(batch.issues) == 6
    # Everything else loads, with dbt's default schema naming (no override here).
    assert _inputs(batch, "dev.public_silver.customers", "customer_id") == {
        "dev.public.stg_customers.cid": {"IDENTITY"}
    }
    assert _inputs(batch, "dev.public.report", "customers") == {}
    assert _inputs(batch, "dev.public.report", "gender") == {
        "dev.public_silver.customers.gender": {"IDENTITY"}
    }
    # A broken model is still a dataset and a job, without SQL lineage; its documented
    # columns stand in for the output the SQL would have had.
    broken = _dataset(batch, "dev.public_silver.broken_undefined")
    assert broken.schema is not None
    assert [(f.name, f.type) for f in broken.schema.fields] == [
        ("cid", "varchar(50)"), ("gender", None)
    ]
    assert broken.description == "Its SQL never renders; the documented columns still describe it."
    assert _job(batch, "erp_broken.broken_undefined").sql is None
    assert _dataset(batch, "dev.public_silver.broken_var").schema is None
    assert issues["models/silver/broken_undefined.sql"].text == (
        "{{ undefined_helper('gen') }} AS gender"
    )


def test_a_render_issue_str_is_file_line_message() -> None:
    batch = load_dbt_project(BROKEN)
    texts = [str(i) for i in batch.issues]
    assert any(t.startswith("models/silver/broken_var.sql:3: ") for t in texts)


# -- more dbt features -------------------------------------------------------------------------


def test_ephemeral_models_are_inlined_not_datasets(features: LineageBatch) -> None:
    names = {d.id.name for d in features.datasets}
    assert not any("int_" in n or "__dbt__cte__" in n for n in names)
    assert not any("__dbt__cte__" in str(e.source) for e in features.edges)
    sql = _job(features, "features.fct_orders").sql or ""
    assert sql.startswith("with __dbt__cte__int_orders_union as (")
    assert "), __dbt__cte__int_paid_orders as (" in sql
    assert "), customers as (" in sql  # the model's own WITH keeps its CTEs
    assert _inputs(features, "warehouse.main_marts.fct_orders", "order_id") == {
        "warehouse.main.stg_orders.order_id": {"TRANSFORMATION"},
        "warehouse.main.stg_orders_archive.order_id": {"TRANSFORMATION"},
    }
    assert "warehouse.main.stg_orders.status" in _inputs(
        features, "warehouse.main_marts.fct_orders", None
    )
    job = _job(features, "features.fct_orders")
    assert [i.name for i in job.inputs] == [
        "warehouse.main.stg_orders", "warehouse.main.stg_orders_archive",
        "warehouse.raw_app.customers",
    ]


def test_adapter_dispatch_package_macros_and_docs_blocks(features: LineageBatch) -> None:
    sql = _job(features, "features.fct_orders").sql or ""
    assert "round(o.amount_cents / 100.0, 2) as amount" in sql  # duckdb__cents_to_dollars
    assert "upper(trim(c.name)) as customer_name" in sql  # my_pkg.shout
    customers = _dataset(features, "warehouse.main_marts.customers")  # alias
    assert customers.description == (
        "One row per customer of the app, with the name of their country."
    )
    assert customers.owners == ("analytics@example.com", "crm@example.com")
    assert customers.tags == ("core",)


def test_seeds_snapshots_and_python_models(features: LineageBatch) -> None:
    seed = _dataset(features, "warehouse.main_ref_data.country_codes")
    assert seed.kind is DatasetKind.SEED
    assert seed.schema is not None
    assert [(f.name, f.type, f.description) for f in seed.schema.fields] == [
        ("code", "char(2)", "ISO 3166-1 alpha-2 code."), ("name", None, None)
    ]
    snapshot = _dataset(features, "warehouse.snapshots.orders_snapshot")
    assert snapshot.kind is DatasetKind.SNAPSHOT
    assert snapshot.schema is not None
    assert snapshot.schema.names[:3] == ("order_id", "status", "created_at")
    assert "dbt_valid_to" in snapshot.schema.names
    assert _job(features, "features.orders_snapshot").kind == "dbt_snapshot"
    python = _job(features, "features.customer_orders")
    assert python.sql is None
    assert [i.name for i in python.inputs] == [
        "warehouse.main_marts.customers", "warehouse.main_marts.fct_orders"
    ]


def test_union_relations_and_disabled_models(features: LineageBatch) -> None:
    assert "warehouse.main.old_orders" not in {d.id.name for d in features.datasets}
    sql = _job(features, "features.fct_orders").sql or ""
    assert "cast(null as timestamp) as archived_at" in sql
    assert "cast('warehouse.main.stg_orders' as varchar) as _dbt_source_relation" in sql


def test_generic_tests_config_and_relationships_to_a_source(features: LineageBatch) -> None:
    orders = _dataset(features, "warehouse.main_marts.fct_orders")
    assert orders.tests == (DataTest("is_positive", "amount", "{}", "warn"),)  # not_null disabled
    customers = _dataset(features, "warehouse.main_marts.customers")
    relationships = next(t for t in customers.tests if t.name == "relationships")
    assert json.loads(relationships.arguments)["to_dataset"] == "warehouse.raw_app.customers"
    assert features.issues == ()


def test_profile_env_vars_and_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEATURES_SCHEMA", "ci_42")
    names = {d.id.name for d in load_dbt_project(FEATURES).datasets}
    assert "warehouse.ci_42.stg_orders" in names
    assert "warehouse.ci_42_marts.fct_orders" in names
    prod = {d.id.name for d in load_dbt_project(FEATURES, target="prod").datasets}
    assert "analytics.core_marts.fct_orders" in prod


def test_parallel_parsing_gives_the_same_batch(monkeypatch: pytest.MonkeyPatch,
                                               features: LineageBatch) -> None:
    monkeypatch.setattr(dbt_batch, "_PARALLEL_MIN", 1)
    parallel = load_dbt_project(FEATURES, jobs=2)
    assert parallel.edges == features.edges
    assert parallel.datasets == features.datasets
    assert parallel.jobs == features.jobs


# -- target/manifest.json ----------------------------------------------------------------------


def test_manifest_path_equals_the_rendering_path(erp: LineageBatch) -> None:
    batch = load_dbt_project(ERP_MANIFEST)
    assert batch.issues == ()
    assert set(batch.edges) == set(erp.edges)
    assert [d.id for d in batch.datasets] == [d.id for d in erp.datasets]
    for ours, theirs in zip(erp.datasets, batch.datasets, strict=True):
        for attribute in ("kind", "description", "owners", "tags", "meta", "tests",
                          "contract_enforced", "freshness", "source_file"):
            assert getattr(ours, attribute) == getattr(theirs, attribute), (ours.id, attribute)
        assert ours.schema is not None and theirs.schema is not None
        assert ours.schema.names == theirs.schema.names
    for ours_job, their_job in zip(erp.jobs, batch.jobs, strict=True):
        assert (ours_job.name, ours_job.inputs, ours_job.outputs) == (
            their_job.name, their_job.inputs, their_job.outputs)


def test_manifest_path_takes_sql_from_the_manifest_and_types_from_the_catalog() -> None:
    batch = load_dbt_project(ERP_MANIFEST)
    # dbt's compiled code (quoted relations) is the job's SQL ...
    assert 'FROM "dev"."staging"."stg_erp_cust_az12"' in (
        _job(batch, "erp.erp_customers").sql or "")
    # ... except for a model the manifest never compiled, which is rendered here.
    assert "FROM dev.silver.erp_customers" in (_job(batch, "erp.customer_age_groups").sql or "")
    customers = _dataset(batch, "dev.silver.erp_customers")
    assert customers.schema is not None
    types = {f.name: f.type for f in customers.schema.fields}
    assert types["customer_id"] == "character varying(50)"
    assert types["extracted_at"] == "timestamp without time zone"
    source = _dataset(batch, "dev.spectrum.erp_cust_az12")
    assert source.schema is not None
    assert source.schema.fields[3].type == "character(1)"
    ages = _dataset(batch, "dev.gold.customer_age_groups")
    assert ages.schema is not None
    assert ages.schema.fields[0].type == "double precision"


def _with_version(tmp_path: Path, version: str) -> Path:
    project = _copy(ERP_MANIFEST, tmp_path)
    manifest = project / "target" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["metadata"]["dbt_schema_version"] = (
        f"https://schemas.getdbt.com/dbt/manifest/{version}.json"
    )
    manifest.write_text(json.dumps(data))
    return project


def test_a_v9_manifest_is_read_too(tmp_path: Path) -> None:
    batch = load_dbt_project(_with_version(tmp_path, "v9"))
    assert batch.issues == ()
    assert 'FROM "dev"."staging"."stg_erp_cust_az12"' in (
        _job(batch, "erp.erp_customers").sql or "")


def test_an_older_manifest_is_reported_and_the_project_rendered(tmp_path: Path,
                                                               erp: LineageBatch) -> None:
    batch = load_dbt_project(_with_version(tmp_path, "v8"))
    (issue,) = batch.issues
    assert issue.file == "target/manifest.json"
    assert "v8" in issue.message and "rendered" in issue.message
    assert set(batch.edges) == set(erp.edges)
    assert "FROM dev.staging.stg_erp_cust_az12" in (_job(batch, "erp.erp_customers").sql or "")


def test_a_newer_manifest_is_read_with_a_warning(tmp_path: Path, erp: LineageBatch) -> None:
    batch = load_dbt_project(_with_version(tmp_path, "v13"))
    (issue,) = batch.issues
    assert "v13" in issue.message
    assert set(batch.edges) == set(erp.edges)


def test_an_invalid_manifest_falls_back_to_rendering(tmp_path: Path, erp: LineageBatch) -> None:
    project = _copy(ERP_MANIFEST, tmp_path)
    (project / "target" / "manifest.json").write_text('{"metadata": {\n  "x": }\n')
    batch = load_dbt_project(project)
    (issue,) = batch.issues
    assert (issue.file, issue.line) == ("target/manifest.json", 2)
    assert set(batch.edges) == set(erp.edges)


def test_a_stale_manifest_is_reported(tmp_path: Path) -> None:
    project = _copy(ERP_MANIFEST, tmp_path)
    (project / "models" / "gold" / "new_model.sql").write_text(
        "select 1 as x from {{ ref('erp_customers') }}"
    )
    batch = load_dbt_project(project)
    (issue,) = batch.issues
    assert issue.file == "target/manifest.json"
    assert "models/gold/new_model.sql" in issue.message
    assert "dev.gold.new_model" not in {d.id.name for d in batch.datasets}


def test_the_manifest_can_be_ignored(erp: LineageBatch) -> None:
    batch = load_dbt_project(ERP_MANIFEST, use_manifest=False)
    assert "FROM dev.staging.stg_erp_cust_az12" in (_job(batch, "erp.erp_customers").sql or "")
    assert set(batch.edges) == set(erp.edges)


def test_transformation_subtypes_survive_the_manifest_path() -> None:
    batch = load_dbt_project(ERP_MANIFEST)
    (edge,) = [e for e in batch.edges if e.target_field == "gender_groups"]
    assert edge.transformations[0].subtype is TransformationSubtype.WINDOW
