"""Shared pieces of the ``lineage.run`` tests: a validating sink, spec validation, goldens.

Every event a test emits goes through ``validate_event``: the run event against
``OpenLineage.json#/$defs/RunEvent`` and each facet against the schema its own
``_schemaURL`` names (the official schemas in ``tests/openlineage_spec``, plus the JSON
Schema of Silverline's one custom facet, ``silverline_metrics``).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from connectors.openlineage.facets import CUSTOM_FACET_SCHEMAS, RUN_EVENT_SCHEMA_URL
from lineage.config import ProjectConfig
from lineage.errors import ConnectorError
from lineage.run import configure, flush, reset
from tests.openlineage_spec import registry, validate_facet

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "events"
UPDATE = bool(os.environ.get("UPDATE_GOLDEN"))


def test_support_module_validates_a_minimal_event() -> None:
    validate_event(
        {
            "eventType": "START",
            "eventTime": "2024-06-18T12:00:00+00:00",
            "producer": "https://github.com/silverline/silverline",
            "schemaURL": RUN_EVENT_SCHEMA_URL,
            "run": {"runId": "01900000-0000-7000-8000-000000000000", "facets": {}},
            "job": {"namespace": "default", "name": "j", "facets": {}},
        }
    )


@lru_cache(maxsize=1)
def _full_registry() -> Registry:
    custom = [(url, Resource.from_contents(dict(doc))) for url, doc in CUSTOM_FACET_SCHEMAS.items()]
    return registry().with_resources(custom)


@lru_cache(maxsize=1)
def _event_validator() -> Draft202012Validator:
    return Draft202012Validator({"$ref": RUN_EVENT_SCHEMA_URL}, registry=registry())


@lru_cache(maxsize=64)
def _facet_validator(url: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": url}, registry=_full_registry())


def _validate_any_facet(facet: Mapping[str, Any]) -> None:
    """Against the definition ``_schemaURL`` points at, and (for the official facets) with
    ``tests/openlineage_spec.validate_facet`` on the facet's property in its document."""
    url = facet["_schemaURL"]
    _facet_validator(url).validate(dict(facet))
    document_url = url.split("#")[0]
    if document_url not in CUSTOM_FACET_SCHEMAS:
        validate_facet(dict(facet), document_url)


def validate_event(event: Mapping[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless the event and each facet are valid."""
    document = json.loads(json.dumps(event, default=str))  # exactly what goes on the wire
    _event_validator().validate(document)
    facets: list[Mapping[str, Any]] = []
    facets.extend((document.get("run") or {}).get("facets", {}).values())
    facets.extend((document.get("job") or {}).get("facets", {}).values())
    for key in ("inputs", "outputs"):
        for dataset in document.get(key) or []:
            for group in ("facets", "inputFacets", "outputFacets"):
                facets.extend((dataset.get(group) or {}).values())
    for facet in facets:
        assert "_schemaURL" in facet and "_producer" in facet, facet
        _validate_any_facet(facet)


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _shape(value: Any) -> Any:
    """``value`` with what varies between runs of one job made constant, types kept."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        return 0.0
    if isinstance(value, str) and _UUID.match(value):
        return "<uuid>"
    return value


def validate_all(events: list[Mapping[str, Any]]) -> int:
    """Validate every event, checking each distinct shape once; the number of shapes.

    The validator asserts no ``format`` (a ``uuid`` or ``date-time`` is checked as a
    string), so events that differ only in run ids, times and the values of numbers pass
    or fail together: one of each shape stands for all of them. 64,000 events would take
    minutes one by one.
    """
    seen: set[str] = set()
    for event in events:
        shaped = _shape({**event, "eventTime": "<time>"})
        key = json.dumps(shaped, sort_keys=True)
        if key not in seen:
            seen.add(key)
            validate_event(event)
    return len(seen)


class ValidatingSink:
    """An in-memory sink that validates every event against the spec as it arrives."""

    name = "memory"

    def __init__(self, validate: bool = True) -> None:
        self.events: list[Mapping[str, Any]] = []
        self.errors: list[str] = []
        self.validate = validate
        self.fail: Any = None
        self._lock = threading.Lock()

    def send(self, event: Mapping[str, Any]) -> None:
        if self.fail is not None and self.fail(event):
            raise ConnectorError("memory: refused")
        if self.validate:
            try:
                validate_event(event)
            except Exception as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}"[:2000])
            event = json.loads(json.dumps(event))  # as a receiver sees it: no shared parts
        with self._lock:
            self.events.append(event)

    def close(self) -> None:
        return None

    def of_job(self, name: str) -> list[Mapping[str, Any]]:
        return [e for e in self.events if e["job"]["name"] == name]

    def types(self, name: str | None = None) -> list[str]:
        events = self.events if name is None else self.of_job(name)
        return [e["eventType"] for e in events]


@pytest.fixture
def events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ValidatingSink]:
    """A runtime delivering into a validating in-memory sink; every event is checked."""
    for key in list(os.environ):
        if key.startswith("OPENLINEAGE"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    sink = ValidatingSink()
    configure(
        sinks=[sink],
        config=ProjectConfig(root=tmp_path),
        spool_dir=tmp_path / "spool",
        register_atexit=False,
    )
    yield sink
    assert flush(10)
    reset()
    assert not sink.errors, sink.errors[:3]


# -- golden files --------------------------------------------------------------------------


def normalize(events: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Events with run ids numbered in order of appearance, times, traces and paths masked."""
    ids: dict[str, str] = {}
    text = json.dumps(events)
    for match in re.finditer(r'"runId": "([0-9a-f-]{36})"', text):
        ids.setdefault(match.group(1), f"<run-{len(ids) + 1}>")
    for run_id, label in ids.items():
        text = text.replace(run_id, label)
    found: list[dict[str, Any]] = json.loads(text)
    for event in found:
        event["eventTime"] = "<time>"
        facets = event["run"].get("facets", {})
        if "errorMessage" in facets:
            facets["errorMessage"]["stackTrace"] = "<stack>"
        if "processing_engine" in facets:
            facets["processing_engine"]["openlineageAdapterVersion"] = "<client-version>"
        location = event["job"].get("facets", {}).get("sourceCodeLocation")
        if location is not None:
            location["url"] = re.sub(
                r"^file://.*?(#L\d+)?$", "file://<path>#L<line>", location["url"]
            )
    return found


def assert_golden(name: str, events: list[Mapping[str, Any]]) -> None:
    """Compare with ``tests/golden/events/<name>.json`` (``UPDATE_GOLDEN=1`` rewrites it)."""
    path = GOLDEN / f"{name}.json"
    actual = json.dumps(normalize(events), indent=2, sort_keys=True) + "\n"
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    if not path.exists():
        path.write_text(actual, encoding="utf-8")
        pytest.fail(f"{path} created: review it, then rerun")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert json.dumps(expected, sort_keys=True) == json.dumps(json.loads(actual), sort_keys=True), (
        f"{path} differs; rerun with UPDATE_GOLDEN=1 and review the diff"
    )
