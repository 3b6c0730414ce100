"""Whether a folder is a dbt project: a check cheap enough to ask of every path given.

Kept apart from the readers, so that the CLI and the workspace can tell dbt projects from
SQL folders without loading Jinja and the dbt parser.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["is_dbt_project"]


def is_dbt_project(path: str | Path) -> bool:
    """Whether ``path`` is a dbt project folder (it holds a ``dbt_project.yml``)."""
    return (Path(path) / "dbt_project.yml").is_file()
