"""Pages rendered by forked workers: the same files as one process, results in order, a
worker's error raised in the build. Each check runs in a fresh interpreter, where no other
thread runs (a fork is refused otherwise, and the test would prove nothing)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(script: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_workers_give_every_result_in_order_and_raise_their_errors() -> None:
    out = _run("""
        import os, time
        from docs_site.parallel import map_in_order
        def page(i):
            time.sleep(0.01)  # 2 s of work in all: the second worker takes its share too
            return i, os.getpid()
        found = map_in_order(page, list(range(200)), 2)
        assert [i for i, _ in found] == list(range(200))
        pids = {pid for _, pid in found}
        assert len(pids) == 2 and os.getpid() not in pids, pids
        def broken(i):
            if i == 57:
                raise ValueError("dataset 57 cannot be rendered")
            return i
        try:
            map_in_order(broken, list(range(100)), 2)
        except ValueError as exc:
            print("raised:", exc)
    """)
    assert out == "raised: dataset 57 cannot be rendered"


def test_a_site_built_by_two_workers_is_byte_identical_to_one_process(
    erp_db: str, tmp_path: Path
) -> None:
    out = _run(f"""
        import hashlib
        from pathlib import Path
        from docs_site import parallel
        from tests.docs_site.conftest import DRIFT, build_erp
        assert parallel._fork_is_safe()
        def files(site):
            return {{str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
                    for p in sorted(site.rglob("*")) if p.is_file()}}
        root = Path({str(tmp_path)!r})
        one = build_erp({erp_db!r}, root / "one", drift=DRIFT, processes=1)
        two = build_erp({erp_db!r}, root / "two", drift=DRIFT, processes=2)
        assert files(root / "one") == files(root / "two")
        assert (one.files, one.pages, one.columns) == (two.files, two.pages, two.columns)
        print(one.files)
    """)
    assert int(out) > 20
