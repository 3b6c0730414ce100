"""``python -m lineage.cli``: the ``lineage`` command with this interpreter."""

from lineage.cli.app import run

run()
