"""``parsers.sql`` loads sqlglot only when its parser is used."""

from __future__ import annotations

import subprocess
import sys

import parsers.sql
import parsers.sql.parse
import parsers.sql.views


def test_the_package_offers_every_name_of_the_parser() -> None:
    assert set(parsers.sql.__all__) == {*parsers.sql.parse.__all__, "parse_view"}
    assert parsers.sql.parse_sql is parsers.sql.parse.parse_sql
    assert parsers.sql.parse_view is parsers.sql.views.parse_view


def test_options_and_the_cache_need_no_sqlglot() -> None:
    code = (
        "import sys, parsers.sql, parsers.sql.options, parsers.sql.cache\n"
        "print('sqlglot' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    assert done.stdout.strip() == "False"
