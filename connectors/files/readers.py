"""Schemas of single files, reading as little as the format allows.

- Parquet: the footer only (``pyarrow.parquet.read_metadata`` on a random-access file
  reads the last bytes), which also gives the row count.
- CSV and JSON lines: the first ``sample_rows`` rows, read as a byte prefix (at most
  ``MAX_SAMPLE_BYTES``, cut at a line end) and parsed as one block, so pyarrow infers the
  types from exactly that sample; the rest of the file is never read. Compressed files
  (``.gz``, ``.bz2``, ``.zst``) are decompressed as they stream.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "FORMATS",
    "MAX_SAMPLE_BYTES",
    "format_of",
    "read_footer",
    "sample_schema",
]

#: File suffixes of each format (a compression suffix may follow a text format's).
FORMATS: dict[str, tuple[str, ...]] = {
    "parquet": (".parquet", ".parq", ".pq"),
    "csv": (".csv",),
    "json": (".json", ".jsonl", ".ndjson"),
}
_COMPRESSIONS = (".gz", ".bz2", ".zst")
#: A sample never reads more than this many (decompressed) bytes of a file.
MAX_SAMPLE_BYTES = 32 * 1024**2
_CHUNK = 256 * 1024


def format_of(name: str) -> str | None:
    """``parquet``, ``csv`` or ``json`` from a file name's suffix, None for anything else."""
    lowered = name.lower()
    for suffix in _COMPRESSIONS:
        if lowered.endswith(suffix):
            lowered = lowered[: -len(suffix)]
            for fmt in ("csv", "json"):
                if lowered.endswith(FORMATS[fmt]):
                    return fmt
            return None
    for fmt, suffixes in FORMATS.items():
        if lowered.endswith(suffixes):
            return fmt
    return None


def read_footer(fs: Any, path: str) -> tuple[Any, int]:
    """``(arrow schema, row count)`` of a Parquet file from its footer."""
    import pyarrow.parquet as pq

    with fs.open_input_file(path) as handle:
        metadata = pq.read_metadata(handle)
    return metadata.schema.to_arrow_schema(), int(metadata.num_rows)


def _prefix(fs: Any, path: str, lines: int) -> bytes:
    # The first ``lines`` lines (or all of a shorter file), at most MAX_SAMPLE_BYTES.
    buffer = bytearray()
    seen = 0
    with fs.open_input_stream(path) as stream:  # compression detected from the suffix
        while seen < lines and len(buffer) < MAX_SAMPLE_BYTES:
            chunk = stream.read(_CHUNK)
            if not chunk:
                return bytes(buffer)
            buffer += chunk
            seen += chunk.count(b"\n")
    if seen >= lines:
        end = -1
        for _ in range(lines):
            end = buffer.index(b"\n", end + 1)
        return bytes(buffer[: end + 1])
    end = buffer.rfind(b"\n")
    if end < 0:
        raise ValueError(f"no line end in the first {MAX_SAMPLE_BYTES} bytes")
    return bytes(buffer[: end + 1])


def sample_schema(fs: Any, path: str, fmt: str, sample_rows: int) -> Any:
    """The arrow schema pyarrow infers from the first ``sample_rows`` rows of a CSV or
    JSON-lines file."""
    import pyarrow as pa

    rows = max(1, sample_rows)
    if fmt == "csv":
        import pyarrow.csv as pcsv

        data = _prefix(fs, path, rows + 1)  # the header line, then the rows
        if not data.strip():
            raise ValueError("the file is empty")
        options = pcsv.ReadOptions(block_size=len(data) + 1, use_threads=False)
        return pcsv.read_csv(pa.BufferReader(data), read_options=options).schema
    if fmt == "json":
        import pyarrow.json as pjson

        data = _prefix(fs, path, rows)
        if not data.strip():
            raise ValueError("the file is empty")
        json_options = pjson.ReadOptions(block_size=len(data) + 1, use_threads=False)
        return pjson.read_json(pa.BufferReader(data), read_options=json_options).schema
    raise ValueError(f"not a text format: {fmt}")
