"""The installed ``lineage`` script, as a user runs it, on generated projects of 2,000 and
10,000 models, with ``dbt parse`` side by side (issue 11, "Interactive at 10,000 models").

Each figure is one whole new process started from the project folder, as a user at a
terminal would (start-up, imports, catalog open, work, output): what the user waits for.
For each project size, on a dbt project from ``bench_project.generate_project``:

- ``lineage --help``;
- the first ``lineage scan . --dialect duckdb`` (cold: no ``.lineage`` cache, new catalog),
  and at the end the same with ``-j 2`` (no cache again, another new catalog);
- ``lineage scan`` again with nothing changed;
- ``lineage scan`` after editing one mid-chain model (a new column: its lineage changes;
  a different edit each run, so no run reuses another's parse, and the model is restored
  and rescanned, untimed, before the next run);
- ``lineage show`` of a mid-chain model, ``lineage impact`` of a root column, of a leaf
  column and of a whole root dataset;
- where dbt is installed beside this Python: ``dbt parse --no-partial-parse`` (full), then
  ``dbt parse`` with nothing changed and after the same kind of one-model edit (partial).

The catalog is a SQLite file in a sibling folder of the project, never inside it, and dbt
writes its ``target/`` and logs outside the project too, so no scan sees either. Wall
seconds, CPU seconds (the child's user + system) and peak RSS (the child's own maxrss,
from ``os.wait4``) are the median run of ``--runs`` (the cold scan and the full dbt parse
run once); each is printed beside its goal from the issue and the ratio to it, or to dbt.
Output (``lineage scan`` prints its default JSON document) goes to a file, not a terminal.
Each scan's reported catalog writes are checked (all jobs added, unchanged, one changed),
so a figure cannot come from a scan that did other work than it names.

    python -m benchmarks.bench_cli [--models 2000 --models 10000] [--runs 3] [--no-dbt]
                                   [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.bench_project import generate_project  # noqa: E402

__all__ = ["ChildFailed", "Figure", "Sample", "bench_project_size", "main", "run_child"]

LINEAGE = Path(sys.executable).with_name("lineage")
DBT = Path(sys.executable).with_name("dbt")
DEPTH = 10
COLUMNS = 30
TIMEOUT_S = 1800.0
#: The goals of issue 11, in wall seconds, at 10,000 models end to end.
GOAL_QUERY_S = 0.3
GOAL_HELP_S = 0.3
GOAL_RESCAN_EDIT_S = 1.0
GOAL_RESCAN_UNCHANGED_S = 0.3


class ChildFailed(RuntimeError):
    """A benchmarked command exited non-zero (or ran past the timeout)."""


@dataclass(frozen=True)
class Sample:
    """One process: wall and CPU seconds, peak resident memory, and what it printed."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stdout: str


@dataclass(frozen=True)
class Figure:
    """One row of the table: a command's median run, its goal and what it is compared
    with (``peer``, the ``what`` of that row: dbt's, or ``-j 1`` for ``-j 2``)."""

    what: str
    command: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    goal_s: float | None = None
    peer: str | None = None
    peer_wall_s: float | None = None


# Runs one command and writes its wall seconds and rusage to the file named first. Linux
# charges a child the parent's resident memory at fork (ru_maxrss is kept across exec), so
# the measured command is started from this small stdlib-only interpreter (python -I -S),
# never from the benchmark process, which holds the generator and large scan documents.
LAUNCHER = """
import json, os, subprocess, sys, threading, time
report, timeout, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
started = time.perf_counter()
process = subprocess.Popen(argv)
timer = threading.Timer(timeout, process.kill)
timer.start()
_, status, usage = os.wait4(process.pid, 0)
wall = time.perf_counter() - started
timer.cancel()
process.returncode = os.waitstatus_to_exitcode(status)  # reaped already
with open(report, "w") as out:
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
               "maxrss": usage.ru_maxrss, "code": process.returncode}, out)
"""


def run_child(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Run ``argv`` in ``cwd`` to its end and measure it alone.

    The launcher times the child and reads its own rusage with ``os.wait4``
    (``getrusage(RUSAGE_CHILDREN)`` would give the running maximum RSS over every child so
    far). Output goes to files, not pipes, so a large document can neither block the child
    nor be read while the clock runs.
    """
    with tempfile.TemporaryDirectory(prefix="bench-cli-run-") as tmp:
        report = Path(tmp) / "rusage.json"
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), str(TIMEOUT_S)]
        with open(Path(tmp) / "out", "w+b") as out, open(Path(tmp) / "err", "w+b") as err:
            subprocess.run(
                [*launcher, *argv], cwd=cwd, env=env, stdout=out, stderr=err, check=False
            )
            measured = json.loads(report.read_text()) if report.is_file() else {"code": None}
            if measured["code"] != 0:
                raise ChildFailed(
                    f"{' '.join(argv)} exited {measured['code']} in {cwd}:\n{_tail(err)}"
                )
            out.seek(0)
            stdout = out.read().decode(errors="replace")
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
    rss = measured["maxrss"] / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return Sample(float(measured["wall"]), float(measured["cpu"]), rss, stdout)


def _tail(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode(errors="replace")[-2000:]


def _median(samples: list[Sample]) -> Sample:
    """The run of median wall time (the lower middle one for an even count)."""
    ordered = sorted(samples, key=lambda s: s.wall_s)
    return ordered[(len(ordered) - 1) // 2]


def _figure(what: str, argv: Sequence[str], samples: list[Sample], **extra: Any) -> Figure:
    chosen = _median(samples)
    command = " ".join([Path(argv[0]).name, *argv[1:]])
    return Figure(
        what,
        command,
        round(chosen.wall_s, 3),
        round(chosen.cpu_s, 3),
        round(chosen.peak_rss_mb, 1),
        **extra,
    )


class _Project:
    """A generated project, its catalog beside it, and the one-model edit."""

    def __init__(self, work: Path, models: int) -> None:
        self.root = work / "project"
        generate_project(self.root, models, DEPTH, COLUMNS)
        (work / "catalog").mkdir()
        self.catalog_url = f"sqlite:///{work / 'catalog' / 'catalog.db'}"
        self.dbt_target = work / "dbt-target"
        self.dbt_logs = work / "dbt-logs"
        chains = max(1, models // DEPTH)
        self.edited = self.root / "models" / f"m_{chains // 2:04d}_{DEPTH // 2:02d}.sql"
        self.original = self.edited.read_text()
        self.edits = 0
        self.env = {k: v for k, v in os.environ.items() if k != "LINEAGE_CATALOG_URL"}
        # dbt's anonymous usage events would time the network, not the parse.
        self.env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"

    def edit(self) -> None:
        """Add a new column to the mid-chain model; each edit differs from all before."""
        self.edits += 1
        column = f",\n    p.c01 + {self.edits} as bench_edit_{self.edits}\nfrom "
        self.edited.write_text(self.original.replace("\nfrom ", column, 1))

    def restore(self) -> None:
        self.edited.write_text(self.original)

    def lineage(self, *args: str) -> list[str]:
        return [str(LINEAGE), *args]

    def scan_argv(self) -> list[str]:
        return self.lineage("scan", ".", "--dialect", "duckdb", "--catalog", self.catalog_url)

    def scan(self, counted: str | None = None, expected: int = 0, *, jobs: int = 1) -> Sample:
        """``lineage scan``; with ``counted`` (a write count such as ``jobs_changed``), fail
        unless the scan reports ``expected`` of it: each figure measures the work it names."""
        shutil.rmtree(self.root / "target", ignore_errors=True)  # never dbt's manifest
        argv = [*self.scan_argv(), *(["-j", str(jobs)] if jobs > 1 else [])]
        sample = run_child(argv, self.root, self.env)
        if counted is not None:
            writes = json.loads(sample.stdout)["catalog"]["writes"]
            if sum(int(write[counted]) for write in writes) != expected:
                raise ChildFailed(f"scan wrote {writes}, expected {counted}={expected}")
        return sample

    def start_cold(self, name: str) -> None:
        """No cache and a new, empty catalog: the next scan is a first one again."""
        shutil.rmtree(self.root / ".lineage", ignore_errors=True)
        self.catalog_url = self.catalog_url.rsplit("/", 1)[0] + f"/{name}.db"

    def dbt_argv(self, *extra: str) -> list[str]:
        """``dbt parse``, its ``target/`` and logs outside the project."""
        return [
            str(DBT),
            "parse",
            *extra,
            "--profiles-dir",
            str(self.root),
            "--target-path",
            str(self.dbt_target),
            "--log-path",
            str(self.dbt_logs),
        ]

    def dbt(self, *extra: str) -> Sample:
        return run_child(self.dbt_argv(*extra), self.root, self.env)


def _runs(runs: int, action: Callable[[], Sample]) -> list[Sample]:
    return [action() for _ in range(runs)]


def _edited_runs(
    project: _Project, runs: int, timed: Callable[[], Sample], untimed: Callable[[], Sample]
) -> list[Sample]:
    """Each run: edit, time ``timed``, restore, then ``untimed`` back to the same state."""
    samples = []
    for _ in range(runs):
        project.edit()
        try:
            samples.append(timed())
        finally:
            project.restore()
        untimed()
    return samples


def bench_project_size(work: Path, models: int, runs: int, with_dbt: bool) -> list[Figure]:
    """Every figure for one generated project of ``models`` models under ``work``."""
    project = _Project(work, models)
    chains = max(1, models // DEPTH)
    help_argv = project.lineage("--help")
    helps = _runs(runs, partial(run_child, help_argv, project.root, project.env))
    figures = [_figure("lineage --help", help_argv, helps, goal_s=GOAL_HELP_S)]
    cold = project.scan("jobs_added", models)
    unchanged = _runs(runs, lambda: project.scan("jobs_unchanged", models))
    edited = _edited_runs(project, runs, lambda: project.scan("jobs_changed", 1), project.scan)
    leaf = f"m_{chains - 1:04d}_{DEPTH - 1:02d}"  # the last model of the last chain
    queries = [
        ("show (mid-chain model)", project.lineage("show", "m_0000_05")),
        ("impact (root column)", project.lineage("impact", "raw_0000.c00")),
        ("impact (leaf column)", project.lineage("impact", f"{leaf}.c00")),
        ("impact (root dataset)", project.lineage("impact", "raw_0000")),
    ]
    query_figures = []
    for what, argv in queries:
        argv = [*argv, "--catalog", project.catalog_url]
        samples = _runs(runs, partial(run_child, argv, project.root, project.env))
        query_figures.append(_figure(what, argv, samples, goal_s=GOAL_QUERY_S))
    dbt_rows: dict[str, Figure] = {}
    if with_dbt and DBT.exists():
        try:
            full = project.dbt("--no-partial-parse")
            dbt_rows["cold"] = _figure(
                "dbt parse, full", project.dbt_argv("--no-partial-parse"), [full]
            )
            project.dbt()  # the first partial parse after a full one; untimed
            argv = project.dbt_argv()
            samples = _runs(runs, project.dbt)
            dbt_rows["unchanged"] = _figure("dbt parse, partial, unchanged", argv, samples)
            samples = _edited_runs(project, runs, project.dbt, project.dbt)
            dbt_rows["edit"] = _figure("dbt parse, partial, one edit", argv, samples)
        except ChildFailed as failure:
            print(f"dbt parse failed, shown without it: {failure}", file=sys.stderr)
    scan = project.scan_argv()
    # Two processes against one, both end to end into a new catalog with no cache.
    project.start_cold("catalog-j2")
    cold_j2 = project.scan("jobs_added", models, jobs=2)
    cold_row = _figure("scan, cold (first)", scan, [cold])

    def peer(key: str) -> dict[str, Any]:
        row = dbt_rows.get(key)
        return {} if row is None else {"peer": row.what, "peer_wall_s": row.wall_s}

    return [
        *figures,
        _figure("scan, cold (first)", scan, [cold], **peer("cold")),
        _figure(
            "scan, cold, -j 2",
            [*scan, "-j", "2"],
            [cold_j2],
            peer=cold_row.what,
            peer_wall_s=cold_row.wall_s,
        ),
        _figure(
            "rescan, nothing changed",
            scan,
            unchanged,
            goal_s=GOAL_RESCAN_UNCHANGED_S,
            **peer("unchanged"),
        ),
        _figure(
            "rescan, one model edited", scan, edited, goal_s=GOAL_RESCAN_EDIT_S, **peer("edit")
        ),
        *query_figures,
        *dbt_rows.values(),
    ]


def _rows(figures: list[Figure]) -> Iterator[str]:
    yield (
        f"{'what':<30} {'wall s':>7} {'CPU s':>7} {'RSS MB':>7} {'goal':>8} "
        f"{'of goal':>11}  {'compared with':<39} {'peer/ours':>9}"
    )
    for f in figures:
        goal = of_goal = ""
        if f.goal_s is not None:
            goal = f"< {f.goal_s:g} s"
            verdict = "ok" if f.wall_s < f.goal_s else "MISS"
            of_goal = f"{f.wall_s / f.goal_s:.2f}x {verdict}"
        peer = ratio = ""
        if f.peer is not None and f.peer_wall_s is not None:
            peer = f"{f.peer} ({f.peer_wall_s:.2f} s)"
            ratio = f"{f.peer_wall_s / f.wall_s:.2f}x"
        yield (
            f"{f.what:<30} {f.wall_s:>7.2f} {f.cpu_s:>7.2f} {f.peak_rss_mb:>7.0f} "
            f"{goal:>8} {of_goal:>11}  {peer:<39} {ratio:>9}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--models",
        type=int,
        action="append",
        help="project size, repeatable (default: 2000 and 10000)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median shown)")
    parser.add_argument("--no-dbt", action="store_true", help="skip dbt parse")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not LINEAGE.exists():
        raise SystemExit(f"{LINEAGE} not found: pip install -e . in this virtualenv")
    with_dbt = not args.no_dbt and DBT.exists()
    dbt_state = "yes" if with_dbt else "--no-dbt" if args.no_dbt else f"{DBT} not installed"
    results = []
    for models in args.models or [2000, 10_000]:
        with tempfile.TemporaryDirectory(prefix=f"bench-cli-{models}-") as tmp:
            started = time.perf_counter()
            figures = bench_project_size(Path(tmp), models, max(1, args.runs), with_dbt)
            results.append({"models": models, "figures": [asdict(f) for f in figures]})
            if not args.json:
                print(
                    f"\n{models:,} models ({DEPTH} deep, {COLUMNS} columns), median of "
                    f"{args.runs} run(s), {time.perf_counter() - started:.0f} s in all; "
                    f"dbt: {dbt_state}"
                )
                print("\n".join(_rows(figures)), flush=True)
    if args.json:
        print(json.dumps({"runs": args.runs, "dbt": with_dbt, "projects": results}, indent=2))


if __name__ == "__main__":
    main()
