"""Secrets never leave the machine: every shape in, the secret nowhere out.

One table of secret shapes runs through the text rules (``lineage.model``'s redaction, which the
OpenLineage scrubber, the catalog's ``mask_url`` and the CLI's error line use), one table
of SQL statements through ``parse_sql`` (the statement text the catalog, the cache,
OpenLineage and DataHub receive), and one scan end to end: catalog bytes, JSON output
and a DataHub MCP file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.openlineage.facets import error_message_facet, scrub_secrets, sql_facet
from lineage.catalog.store import Catalog, mask_url
from lineage.cli import app
from lineage.cli.app import main
from lineage.model import is_secret_key, redact_mapping, redact_text, redact_url
from parsers.sql.parse import clear_cache, parse_sql

runner = CliRunner()
SECRET = "S3cr3tV4lue"

# (shape, text holding SECRET)
TEXT_SHAPES = [
    ("url password", f"postgresql+psycopg://etl:{SECRET}@db:5432/dwh"),
    ("url password with /", f"postgresql://etl:{SECRET}/x@db/dwh"),
    ("url password with @", f"postgresql://etl:p@{SECRET}@db.example.com/dwh"),
    ("url password with : and ?", f"mysql://etl:a:{SECRET}@h:3306/d?charset=utf8"),
    ("url query password", f"sqlite:///c.db?password={SECRET}&mode=ro"),
    ("url query token", f"https://host/api?x=1&access_token={SECRET}"),
    ("dict repr", f"{{'user': 'etl', 'password': '{SECRET}'}}"),
    ("json", f'{{"user": "etl", "apiKey": "{SECRET}"}}'),
    ("json escaped quote", f'{{"client_secret": "ab\\"{SECRET}"}}'),
    ("bearer header", f"Authorization: Bearer {SECRET}.x.y"),
    ("bearer alone", f"sent 'Bearer {SECRET}' to the server"),
    ("basic header", f"headers={{'Authorization': 'Basic {SECRET}=='}}"),
    ("raw authorization", f"authorization={SECRET}"),
    (
        "sqlalchemy parameters",
        "(psycopg.errors.UniqueViolation) duplicate key\n[SQL: INSERT INTO u VALUES (%s, %s)]\n"
        f"[parameters: ('alice', '{SECRET}')]\n"
        "(Background on this error at: https://sqlalche.me/e/20/gkpj)",
    ),
    (
        "stack trace source line",
        f'Traceback (most recent call last):\n  File "job.py", line 3, in run\n'
        f'    token = "{SECRET}"\nValueError: boom',
    ),
    ("kwarg source line", f"    connect(host='h', password='{SECRET}')"),
    ("libpq string", f"host=h dbname=d user=u password={SECRET} sslmode=require"),
    ("env dump", f"AWS_SECRET_ACCESS_KEY={SECRET}\nAWS_SESSION_TOKEN={SECRET}x"),
    ("yaml quoted", f"password: '{SECRET}'"),
    ("sql password", f"CREATE USER bob PASSWORD '{SECRET}'"),
    ("sql password escaped quote", f"ALTER USER bob PASSWORD 'a''{SECRET}'"),
    ("sql identified by", f"CREATE USER 'bob'@'%' IDENTIFIED BY '{SECRET}'"),
    ("sql identified with", f"CREATE USER b IDENTIFIED WITH mysql_native_password BY '{SECRET}'"),
    ("sql credentials", f"COPY t FROM 's3://b/k' CREDENTIALS 'aws_secret_access_key={SECRET}'"),
    ("sql access keys", f"COPY t FROM 's3://b' ACCESS_KEY_ID 'AK' SECRET_ACCESS_KEY '{SECRET}'"),
    ("snowflake credentials", f"CREDENTIALS=(AWS_KEY_ID='AK' AWS_SECRET_KEY='{SECRET}')"),
    ("unterminated sql password", f"CREATE USER bob PASSWORD '{SECRET}"),
    # Inside a string literal (dynamic SQL), where the quotes are doubled.
    ("sql password nested", f"EXEC('CREATE LOGIN bob WITH PASSWORD = ''{SECRET}''')"),
    ("sql identified by nested", f"EXECUTE IMMEDIATE 'ALTER USER b IDENTIFIED BY ''{SECRET}'''"),
]


@pytest.mark.parametrize(("shape", "text"), TEXT_SHAPES, ids=[s for s, _ in TEXT_SHAPES])
def test_text_shapes_lose_the_secret(shape: str, text: str) -> None:
    for redacted in (redact_text(text), scrub_secrets(text), redact_url(text)):
        assert SECRET not in redacted, (shape, redacted)
        assert "***" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "SELECT password_hash, token_count FROM users",
        "https://host:8080/path@x",
        "s3://bucket/key/file.csv",
        "postgresql://etl@db:5432/dwh",
        "pass",
    ],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://etl:hunter2@db:5432/dwh", "postgresql://etl:***@db:5432/dwh"),
        ("postgresql://etl:p@ss/w0rd@db/dwh", "postgresql://etl:***@db/dwh"),
        ("postgresql://db/dwh?user=etl&password=hunter2", "postgresql://db/dwh?user=etl&password=***"),
        ("sqlite:///.lineage/catalog.db", "sqlite:///.lineage/catalog.db"),
    ],
)
def test_mask_url(url: str, expected: str) -> None:
    assert mask_url(url) == expected == redact_url(url)


def test_redact_mapping_by_key_names() -> None:
    doc = {
        "target": {"user": "etl", "pass": SECRET, "password": SECRET, "threads": 4},
        "list": [{"apiKey": SECRET}, {"aws_secret_access_key": SECRET}, ("Bearer " + SECRET,)],
        "private_key": {"nested": SECRET},
        "url": f"postgresql://u:{SECRET}@h/d",
        "token_count": 3,
        "passes": 2,
    }
    out = redact_mapping(doc)
    assert SECRET not in json.dumps(out)
    assert out["target"]["user"] == "etl" and out["target"]["threads"] == 4
    assert out["token_count"] == 3 and out["passes"] == 2
    assert doc["target"]["pass"] == SECRET  # a copy: the input is unchanged
    for key in ("password", "passwd", "pwd", "pass", "secret", "token", "api_key", "apikey",
                "access_key", "secret_key", "private_key", "authorization", "credentials",
                "AWS_SECRET_ACCESS_KEY", "clientSecret", "X-Api-Key"):
        assert is_secret_key(key), key
    for key in ("user", "passes", "token_count", "keys", "primary_key_columns"):
        assert not is_secret_key(key), key


def test_event_facets_are_scrubbed() -> None:
    try:
        token = SECRET
        raise ValueError(f"connect failed: {{'password': '{token}'}}")
    except ValueError as exc:
        error = exc
    facet = error_message_facet(error)
    assert SECRET not in facet["message"] and SECRET not in facet["stackTrace"]
    assert SECRET not in sql_facet(f"CREATE USER bob PASSWORD '{SECRET}'", "redshift")["query"]


# (dialect, statement holding SECRET, the statement kind lineage must still give)
SQL_SHAPES = [
    ("redshift", f"COPY bronze.t FROM 's3://b/k' CREDENTIALS 'aws_access_key_id=AK;"
                 f"aws_secret_access_key={SECRET}' CSV", "COPY"),
    ("redshift", f"COPY bronze.t FROM 's3://b/k' ACCESS_KEY_ID 'AK' SECRET_ACCESS_KEY '{SECRET}'"
                 f" SESSION_TOKEN '{SECRET}'", "COPY"),
    ("redshift", f"COPY bronze.t FROM 's3://b/k' IAM_ROLE 'arn:aws:iam::1:role/r' "
                 f"MASTER_SYMMETRIC_KEY '{SECRET}'", "COPY"),
    ("redshift", f"UNLOAD ('select * from t') TO 's3://b/k' CREDENTIALS "
                 f"'aws_iam_role=arn;master_symmetric_key={SECRET}'", "UNLOAD"),
    ("redshift", f"CREATE USER bob PASSWORD '{SECRET}'", "OTHER"),
    ("postgres", f"ALTER ROLE bob WITH LOGIN PASSWORD '{SECRET}' VALID UNTIL 'infinity'", "OTHER"),
    ("postgres", f"CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password '{SECRET}')",
     "OTHER"),
    ("postgres", "INSERT INTO t SELECT * FROM dblink('host=h user=u password="
                 f"{SECRET}', 'select a from x') AS r(a int)", "INSERT"),
    ("mysql", f"CREATE USER 'bob'@'%' IDENTIFIED BY '{SECRET}'", "OTHER"),
    ("mysql", f"ALTER USER 'bob'@'%' IDENTIFIED WITH caching_sha2_password BY '{SECRET}'",
     "OTHER"),
    ("postgres", f"SELECT * FROM dblink('postgresql://u:{SECRET}@h/d', 'select 1') AS r(a int)",
     "SELECT"),
    ("snowflake", f"COPY INTO bronze.t FROM 's3://b/k' CREDENTIALS=(AWS_KEY_ID='AK' "
                  f"AWS_SECRET_KEY='{SECRET}' AWS_TOKEN='{SECRET}')", "COPY"),
    ("snowflake", f"CREATE STAGE s URL='s3://b' CREDENTIALS=(AWS_KEY_ID='AK' "
                  f"AWS_SECRET_KEY='{SECRET}')", "OTHER"),
    ("snowflake", f"COPY INTO bronze.t FROM 's3://b/k' CREDENTIALS=(AWS_KEY_ID='AK' "
                  f"AWS_SECRET_KEY=$${SECRET}$$)", "COPY"),
    # Keys and passphrases given to crypto functions in expressions.
    ("postgres", f"SELECT pgp_sym_decrypt(ssn, '{SECRET}') AS ssn FROM silver.people",
     "SELECT"),
    ("snowflake", f"INSERT INTO s SELECT DECRYPT(v, '{SECRET}') AS x FROM t", "INSERT"),
    ("mysql", f"SELECT AES_DECRYPT(card, '{SECRET}') AS card FROM t", "SELECT"),
    ("postgres", f"CREATE TABLE h AS SELECT hmac(email, '{SECRET}', 'sha256') AS h FROM t",
     "CREATE_TABLE_AS"),
    ("tsql", f"EXEC('CREATE LOGIN bob WITH PASSWORD = ''{SECRET}''')", "OTHER"),  # dynamic SQL
    ("postgres", f"CREATE USER bob PASSWORD '{SECRET}", "UNKNOWN"),  # does not tokenize
    ("redshift", f"COPY bronze.t FROM 's3://b/k' CREDENTIALS '{SECRET}' (((", "UNKNOWN"),
]


@pytest.mark.parametrize(("dialect", "sql", "kind"), SQL_SHAPES)
def test_stored_sql_loses_the_secret(dialect: str, sql: str, kind: str) -> None:
    clear_cache()
    for _ in range(2):  # and again from the cache
        (statement,) = parse_sql(sql, dialect=dialect).statements
        assert statement.kind.value == kind
        assert SECRET not in json.dumps(statement.to_dict()), statement.to_dict()
        assert SECRET not in statement.sql
        assert any(mask in statement.sql for mask in ("'***'", "=***", ":***@"))


def test_lineage_is_unchanged_by_redaction() -> None:
    clear_cache()
    sql = (
        f"COPY bronze.t FROM 's3://b/k' CREDENTIALS 'aws_secret_access_key={SECRET}' CSV;\n"
        "INSERT INTO silver.u SELECT a AS b FROM bronze.t"
    )
    copy, insert = parse_sql(sql, dialect="redshift").statements
    assert [d.name for d in copy.outputs] == ["bronze.t"] and copy.inputs
    assert copy.sql == "COPY bronze.t FROM 's3://b/k' CREDENTIALS '***' CSV"
    assert insert.sql == "INSERT INTO silver.u SELECT a AS b FROM bronze.t"
    assert insert.column_lineage[0].field_map()["b"][0].field == "a"
    # The redacted text is still SQL of the same lineage.
    (again,) = parse_sql(copy.sql, dialect="redshift").statements
    assert again.outputs == copy.outputs and again.inputs == copy.inputs


def test_scan_stores_and_pushes_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_cache()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "load.sql").write_text(
        f"COPY bronze.orders FROM 's3://bucket/orders/' CREDENTIALS "
        f"'aws_access_key_id=AKIAEXAMPLE;aws_secret_access_key={SECRET}' CSV;\n"
        f"CREATE USER loader PASSWORD '{SECRET}x';\n"
        "INSERT INTO silver.orders SELECT id AS order_id FROM bronze.orders;\n"
    )
    db = tmp_path / "catalog.db"
    url = f"sqlite:///{db}"
    scan = runner.invoke(app, ["scan", "load.sql", "-d", "redshift", "--catalog", url,
                               "-f", "json"])
    assert scan.exit_code == 0, scan.output
    assert SECRET not in scan.stdout
    doc = json.loads(scan.stdout)
    copy = doc["statements"][0]
    assert copy["kind"] == "COPY"
    assert [o["name"] for o in copy["outputs"]] == ["bronze.orders"] and copy["inputs"]

    out = tmp_path / "mcps.json"
    push = runner.invoke(app, ["push", "datahub", "--file", str(out), "--catalog", url])
    assert push.exit_code == 0, push.output
    assert out.exists() and "queryStatement" in out.read_text()
    assert SECRET not in out.read_text() and SECRET not in push.stdout

    for path in [db, *tmp_path.rglob("*")]:  # the catalog's bytes, caches, WAL files
        if path.is_file() and path != tmp_path / "load.sql":
            assert SECRET.encode() not in path.read_bytes(), path
    assert b"CREDENTIALS '***'" in db.read_bytes()  # the statement is stored, masked
    assert "CREDENTIALS '***'" in out.read_text()
    with Catalog(url) as catalog:  # the COPY's lineage is recorded
        names = {(d.id.namespace, d.id.name) for d in catalog.datasets()}
    assert {("redshift", "bronze.orders"), ("s3://bucket", "orders")} <= names


def test_cli_error_line_masks_the_catalog_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"nosuchdb+driver://etl:{SECRET}@db/dwh?password={SECRET}"
    monkeypatch.setattr(sys, "argv", ["lineage", "show", "x", "--catalog", url])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "error:" in err and SECRET not in err


@pytest.mark.parametrize("key", ["pass", "pwd", "password", "api_key", "keyfile_json", "token"])
def test_profile_secrets_never_reach_compiled_sql(tmp_path: Path, key: str) -> None:
    # dbt's profile keys are the target's: `{{ target.pass }}` must not render a secret.
    from parsers.dbt import load_dbt_project

    (tmp_path / "dbt_project.yml").write_text("name: shop\nprofile: shop\n")
    (tmp_path / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n"
        f"      host: db\n      dbname: dwh\n      schema: public\n      {key}: s3cr3t-value\n"
    )
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "leak.sql").write_text(
        f"select '{{{{ target.{key} | default('none') }}}}' as x, id\n"
        "from {{ source('raw', 't') }}\n"
    )
    (tmp_path / "models" / "sources.yml").write_text(
        "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: t\n"
    )
    batch = load_dbt_project(tmp_path, dialect="postgres")
    assert "s3cr3t-value" not in repr(batch)
