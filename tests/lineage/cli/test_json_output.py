"""JSON on stdout: indented for a person, one line when only a tool would read it."""

from __future__ import annotations

import json

import pytest

from lineage.cli.options import INDENT_BELOW_BYTES, write_json


def test_a_small_document_is_indented(capsys: pytest.CaptureFixture[str]) -> None:
    document = {"jobs": [{"job": "erp.erp_customers", "inputs": ["bronze.erp_cust_az12"]}]}
    write_json(document)
    out = capsys.readouterr().out
    assert out == json.dumps(document, indent=2) + "\n"


def test_a_large_document_is_one_compact_line_with_the_same_content(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A 2,000-model scan's lineage is 30 MB: indenting it takes Python's slow encoder.
    fields = {f"c{i:02d}": [{"name": "raw.orders", "field": f"c{i:02d}"}] for i in range(30)}
    document = {"lineage": [{"job": f"m_{n:05d}", "fields": fields} for n in range(1200)]}
    write_json(document)
    out = capsys.readouterr().out
    assert len(out) > INDENT_BELOW_BYTES and out.count("\n") == 1
    assert json.loads(out) == document
