"""The schema registry: checked and fingerprinted when made, its schemas built on first
lookup; the fingerprint (part of every parse-cache key) is stable."""

from __future__ import annotations

import pytest

from lineage.errors import ConfigError
from lineage.model import Field, Schema
from parsers.sql.schema import SchemaRegistry

MAPPING = {
    "db.s.t": {"A": "INT", "b": None, "C": {"type": "varchar", "description": "x"}},
    "x": {"y": {"z": {"q": "int"}}},
}


def test_the_fingerprint_is_the_one_saved_caches_were_keyed_by() -> None:
    # Computed the same way before the schemas were built lazily: saved parses still hit.
    assert SchemaRegistry(MAPPING).fingerprint == "8322525d53daf0c0e9ad622aa77d106cc4e28284"
    nested = {"db": {"s": {"t": MAPPING["db.s.t"]}}, "x.y.z": {"q": "int"}}
    assert SchemaRegistry(nested).fingerprint == SchemaRegistry(MAPPING).fingerprint


def test_lookups_after_the_fingerprint() -> None:
    registry = SchemaRegistry(MAPPING)
    assert len(registry) == 2
    assert registry.lookup("T") == Schema((Field("a", "INT"), Field("b"), Field("c", "varchar")))
    assert registry.lookup("y.z") == Schema((Field("q", "int"),))
    assert registry.lookup("db.s.t") is registry.lookup("s.t")
    assert registry.lookup("nope") is None


def test_a_bad_mapping_is_refused_when_the_registry_is_made() -> None:
    with pytest.raises(ConfigError, match="must map to columns"):
        SchemaRegistry({"db.s.t": ["a", "b"]})
