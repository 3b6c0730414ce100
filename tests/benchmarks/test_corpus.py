"""The benchmark corpus generator: deterministic, valid SQL, and a schema that covers it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.corpus import (  # noqa: E402
    DEFAULT_DIALECT,
    STATEMENT_KINDS,
    SUPPORTED_DIALECTS,
    Corpus,
    generate_corpus,
    nested_schema,
)

N = 300


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return generate_corpus(N, DEFAULT_DIALECT, seed=7)


def _parse(sql: str, dialect: str) -> exp.Expr:
    expressions = sqlglot.parse(sql, dialect=dialect)
    assert len(expressions) == 1, sql
    expression = expressions[0]
    assert expression is not None
    assert not isinstance(expression, exp.Command), f"parsed as an opaque Command:\n{sql}"
    return expression


def test_same_seed_same_corpus(corpus: Corpus) -> None:
    again = generate_corpus(N, DEFAULT_DIALECT, seed=7)
    assert again.statements == corpus.statements
    assert again.warmup == corpus.warmup
    assert again.schema == corpus.schema


def test_other_seed_other_corpus(corpus: Corpus) -> None:
    other = generate_corpus(N, DEFAULT_DIALECT, seed=8)
    assert other.sqls != corpus.sqls


def test_prefix_stable_across_sizes(corpus: Corpus) -> None:
    # --datahub-sample times the first N statements: they must not depend on the size.
    assert generate_corpus(50, DEFAULT_DIALECT, seed=7).sqls == corpus.sqls[:50]


def test_mostly_unique_and_every_kind_present(corpus: Corpus) -> None:
    assert len(corpus.statements) == N
    assert corpus.unique_count >= 0.95 * N
    counts = corpus.kind_counts()
    assert all(counts[k] > 0 for k in STATEMENT_KINDS), counts
    assert not {s.sql for s in corpus.warmup} & set(corpus.sqls)


def test_every_statement_parses(corpus: Corpus) -> None:
    for statement in (*corpus.statements, *corpus.warmup):
        _parse(statement.sql, corpus.dialect)


@pytest.mark.parametrize("dialect", [d for d in SUPPORTED_DIALECTS if d != DEFAULT_DIALECT])
def test_every_statement_parses_in_other_dialects(dialect: str) -> None:
    small = generate_corpus(60, dialect, seed=11, warmup=5)
    for statement in (*small.statements, *small.warmup):
        _parse(statement.sql, dialect)


def test_schema_covers_every_table_and_column(corpus: Corpus) -> None:
    """Each table a statement touches is in the schema, with every column it names."""
    schema = MappingSchema(nested_schema(corpus.schema), dialect=corpus.dialect)
    db, default_schema = corpus.default_database, corpus.default_schema
    for statement in corpus.statements[:120]:
        tree = _parse(statement.sql, corpus.dialect)
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        created = tree.this.find(exp.Table) if isinstance(tree, exp.Create) else None
        for table in tree.find_all(exp.Table):
            if table is created or table.name in ctes:
                continue
            key = f"{table.catalog or db}.{table.db or default_schema}.{table.name}"
            assert key in corpus.schema, f"{key} missing from schema ({statement.kind})"
        if isinstance(tree, exp.Insert):
            target = tree.this
            assert isinstance(target, exp.Schema)
            table = target.this
            columns = corpus.schema[f"{db}.{table.db}.{table.name}"]
            assert {c.name for c in target.expressions} <= set(columns)
        query = tree.args.get("using") if isinstance(tree, exp.Merge) else tree
        if isinstance(query, (exp.Create, exp.Insert)):
            query = query.expression
        if isinstance(query, exp.Subquery):
            query = query.this
        if isinstance(query, exp.Query):
            # raises when a column cannot be resolved against the schema
            qualify(
                query,
                schema=schema,
                dialect=corpus.dialect,
                catalog=db,
                db=default_schema,
                validate_qualify_columns=True,
            )
