"""Data contracts: what a dataset promises, whatever file format it was written in.

One vocabulary for the seed's contract YAML (``schema.fields[].constraints``,
``quality.freshness``, ``quality.row_count.warning``), the Open Data Contract Standard v3
(``schema[].properties[]``, ``quality[]``, ``slaProperties``), dbt model contracts and
tests from ``schema.yml`` and Great Expectations suites: ``parsers.contracts`` reads them
into these values, ``connectors.warehouse`` turns constraints into SQL, ``lineage.checks``
judges history rules, and drift reads them as a baseline. Pure: no I/O here.

One module per concept: ``values`` (the vocabulary, durations), ``dbt`` (a dbt model as
a contract), ``binding`` (a contract to its dataset), ``lint`` (a contract against the
schemas), ``template`` (``lineage contract init``). Every public name is re-exported here;
none of them imports anything heavy (sqlglot loads inside ``type_family`` only).
"""

from __future__ import annotations

from lineage.contracts.binding import bind
from lineage.contracts.dbt import (
    DBT_COLUMNS_KEY,
    contract_from_dataset,
    dbt_test_checks,
    dbt_test_labels,
    sensitive_columns,
)
from lineage.contracts.lint import lint, type_family
from lineage.contracts.template import contract_template, looks_sensitive
from lineage.contracts.values import (
    TODAY,
    Constraint,
    ConstraintKind,
    Contract,
    ContractField,
    QualityRule,
    RuleKind,
    RuleSeverity,
    Source,
    parse_duration,
    resolve_bound,
)

__all__ = [
    "DBT_COLUMNS_KEY",
    "TODAY",
    "Constraint",
    "ConstraintKind",
    "Contract",
    "ContractField",
    "QualityRule",
    "RuleKind",
    "RuleSeverity",
    "Source",
    "bind",
    "contract_from_dataset",
    "contract_template",
    "dbt_test_checks",
    "dbt_test_labels",
    "lint",
    "looks_sensitive",
    "parse_duration",
    "resolve_bound",
    "sensitive_columns",
    "type_family",
]
