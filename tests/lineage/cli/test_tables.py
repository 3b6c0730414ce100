"""Long tables (``lineage impact`` of a wide root) print every value whole, one row a line."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from lineage.cli import app
from lineage.cli.tables import RICH_ROWS, print_rows

runner = CliRunner()


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=80, color_system=None), out


def test_a_short_table_is_drawn_by_rich_and_cells_are_never_markup() -> None:
    console, out = _console()
    print_rows(console, "few", ("name", "note"), [("[bold]x[/]", "a"), ("y", "[red]b")])
    text = out.getvalue()
    assert "┃ name" in text  # rich's box
    assert "[bold]x[/]" in text and "[red]b" in text


def test_a_long_table_is_plain_aligned_and_never_wrapped() -> None:
    console, out = _console()
    rows = [(f"bench.main.wide.column_{i:04d}", str(i % 7), "via " + "j" * 120)
            for i in range(RICH_ROWS + 1)]  # fmt: skip
    rows[3] = ("[dim]x[/]", "1", "y")
    print_rows(console, "many", ("column", "hops", "via jobs"), rows)
    lines = out.getvalue().splitlines()
    assert lines[0] == "many"
    assert lines[1].split() == ["column", "hops", "via", "jobs"]
    body = lines[3:]
    assert len(body) == len(rows)  # one line per row: nothing wrapped, nothing lost
    assert body[0].split() == ["bench.main.wide.column_0000", "0", "via", "j" * 120]
    assert body[3].split() == ["[dim]x[/]", "1", "y"]
    hops_at = lines[1].index("hops")
    assert all(line[hops_at - 2 : hops_at] == "  " for line in body)  # columns line up


def test_impact_of_a_wide_root_lists_every_column_the_json_lists(tmp_path: Path) -> None:
    width = RICH_ROWS + 50
    columns = ", ".join(f"c{i:03d}" for i in range(width))
    (tmp_path / "wide.sql").write_text(
        f"CREATE TABLE silver.wide AS SELECT {columns} FROM bronze.raw_wide;\n"
    )
    url = f"sqlite:///{tmp_path / 'c.db'}"
    scanned = runner.invoke(app, ["scan", str(tmp_path / "wide.sql"), "--catalog", url])
    assert scanned.exit_code == 0, scanned.output
    as_json = runner.invoke(app, ["impact", "bronze.raw_wide", "-f", "json", "--catalog", url])
    nodes = [entry["node"] for entry in (json.loads(as_json.stdout)["columns"])]
    assert len(nodes) == width
    as_table = runner.invoke(app, ["impact", "bronze.raw_wide", "--catalog", url])
    assert as_table.exit_code == 0, as_table.output
    listed = [line.split()[0] for line in as_table.stdout.splitlines()[3:]
              if line.startswith(nodes[0].rsplit(".", 1)[0] + ".")]  # fmt: skip
    assert listed == nodes
    assert "silver.wide (dataset)" in as_table.stdout


def test_a_large_scan_prints_every_models_lineage_plain(tmp_path: Path) -> None:
    from benchmarks.bench_project import generate_project

    project = tmp_path / "project"
    generate_project(project, 20, 4, 12)  # 20 models of 12 columns: past RICH_ROWS in all
    url = f"sqlite:///{tmp_path / 'c.db'}"
    argv = ["scan", str(project), "--dialect", "duckdb", "--catalog", url, "--no-catalog"]
    as_json = json.loads(runner.invoke(app, argv).stdout)
    table = runner.invoke(app, [*argv, "--format", "table"])
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert not any("┃" in line or "│" in line for line in lines)  # plain, not rich boxes
    expected = []
    for job in as_json["dbt"][0]["lineage"]:
        for column, inputs in job["fields"].items():
            for i, field in enumerate(inputs):
                expected.append(((column if i == 0 else ""), f"{field['name']}.{field['field']}"))
        for field in job["dataset"]:
            expected.append(("(all rows)", f"{field['name']}.{field['field']}"))
    assert sum(len(job["fields"]) for job in as_json["dbt"][0]["lineage"]) > RICH_ROWS
    printed = [line for line in lines if ".raw." in line or ".main." in line]
    found = []
    for line in printed:
        if " -> " in line:
            continue  # a model's title
        cells = line.split()
        if cells[0].startswith("bench."):  # a continuation row: no output column
            found.append(("", cells[0]))
        elif cells[0] == "(all":
            found.append(("(all rows)", cells[2]))
        else:
            found.append((cells[0], cells[1]))
    assert found == expected
