"""The figures a check judges, measured live: row count, null counts, newest load time.

Freshness, row-count and null-rate rules compare a figure with a threshold or with the
metric history. Measured on the live table they need only aggregates, so they ride along
the constraint scan of ``connectors.warehouse.checks`` (one pass over the table for
both); ``figures_query`` is the same aggregates alone, for a table without constraints
or when the shared scan failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from connectors.warehouse.profile_sql import (
    ColumnKind,
    ProfilePlan,
    Slot,
    decode_row,
    table_expression,
)
from lineage.model import DatasetProfile, LiveTable

__all__ = ["FigureRequest", "FigureScan", "figure_scan"]


@dataclass(frozen=True)
class FigureRequest:
    """Which figures to measure: the row count always, the null count of ``null_columns``
    and the newest value of ``loaded_at`` (names the table lacks are left out)."""

    null_columns: tuple[str, ...] = ()
    loaded_at: tuple[str, ...] = ()


@dataclass(frozen=True)
class FigureScan:
    """The aggregate projections of a request and how to read their values back."""

    projections: tuple[exp.Expr, ...]
    plan: ProfilePlan

    def decode(self, table: LiveTable, values: Sequence[object], now: datetime) -> DatasetProfile:
        metrics, _, _ = decode_row(self.plan, values)
        return DatasetProfile(table.id, now, tuple(metrics))

    def query(self) -> exp.Select:
        """The aggregates alone, as one SELECT."""
        return self.plan.select


def figure_scan(table: LiveTable, request: FigureRequest, dialect: str) -> FigureScan:
    """The projections measuring ``request`` on ``table``, in ``dialect``."""
    present = {c.name.lower(): c.name for c in table.columns}

    def column(name: str) -> exp.Column:
        return exp.column(name, quoted=True)

    def known(names: Sequence[str]) -> list[str]:
        return list(dict.fromkeys(present[n.lower()] for n in names if n.lower() in present))

    slots: list[Slot] = [Slot("row_count")]
    projections: list[exp.Expr] = [exp.Count(this=exp.Star())]
    for name in known(request.loaded_at):
        slots.append(Slot("last_loaded_at", name, ColumnKind.TEMPORAL))
        projections.append(exp.Max(this=column(name)))
    for name in known(request.null_columns):
        slots.append(Slot("null_count", name))
        # COUNT(*) - COUNT(col): the null count every dialect computes in the same pass.
        projections.append(
            exp.Sub(this=exp.Count(this=exp.Star()), expression=exp.Count(this=column(name)))
        )
    aliased = tuple(exp.alias_(p, f"_m{i}", quoted=True) for i, p in enumerate(projections))
    select = exp.select(*aliased).from_(table_expression(table.id.name, dialect))
    return FigureScan(aliased, ProfilePlan(select, tuple(slots), dialect))
