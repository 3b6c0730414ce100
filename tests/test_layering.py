"""The layering of DESIGN.md holds once Python runs the packages, not only file by file.

Each check runs in a fresh interpreter: what a module loads is only visible before any
other test has imported the rest of the project.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = ("lineage", "parsers", "connectors", "docs_site")


def _loaded_after(statement: str) -> list[str]:
    probe = (
        f"import sys\n{statement}\n"
        "import json\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{PROJECT!r} or m == 'dbt' or m.startswith('dbt.'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    return list(json.loads(out.stdout))


@pytest.mark.parametrize(
    "statement",
    ["import lineage.model", "import lineage", "import parsers.sql", "import lineage.catalog",
     "import lineage.graph", "import lineage.views"],
)
def test_core_and_sql_parser_load_no_connector_and_no_dbt(statement: str) -> None:
    loaded = _loaded_after(statement)
    assert not [m for m in loaded if m.startswith("connectors.")], loaded
    assert not [m for m in loaded if m.startswith(("parsers.dbt", "dbt"))], loaded
    assert not [m for m in loaded if m.startswith(("lineage.run", "lineage.cli"))], loaded


def test_importing_lineage_model_loads_only_the_vocabulary() -> None:
    assert _loaded_after("import lineage.model") == [
        "lineage", "lineage.errors", "lineage.model", "lineage.model.naming",
        "lineage.model.observed", "lineage.model.redaction", "lineage.model.vocabulary",
        "lineage.version",
    ]


@pytest.mark.parametrize(
    "first_import",
    ["import lineage", "import lineage.run.wiring", "from lineage.run import current_run",
     "import lineage.cli"],
)
def test_lineage_job_and_run_work_whatever_was_imported_first(
    first_import: str, tmp_path: object
) -> None:
    # ``lineage.run`` is a subpackage and the public context manager at once.
    probe = (
        f"{first_import}\nimport lineage\n"
        "lineage.run.configure(sinks=[])\n"
        "with lineage.run('erp.backfill') as active:\n"
        "    assert lineage.run.current_run() is active\n"
        "@lineage.job(name='erp.load')\n"
        "def load(): return 7\n"
        "assert load() == 7\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=str(tmp_path))
    assert out.stdout.strip() == "ok", out.stderr


# DESIGN.md ("Layout"): spokes import only these modules of ``lineage``, never each other.
CORE = {"model", "errors", "views", "graph", "catalog", "contracts", "checks", "drift"}
SPOKES = ("parsers", "connectors", "docs_site")
REPO = Path(__file__).resolve().parents[1]


def _project_imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def test_spokes_import_only_the_core_modules_design_names() -> None:
    crossing = []
    for spoke in SPOKES:
        for path in sorted((REPO / spoke).rglob("*.py")):
            for line, name in _project_imports(path):
                top, _, rest = name.partition(".")
                foreign_spoke = top in SPOKES and top != spoke
                if (top == "lineage" and rest.split(".")[0] not in CORE) or foreign_spoke:
                    crossing.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert crossing == []


def test_the_command_starts_without_the_heavy_libraries() -> None:
    # `lineage --help` and every usage error pay only for what they use (issue: start-up).
    probe = (
        "import sys\nimport lineage.cli.app\n"
        "heavy = ('sqlalchemy', 'sqlglot', 'networkx', 'duckdb', 'pyarrow', 'datahub', "
        "'openlineage', 'jinja2')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.strip() == "[]"


def test_the_build_help_names_every_step() -> None:
    from lineage.cli.build import STEP_NAMES
    from lineage.workspace.build import STEPS

    assert tuple(STEPS) == STEP_NAMES
