"""The console script's process: exit codes, every byte of output, and atexit handlers,
though the heap is not torn down on the way out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from lineage.cli import app
from lineage.model.memory import FIRST_GENERATION

REPO = Path(__file__).resolve().parents[3]

RUN = """
import atexit, gc, sys
from lineage.cli.app import run
atexit.register(lambda: print("atexit ran with threshold", gc.get_threshold(), file=sys.stderr))
sys.argv = ["lineage", *sys.argv[1:]]
run()
print("never printed: run() does not return")
"""


def _run(*argv: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUN, *argv], capture_output=True, text=True,
                          timeout=300, cwd=cwd)  # fmt: skip


def test_a_command_prints_everything_and_runs_atexit_handlers(tmp_path: Path) -> None:
    wide = tmp_path / "wide.sql"
    columns = ", ".join(f"customer_attribute_{i:04d}" for i in range(1500))
    wide.write_text(f"CREATE TABLE silver.wide AS SELECT {columns} FROM bronze.raw_wide;\n")
    url = f"sqlite:///{tmp_path / 'c.db'}"
    argv = ["scan", str(wide), "--catalog", url]
    done = _run(*argv)
    assert done.returncode == 0, done.stderr
    assert "never printed" not in done.stdout
    assert f"atexit ran with threshold {FIRST_GENERATION}" in done.stderr
    # The whole document came out, as the in-process command prints it.
    in_process = CliRunner().invoke(app, [*argv[:-1], f"sqlite:///{tmp_path / 'd.db'}"])
    assert json.loads(done.stdout)["statements"] == json.loads(in_process.stdout)["statements"]
    assert len(done.stdout) > 64 * 1024  # more than a pipe's buffer


def test_errors_and_usage_errors_keep_their_exit_codes(tmp_path: Path) -> None:
    missing = _run("show", "no_such_table", "--catalog", f"sqlite:///{tmp_path / 'c.db'}")
    assert missing.returncode == 1
    assert "no dataset or column 'no_such_table'" in missing.stderr
    assert "atexit ran" in missing.stderr
    usage = _run("show", "--no-such-option")
    assert usage.returncode == 2
    version = _run("--version")
    assert version.returncode == 0 and version.stdout.startswith("lineage (Silverline)")


def test_the_module_and_the_installed_script_are_the_same_command() -> None:
    module = subprocess.run([sys.executable, "-m", "lineage.cli", "--version"],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert module.returncode == 0 and module.stdout.startswith("lineage (Silverline)")
    script = Path(sys.executable).with_name("lineage")
    if script.exists():
        text = script.read_text()
        assert "from lineage.cli import run" in text
