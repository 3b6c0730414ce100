"""Usage errors through the installed ``lineage`` script: click's usage line and message,
exit code 2, never a traceback; ``--version``; no silent wait on stdin; one line per
scan problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

LINEAGE = str(Path(sys.executable).with_name("lineage"))


def _run(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINEAGE, *args], cwd=cwd, capture_output=True, text=True, timeout=60,
        input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Usage: lineage"),
        (["runz"], "No such command 'runz'"),
        (["show", "--formt", "json", "x"], "No such option: --formt"),
        (["impact"], "Missing argument 'target'"),
        (["scan", "--jobs", "many"], "Invalid value"),
    ],
)
def test_a_usage_error_is_a_usage_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path
) -> None:
    done = _run(args, tmp_path)
    assert done.returncode == 2, done
    assert message in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_debug_shows_the_traceback_of_a_usage_error(tmp_path: Path) -> None:
    done = _run(["--debug", "impact"], tmp_path)
    assert done.returncode != 0 and "Traceback" in done.stderr


def test_version(tmp_path: Path) -> None:
    from lineage.version import __version__

    done = _run(["--version"], tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, f"lineage (Silverline) {__version__}")


def test_scan_without_paths_says_what_to_give_instead_of_waiting(tmp_path: Path) -> None:
    # stdin stays open (a pipe nobody writes): a scan that read it would hang to the timeout.
    with subprocess.Popen(
        [LINEAGE, "scan"], cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    ) as child:  # fmt: skip
        _, err = child.communicate(timeout=60)
    assert child.returncode == 1
    assert "nothing to scan" in err and "- to read SQL from stdin" in err
    done = _run(["scan", "-", "--format", "table"], tmp_path, stdin="SELECT a FROM t")
    assert done.returncode == 0, done.stderr
    assert "t.a" in done.stdout and "DIRECT/IDENTITY" in done.stdout


def test_each_scan_problem_is_printed_once(tmp_path: Path) -> None:
    (tmp_path / "bad.sql").write_text("SELECT FROM WHERE (;\n")
    (tmp_path / "ok.sql").write_text("SELECT a FROM t;\n")
    done = _run(["scan", ".", "--format", "table"], tmp_path)
    problems = [line for line in done.stderr.splitlines() if line.startswith("bad.sql")]
    assert len(problems) == 1, done.stderr
