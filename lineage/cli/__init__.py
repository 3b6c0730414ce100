"""The ``lineage`` command: one module per command group over ``lineage.workspace``."""

from __future__ import annotations

from lineage.cli.app import app, main, run

__all__ = ["app", "main", "run"]
