"""Every error path of issue 10 through the installed ``lineage`` script: the exit code (2
for a usage error, 1 for a failure), one message naming the object, never a traceback;
and the ambiguity errors offer names that are accepted back.

One module-scoped project (the ERP example's SQL scanned into two namespaces, plus an
ingested event with table-level lineage only) serves every query; each error that needs
its own lineage.yml gets a tiny project of its own.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

LINEAGE = str(Path(sys.executable).with_name("lineage"))
ERP_SQL = Path(__file__).resolve().parents[3] / "examples" / "erp" / "redshift"

# An ingested event that writes spectrum.erp_cust_az12 from the bronze folder with no
# columnLineage facet: lineage between datasets only.
_EVENT = {
    "eventType": "COMPLETE",
    "eventTime": "2026-11-30T02:00:00Z",
    "producer": "https://example.com/spark",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
    "run": {"runId": "0190c2d1-0000-7000-8000-000000000001"},
    "job": {"namespace": "spark", "name": "load_cust_az12"},
    "inputs": [{"namespace": "s3://lake", "name": "bronze/erp/cust_az12"}],
    "outputs": [{"namespace": "redshift", "name": "spectrum.erp_cust_az12"}],
}


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "LINEAGE_CATALOG_URL"}
    return subprocess.run(
        [LINEAGE, *args], cwd=cwd, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL, env={**environ, **(env or {})},
    )  # fmt: skip


def _fails(done: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """Assert exit ``code``, no traceback, and ``words`` in the output; return stderr."""
    both = done.stdout + done.stderr
    assert done.returncode == code, both
    assert "Traceback" not in both
    for word in words:
        assert word in both, both
    return done.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ERP SQL scanned as namespace ``redshift`` and as ``sql`` (the issue's two
    namespaces), and the table-level event ingested."""
    root = tmp_path_factory.mktemp("erp")
    shutil.copytree(ERP_SQL, root / "redshift")
    for namespace in ("redshift", "sql"):
        done = _run(["scan", "redshift", "--dialect", "redshift", "--namespace", namespace,
                     "--format", "json"], root)  # fmt: skip
        assert done.returncode == 0, done.stderr
    (root / "event.json").write_text(json.dumps(_EVENT) + "\n")
    done = _run(["ingest", "event.json", "--format", "json"], root)
    assert done.returncode == 0, done.stderr
    return root


def _offered(message: str, after: str) -> list[str]:
    found = re.search(re.escape(after) + r" (.+?); give", message)
    assert found, message
    return found.group(1).split(", ")


# -- names that resolve ------------------------------------------------------------------


def test_an_ambiguous_dataset_offers_names_that_are_accepted_back(project: Path) -> None:
    err = _fails(_run(["show", "silver.erp_customers"], project), 1, "matches several datasets")
    offered = _offered(err, "matches several datasets:")
    assert sorted(offered) == ["redshift/silver.erp_customers", "sql/silver.erp_customers"]
    for name in offered:
        done = _run(["show", name, "--format", "json"], project)
        assert done.returncode == 0, done.stderr
        shown = json.loads(done.stdout)
        assert f"{shown['namespace']}/{shown['name']}" == name
    done = _run(["show", "silver.erp_customers", "--namespace", "sql", "-f", "json"], project)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["namespace"] == "sql"


def test_a_bare_column_lists_its_candidates_and_each_is_accepted_back(project: Path) -> None:
    err = _fails(_run(["impact", "cid"], project), 1, "is a column of several datasets")
    offered = _offered(err, "is a column of several datasets:")
    # Two staging models in each of the two namespaces: four distinct, qualified names.
    assert sorted(offered) == [
        f"{ns}/staging.{model}.cid"
        for ns in ("redshift", "sql")
        for model in ("stg_erp_cust_az12", "stg_loc_a101")
    ]
    for name in (offered[0], offered[-1]):  # one of each namespace
        done = _run(["impact", name, "--format", "json"], project)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["root"] == name.split("/", 1)[1]
        namespace = name.split("/", 1)[0]
        assert result["columns"] and {c["namespace"] for c in result["columns"]} == {namespace}
    done = _run(["impact", "cid", "-n", "sql", "-f", "json"], project)
    _fails(done, 1, "sql/staging.stg_erp_cust_az12.cid", "sql/staging.stg_loc_a101.cid")
    assert "redshift/" not in done.stderr


def test_upstream_impact_counts_table_level_lineage(project: Path) -> None:
    args = ["impact", "redshift/spectrum.erp_cust_az12", "--upstream"]
    done = _run([*args, "--format", "json"], project)
    assert done.returncode == 0, done.stderr
    [upstream] = json.loads(done.stdout)["datasets"]
    assert (upstream["namespace"], upstream["node"], upstream["jobs"]) == (
        "s3://lake", "bronze/erp/cust_az12", ["load_cust_az12"]
    )  # fmt: skip
    table = _run(args, project)
    assert table.returncode == 0 and "nothing found" not in table.stdout
    assert "bronze/erp/cust_az12" in table.stdout


# -- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("dialect: duckdb\nfrobnicate: 3\n", ["lineage.yml", "unknown setting", "frobnicate"]),
        ("warehouse:\n  urll: duckdb:///x.duckdb\n", ["unknown setting", "warehouse.urll"]),
        ("dialect: duckdb\nnamespace: a: b\n", ["lineage.yml:2", "not valid YAML"]),
    ],
    ids=["unknown-key", "unknown-nested-key", "malformed"],
)
def test_a_bad_lineage_yml_is_one_line_naming_it(
    text: str, words: list[str], tmp_path: Path
) -> None:
    (tmp_path / "lineage.yml").write_text(text)
    err = _fails(_run(["show", "x"], tmp_path), 1, *words)
    assert len(err.strip().splitlines()) == 1, err


def test_a_missing_contracts_folder_is_an_error_not_no_checks(tmp_path: Path) -> None:
    (tmp_path / "lineage.yml").write_text("contracts: {path: nocontracts/}\n")
    _fails(_run(["check"], tmp_path), 1, "contracts.path", "nocontracts", "no such folder")
    _fails(_run(["contract", "lint"], tmp_path), 1, "nocontracts")


# -- what cannot be reached --------------------------------------------------------------


_DRIVERS = {
    "snowflake://u@acct/db": "snowflake.sqlalchemy",
    "bigquery://proj": "sqlalchemy_bigquery",
}


@pytest.mark.parametrize("url", sorted(_DRIVERS))
def test_a_missing_driver_names_the_extra_to_install(url: str, project: Path) -> None:
    module = _DRIVERS[url]
    if importlib.util.find_spec(module.split(".")[0]) is not None:
        pytest.skip(f"{module} is installed here")
    extra = url.split(":", 1)[0]
    _fails(_run(["introspect", url], project), 1,
           f"no driver for {extra}", f"pip install 'silverline[{extra}]'")  # fmt: skip


def _refused_port() -> int:
    """A local port nobody listens on (bound, then closed): connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_catalog_is_one_masked_line(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://u:secret@127.0.0.1:{_refused_port()}/x"
    done = _run(["show", "x"], tmp_path, env={"LINEAGE_CATALOG_URL": url})
    err = _fails(done, 1, "cannot open the catalog", "u:***@127.0.0.1")
    assert "secret" not in done.stdout + err
    assert len(err.strip().splitlines()) == 1, err


def test_an_unreadable_baseline_url_names_it(project: Path) -> None:
    url = f"http://127.0.0.1:{_refused_port()}/schema.json"
    _fails(_run(["drift", "--baseline", url], project), 1, url, "cannot fetch", "refused")


# -- files that are not there ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["scan", "redshift", "nope.sql"], ["nope.sql", "no such file"]),
        (["ingest", "event.json", "nope.json"], ["nope.json", "no such file"]),
        (["drift", "--baseline", "nope.json"], ["nope.json", "no published schema"]),
        (["docs", "build", "--out", "{tmp}/a-file"], ["a-file", "is a file, not a folder"]),
    ],
    ids=["scan", "ingest", "drift-baseline", "docs-out-onto-a-file"],
)
def test_a_missing_file_is_one_line_naming_it(
    args: list[str], words: list[str], project: Path, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    err = _fails(_run([a.format(tmp=tmp_path) for a in args], project), 1, *words)
    assert len(err.strip().splitlines()) == 1, err


# -- bad option values are usage errors --------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["runs", "--since", "banana"], ["--since", "'banana' is neither a duration"]),
        (["drift", "--fail-on", "sometimes"], ["--fail-on", "'sometimes'"]),
        (["show", "x", "--format", "xml"], ["--format", "'xml'"]),
        (["runs", "--format", "xml"], ["--format", "'xml'"]),
        (["impact", "x", "--format", "xml"], ["--format", "'xml'"]),
    ],
    ids=["since", "fail-on", "show-format", "runs-format", "impact-format"],
)
def test_a_bad_option_value_is_a_usage_error(
    args: list[str], words: list[str], tmp_path: Path
) -> None:
    _fails(_run(args, tmp_path), 2, "Usage: lineage", "Invalid value", *words)
