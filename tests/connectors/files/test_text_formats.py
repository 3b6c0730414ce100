"""CSV and JSON-lines folders: schemas from a bounded sample, no row counts."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from connectors.files import discover, observe_files
from connectors.files.readers import format_of


def _csv(path: Path, rows: list[tuple[object, ...]], header: str = "cid,amount,note") -> None:
    lines = [header, *(",".join("" if v is None else str(v) for v in row) for row in rows)]
    path.write_text("\n".join(lines) + "\n")


def test_csv_types_come_from_the_sample_only(tmp_path: Path) -> None:
    # 50 integer rows, then text in "amount": the first 50 rows say int64, 60 say string.
    rows: list[tuple[object, ...]] = [(f"C{i}", i, "x") for i in range(50)]
    rows.append(("C50", "unknown", "late"))
    _csv(tmp_path / "sales.csv", rows)
    sampled = observe_files(str(tmp_path), sample_rows=50)
    (table,) = sampled.tables
    assert [(c.name, c.type) for c in table.columns] == [
        ("cid", "string"), ("amount", "int64"), ("note", "string"),
    ]  # fmt: skip
    assert table.layout is not None
    assert table.layout.format == "csv" and table.layout.row_count is None
    (part,) = table.layout.partitions
    assert part.row_count is None and part.file_count == 1
    wider = observe_files(str(tmp_path), sample_rows=60)
    assert [c.type for c in wider.tables[0].columns] == ["string", "string", "string"]


def test_a_large_csv_is_not_read_whole(tmp_path: Path) -> None:
    # A bad line far past the sample would fail a full parse; the sample never reaches it.
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write("id,value\n")
        for i in range(200_000):
            out.write(f"{i},{i * 0.5}\n")
        out.write("1,2,3,4,5\n")
    (table,) = observe_files(str(path)).tables
    assert [(c.name, c.type) for c in table.columns] == [("id", "int64"), ("value", "double")]


def test_json_lines_and_compression(tmp_path: Path) -> None:
    events = tmp_path / "events"
    (events / "dt=2024-01-01").mkdir(parents=True)
    records = [{"id": i, "kind": "click", "ts": "2024-01-01T00:00:00"} for i in range(10)]
    payload = "".join(json.dumps(r) + "\n" for r in records).encode()
    (events / "dt=2024-01-01" / "a.jsonl").write_bytes(payload)
    (events / "dt=2024-01-01" / "b.ndjson.gz").write_bytes(gzip.compress(payload))
    observation = observe_files(str(events))
    assert observation.issues == () and observation.findings[0].kind == "small_files"
    (table,) = observation.tables
    assert [(c.name, c.type, c.partition) for c in table.columns] == [
        ("id", "int64", False),
        ("kind", "string", False),
        ("ts", "timestamp[s]", False),
        ("dt", "string", True),
    ]
    assert table.layout is not None and table.layout.format == "json"
    assert table.layout.file_count == 2 and table.layout.row_count is None


def test_header_mismatch_and_bad_files(tmp_path: Path) -> None:
    _csv(tmp_path / "a.csv", [("C1", 1, "x")])
    _csv(tmp_path / "b.csv", [("C2", 2)], header="cid,amount")
    (tmp_path / "c.csv").write_text("")
    (tmp_path / "notes.txt").write_text("ignored: not a data file")
    observation = observe_files(str(tmp_path))
    assert [c.name for c in observation.tables[0].columns] == ["cid", "amount", "note"]
    assert [f.message for f in observation.findings if f.kind == "schema_mismatch"] == [
        f"{tmp_path}/b.csv: missing column note"
    ]
    assert [(i.subject, i.message) for i in observation.issues] == [
        (f"{tmp_path}/c.csv", "ValueError: the file is empty")
    ]


def test_mixed_formats_keep_the_majority(tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        _csv(tmp_path / name, [("C1", 1, "x")])
    (tmp_path / "c.json").write_text('{"x": 1}\n')
    observation = discover(str(tmp_path))
    assert observation.tables[0].layout.format == "csv"  # type: ignore[union-attr]
    (finding,) = [f for f in observation.findings if f.kind == "mixed_formats"]
    assert finding.kind == "mixed_formats" and "1 json files left out" in finding.message


def test_format_of() -> None:
    names = ("a.parquet", "b.CSV", "c.csv.gz", "d.json", "e.txt", "f.gz")
    assert [format_of(n) for n in names] == [
        "parquet", "csv", "csv", "json", None, None,
    ]  # fmt: skip
