"""The collector policy: paused while acyclic data is built; frozen afterwards only in a
short-lived process (the CLI), never in a library host."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

from lineage.model.memory import building_acyclic


def test_a_block_pauses_the_collector_and_a_library_host_keeps_its_policy() -> None:
    assert gc.isenabled()
    frozen, threshold = gc.get_freeze_count(), gc.get_threshold()
    with building_acyclic():
        assert not gc.isenabled()
        rows = [{"dataset": f"t{i}", "columns": [i, i + 1]} for i in range(10_000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen and gc.get_threshold() == threshold
    assert len(rows) == 10_000
    gc.disable()
    try:
        with building_acyclic():
            pass
        assert not gc.isenabled()  # a collector off before stays off
    finally:
        gc.enable()


SHORT_LIVED = """
import gc, json
from lineage.model.memory import FIRST_GENERATION, building_acyclic, short_lived_process
short_lived_process()
short_lived_process()  # once is the policy: no second callback
before = gc.get_freeze_count()
with building_acyclic():
    rows = [{"dataset": f"t{i}"} for i in range(10_000)]
built = gc.get_freeze_count()

class Node:
    pass

for _ in range(1000):  # cyclic garbage made after the freeze is still collected
    a, b = Node(), Node()
    a.other, b.other = b, a
collected = gc.collect()
print(json.dumps({"threshold": list(gc.get_threshold()), "before": before, "built": built,
                  "after": gc.get_freeze_count(), "collected": collected,
                  "callbacks": len(gc.callbacks), "expected": list(FIRST_GENERATION)}))
"""


def test_a_short_lived_process_freezes_what_it_built_and_survivors_of_full_collections() -> None:
    done = subprocess.run([sys.executable, "-c", SHORT_LIVED], capture_output=True,
                          text=True, timeout=120, check=True)  # fmt: skip
    found = json.loads(done.stdout)
    assert found["threshold"] == found["expected"]
    assert found["built"] >= found["before"] + 10_000  # the rows are out of later passes
    assert found["collected"] >= 1900  # the cycles made afterwards (but the last) collected
    assert found["after"] > found["built"]  # the full collection's survivors, frozen
    assert found["callbacks"] == 1
