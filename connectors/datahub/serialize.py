"""Fast, exact JSON serialization of the DataHub SDK's typed aspects and MCPs.

The SDK serializes through avrogen's ``AvroJsonConverter``, which validates the whole
object against its Avro schema on every ``to_obj()`` and then picks every union branch
by validating again: ~0.5 ms per MCP, most of a large push. Our aspects are built with
the SDK's own typed classes, so that validation buys nothing. This module compiles, once
per class, the class's ``RECORD_SCHEMA`` into a plan (one encoder per field: primitive,
enum, array, map, nested record, union) that produces exactly what the SDK produces:

- ``to_obj(record)`` == ``record.to_obj()``: avrogen's rules, copied from
  ``avrogen/avrojson.py`` (a field whose value and default are both null is left out; a
  union is written bare when it is "unambiguous" -- null plus one other branch, or null
  plus an enum -- except inside an array, and as ``{branch fullname: value}`` otherwise;
  bytes are decoded);
- ``aspect_json(aspect)`` == ``pre_json_transform(aspect.to_obj())``, the JSON DataHub
  stores (Rest.li names ``com.linkedin.*`` instead of ``com.linkedin.pegasus2avro.*``,
  null values dropped), as ``MetadataChangeProposalWrapper.make_mcp`` serializes it.

Nothing is validated. A schema construct the plan does not know (Avro errors, Rest.li unions
with aliases, unions of records and other branches) makes that class use the SDK, and
so does a value the plan cannot place (a union value that is not one of the union's
record classes): correct first, fast where it is safe.

``FastMCP`` is a ``MetadataChangeProposalWrapper`` whose ``make_mcp()`` and ``to_obj()``
take this path; the sinks hand it to DataHub Lite's ``write``, ``write_metadata_file``
and the REST emitter, which all serialize through those two methods.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from avro import schema as avro_schema
from avrogen.dict_wrapper import DictWrapper
from datahub.emitter.aspect import JSON_CONTENT_TYPE
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.serialization_helper import pre_json_transform
from datahub.metadata.schema_classes import GenericAspectClass, MetadataChangeProposalClass

__all__ = ["FastMCP", "aspect_json", "fast_mcps", "is_planned", "to_obj"]

Encoder = Callable[[Any], Any]

_PRIMITIVES = frozenset({"null", "boolean", "string", "int", "long", "float", "double"})
# What pre_json_transform renames: Avro namespaces to the Rest.li ones DataHub stores.
_AVRO_PREFIX = "com.linkedin.pegasus2avro."
_RESTLI_PREFIX = "com.linkedin."
# Rest.li "unions with aliases" carry this field; pre_json_transform rewrites them.
_DISCRIMINATOR = "fieldDiscriminator"


class _Unsupported(Exception):
    """A schema construct the plan does not encode: the class falls back to the SDK."""


class _Unplanned(Exception):
    """A value the plan cannot place (e.g. a union value of an unexpected class)."""


# (class, restli) -> the class's encoder, or None when the SDK must serialize it.
_PLANS: dict[tuple[type[DictWrapper], bool], Encoder | None] = {}
# (record fullname, restli) -> encoder of that record, shared between classes.
_RECORDS: dict[tuple[str, bool], Encoder] = {}


def to_obj(record: DictWrapper) -> dict[str, Any]:
    """Exactly ``record.to_obj()`` (avrogen's JSON form), without validating."""
    return _encode(record, restli=False)


def aspect_json(aspect: DictWrapper) -> dict[str, Any]:
    """Exactly ``pre_json_transform(aspect.to_obj())``: the aspect's JSON as DataHub stores it."""
    return _encode(aspect, restli=True)


def is_planned(cls: type[DictWrapper]) -> bool:
    """Whether ``cls`` is serialized by a compiled plan (False: by the SDK)."""
    return _plan(cls, restli=False) is not None and _plan(cls, restli=True) is not None


def _encode(record: DictWrapper, *, restli: bool) -> dict[str, Any]:
    plan = _plan(type(record), restli)
    if plan is not None:
        try:
            result: dict[str, Any] = plan(record)
            return result
        except _Unplanned:
            pass  # this value, not the class: the SDK serializes (and validates) it
    raw: dict[str, Any] = record.to_obj()
    if restli:
        transformed: dict[str, Any] = pre_json_transform(raw)
        return transformed
    return raw


def _plan(cls: type[DictWrapper], restli: bool) -> Encoder | None:
    key = (cls, restli)
    if key not in _PLANS:
        records = dict(_RECORDS)  # a failed compile leaves no half-built record behind
        try:
            _PLANS[key] = _Compiler(records, restli).compile(cls.RECORD_SCHEMA)
            _RECORDS.update(records)
        except (_Unsupported, AttributeError):
            _PLANS[key] = None
    return _PLANS[key]


def _fullname(branch: avro_schema.Schema) -> str:
    # avrogen's _fullname: named schemas by full name, the others by type.
    if isinstance(branch, avro_schema.NamedSchema):
        return str(branch.fullname).lstrip(".")
    return str(branch.type)


def _restli_name(name: str) -> str:
    return name.replace(_AVRO_PREFIX, _RESTLI_PREFIX, 1) if name.startswith(_AVRO_PREFIX) else name


def _is_unambiguous(union: avro_schema.UnionSchema) -> bool:
    # avrogen's _is_unambiguous_union: such a union is written without its branch name.
    branches = union.schemas
    if any(isinstance(b, avro_schema.EnumSchema) for b in branches):
        return len(branches) == 2 and any(b.type == "null" for b in branches)
    return sum(1 for b in branches if b.type != "null") <= 1


def _decode_bytes(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


class _Compiler:
    """Turns one Avro schema into an encoder; ``restli`` bakes in pre_json_transform."""

    def __init__(self, records: dict[tuple[str, bool], Encoder], restli: bool) -> None:
        self.records = records
        self.restli = restli
        # The SDK's own converter reads field defaults exactly as to_obj() does.
        self.converter: Any = DictWrapper._get_json_converter()

    def compile(self, node: avro_schema.Schema, in_array: bool = False) -> Encoder | None:
        """The encoder of ``node``; None means the value is written as it is."""
        kind = node.type
        if kind in _PRIMITIVES or kind == "enum":
            return None
        if kind == "bytes":
            return _decode_bytes
        if kind == "fixed":
            # avrogen keeps fixed bytes as they are; pre_json_transform decodes them.
            return _decode_bytes if self.restli else None
        if kind == "array":
            return self._array(node)
        if kind == "map":
            return self._map(node)
        if kind == "record":
            return self._record(node)
        if kind == "union":
            return self._union(node, in_array)
        raise _Unsupported(f"Avro type {kind!r}")  # error, request, error_union

    def _array(self, node: Any) -> Encoder:
        item = self.compile(node.items, in_array=True)
        if item is None:
            return list
        return lambda data: [item(x) for x in data]

    def _map(self, node: Any) -> Encoder:
        value = self.compile(node.values)

        def encode(data: Any) -> Any:
            out = dict(data) if value is None else {k: value(v) for k, v in data.items()}
            if not self.restli:
                return out
            # pre_json_transform reads a map like any other dict.
            if len(out) == 1:
                (key,) = out
                if key.startswith(_AVRO_PREFIX):
                    return {_restli_name(key): out[key]}
            if _DISCRIMINATOR in out:
                raise _Unplanned(_DISCRIMINATOR)
            return {k: v for k, v in out.items() if v is not None}

        return encode

    def _record(self, node: Any) -> Encoder:
        key = (str(node.fullname), self.restli)
        if key in self.records:
            return self.records[key]
        fields: list[tuple[str, Any, bool, Encoder | None]] = []
        restli = self.restli

        def encode(data: Any) -> dict[str, Any]:
            # DictWrapper.get is _inner_dict.get: read the dict directly (the hot loop).
            get = data._inner_dict.get if isinstance(data, DictWrapper) else data.get
            out: dict[str, Any] = {}
            for name, default, skip_null, field_encoder in fields:
                value = get(name, default)
                if value is None:
                    if skip_null or restli:
                        continue  # avrogen leaves it out; Rest.li JSON drops nulls
                    out[name] = None  # a null union branch (the SDK refuses any other)
                else:
                    out[name] = value if field_encoder is None else field_encoder(value)
            return out

        self.records[key] = encode  # registered first: records may nest themselves
        for field in node.fields:
            if restli and field.name == _DISCRIMINATOR:
                raise _Unsupported("Rest.li union with aliases")
            if field.has_default:
                default = self.converter.from_json_object(field.default, field.type)
                fields.append((field.name, default, default is None, self.compile(field.type)))
            else:
                fields.append((field.name, None, False, self.compile(field.type)))
        return encode

    def _union(self, node: Any, in_array: bool) -> Encoder:
        records: dict[str, tuple[Encoder, str]] = {}
        others: list[tuple[Encoder | None, str]] = []
        wrap = in_array or not _is_unambiguous(node)
        for branch in node.schemas:
            if branch.type == "null":
                continue
            name = _restli_name(_fullname(branch)) if self.restli else _fullname(branch)
            if branch.type == "record":
                records[str(branch.fullname)] = (self._record(branch), name)
            else:
                others.append((self.compile(branch), name))
        if others and records:
            # avrogen would pick between them by validating the whole value: not planned.
            raise _Unsupported("union of records and other branches")
        if len(others) > 1:
            return self._scalar_union(node)
        if others:
            ((other, other_name),) = others

            def encode_one(data: Any) -> Any:
                if data is None:
                    return None
                out = data if other is None else other(data)
                return {other_name: out} if wrap else out

            return encode_one
        by_class: dict[type, tuple[Encoder, str]] = {}

        def encode_record(data: Any) -> Any:
            if data is None:
                return None
            cls = type(data)
            found = by_class.get(cls)
            if found is None:
                declared = getattr(cls, "RECORD_SCHEMA", None)
                found = records.get(str(declared.fullname)) if declared is not None else None
                if found is None:
                    raise _Unplanned(f"{cls.__name__} in a union of records")
                by_class[cls] = found
            encoder, name = found
            return {name: encoder(data)} if wrap else encoder(data)

        return encode_record

    def _scalar_union(self, node: Any) -> Encoder:
        """A union of several scalar branches (e.g. string or an enum), always named.

        avrogen takes the last branch the value is valid for (the first boolean one);
        checking one scalar against one branch is cheap, and the SDK's own check is used.
        """
        branches: list[tuple[avro_schema.Schema, str | None, bool]] = []
        for branch in node.schemas:
            if branch.type not in _PRIMITIVES and branch.type != "enum":
                raise _Unsupported("union of several branches that are not all records")
            name = None if branch.type == "null" else _fullname(branch)
            if name is not None and self.restli:
                name = _restli_name(name)
            branches.append((branch, name, branch.type == "boolean"))
        valid = self.converter.validate

        def encode(data: Any) -> Any:
            chosen: tuple[avro_schema.Schema, str | None, bool] | None = None
            for branch in branches:
                if valid(branch[0], data):
                    chosen = branch
                    if branch[2]:
                        break
            if chosen is None:
                raise _Unplanned("no union branch takes the value")
            name = chosen[1]
            return None if name is None else {name: _decode_bytes(data)}

        return encode


def _generic(aspect: DictWrapper) -> GenericAspectClass:
    # As the SDK's _make_generic_aspect, from the fast JSON.
    return GenericAspectClass(
        value=json.dumps(aspect_json(aspect)).encode(), contentType=JSON_CONTENT_TYPE
    )


class FastMCP(MetadataChangeProposalWrapper):
    """An MCP wrapper serialized by the compiled plans: same output as the SDK's."""

    @classmethod
    def of(cls, mcp: MetadataChangeProposalWrapper) -> FastMCP:
        """The same MCP (same field values, shared objects) with the fast serializer."""
        if isinstance(mcp, FastMCP):
            return mcp
        fast = cls.__new__(cls)
        fast.__dict__.update(mcp.__dict__)  # no __post_init__: mcp was checked when built
        return fast

    def _key_aspect(self) -> GenericAspectClass | None:
        key = self.entityKeyAspect
        return _generic(key) if isinstance(key, DictWrapper) else None

    def make_mcp(self) -> MetadataChangeProposalClass:
        mcp = self._make_mcp_without_aspects()
        mcp.entityKeyAspect = self._key_aspect()
        mcp.aspect = _generic(self.aspect) if self.aspect is not None else None
        return mcp

    def to_obj(self, tuples: bool = False, simplified_structure: bool = False) -> dict[str, Any]:
        if tuples:  # fastavro's tuple unions: not planned
            return super().to_obj(tuples=tuples, simplified_structure=simplified_structure)
        if not simplified_structure or self.aspect is None:
            return to_obj(self.make_mcp())
        # The aspect as an object, not a JSON string: skip the dumps/loads round trip.
        mcp = self._make_mcp_without_aspects()
        mcp.entityKeyAspect = self._key_aspect()
        mcp.aspect = GenericAspectClass(value=b"", contentType=JSON_CONTENT_TYPE)
        obj = to_obj(mcp)
        obj["aspect"] = {"json": aspect_json(self.aspect)}
        return obj


def fast_mcps(mcps: Iterable[MetadataChangeProposalWrapper]) -> list[FastMCP]:
    """``mcps`` as ``FastMCP`` (the same objects' values), in order."""
    return [FastMCP.of(mcp) for mcp in mcps]
