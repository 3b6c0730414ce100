"""sql_text: the text sqlglot's own ``.sql()`` gives, in every dialect and option, from a
generator made once per dialect and thread."""

from __future__ import annotations

import threading

import pytest
import sqlglot

from lineage.model import sql_text as module
from lineage.model.sql_text import sql_text

STATEMENTS = [
    "SELECT TRY_CAST(bdate AS DATE) AS birth_date, CAST(n AS DECIMAL(10, 2)) FROM erp.cust",
    "SELECT a, COUNT(*) AS n FROM t WHERE x IN (1, 2) GROUP BY a HAVING COUNT(*) > 1",
    "CREATE TABLE s.x (id INT, name VARCHAR(50), at TIMESTAMP)",
]


@pytest.mark.parametrize("dialect", [None, "duckdb", "postgres", "snowflake", "bigquery"])
@pytest.mark.parametrize("pretty", [False, True])
def test_the_same_text_as_sqlglots_own(dialect: str | None, pretty: bool) -> None:
    for sql in STATEMENTS:
        tree = sqlglot.parse_one(sql, read=dialect)
        for identify in (False, True):
            expected = tree.sql(dialect=dialect, pretty=pretty, identify=identify)
            assert sql_text(tree, dialect, pretty=pretty, identify=identify) == expected
            assert sql_text(tree, dialect, pretty=pretty, identify=identify) == expected


def test_one_generator_per_dialect_and_thread() -> None:
    tree = sqlglot.parse_one(STATEMENTS[0], read="duckdb")
    sql_text(tree, "duckdb")
    made = module._local.generators[("duckdb", False, False)]
    sql_text(sqlglot.parse_one(STATEMENTS[1]), "duckdb")
    assert module._local.generators[("duckdb", False, False)] is made  # reused
    seen: list[object] = []
    texts: list[str] = []

    def other() -> None:
        for _ in range(200):
            texts.append(sql_text(tree, "duckdb"))
        seen.append(module._local.generators[("duckdb", False, False)])

    workers = [threading.Thread(target=other) for _ in range(3)]
    for worker in workers:
        worker.start()
    for _ in range(200):
        assert sql_text(tree, "duckdb") == tree.sql(dialect="duckdb")
    for worker in workers:
        worker.join()
    assert len({id(g) for g in seen}) == 3 and made not in seen  # each thread its own
    assert set(texts) == {tree.sql(dialect="duckdb")}
