"""Transformation typing: how an input column reaches an output column.

``Edges`` maps each input field of an output column to the transformations on the way;
``classify`` types one hop (a column or subquery inside a projection) by where it sits::

    SELECT MAX(amount) AS top          -- amount -> top: AGGREGATION
    SELECT CASE WHEN status = 'x' ...  -- status: CONDITIONAL (INDIRECT)
    SELECT MD5(email) AS h             -- email -> h: TRANSFORMATION, masking

``merge_edges`` composes the transformations of successive hops, so the tracer
(``parsers.sql.tracer``) and the statement layer (``parsers.sql.statements``) combine
lineage through this one vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from lineage.model import DatasetId, InputField, Transformation
from lineage.model import TransformationSubtype as Sub

__all__ = [
    "CONDITIONAL",
    "FILTER",
    "JOIN",
    "MASKING_FUNCTIONS",
    "TRANSFORMATION",
    "Edges",
    "FieldKey",
    "classify",
    "edges_to_input_fields",
    "input_fields_to_edges",
    "merge_edges",
    "strip",
]


FieldKey = tuple[DatasetId, str]
Edges = dict[FieldKey, set[Transformation]]

CONDITIONAL = Transformation.indirect(Sub.CONDITIONAL)
FILTER = Transformation.indirect(Sub.FILTER)
JOIN = Transformation.indirect(Sub.JOIN)
TRANSFORMATION = Transformation.direct(Sub.TRANSFORMATION)

# Functions whose output hides the input value (hashes, redaction, encryption).
MASKING_FUNCTIONS = frozenset(
    {
        "md5",
        "md5_binary",
        "md5_hex",
        "md5_number_lower64",
        "md5_number_upper64",
        "sha",
        "sha1",
        "sha1_binary",
        "sha1_hex",
        "sha2",
        "sha2_binary",
        "sha2_hex",
        "sha224",
        "sha256",
        "sha384",
        "sha512",
        "hash",
        "hash_agg",
        "farm_fingerprint",
        "fingerprint",
        "xxhash64",
        "xxhash",
        "murmur3_32",
        "murmur3",
        "crc32",
        "hashbytes",
        "hmac",
        "hmac_sha256",
        "mask",
        "mask_first_n",
        "mask_last_n",
        "mask_show_first_n",
        "mask_show_last_n",
        "mask_hash",
        "redact",
        "encrypt",
        "encrypt_raw",
        "aes_encrypt",
        "pgp_sym_encrypt",
        "digest",
        "standard_hash",
        "ora_hash",
        "checksum",
        "binary_checksum",
    }
)

# sqlglot parses many hashes into typed nodes; map them back to the names above.
_MASKING_NODES: tuple[type[exp.Expr], ...] = tuple(
    cls
    for cls in (
        getattr(exp, name, None)
        for name in (
            "MD5",
            "MD5Digest",
            "SHA",
            "SHA2",
            "SHA1Digest",
            "SHA2Digest",
            "StandardHash",
            "FarmFingerprint",
            "Hash",
            "Encrypt",
        )
    )
    if isinstance(cls, type)
)


# Window functions that pick one row's value (LAG(x) is x from another row), not aggregate.
_NAVIGATION_FUNCTIONS: tuple[type[exp.Expr], ...] = tuple(
    cls
    for cls in (
        getattr(exp, n, None) for n in ("Lag", "Lead", "FirstValue", "LastValue", "NthValue")
    )
    if isinstance(cls, type)
)


def edges_to_input_fields(edges: Edges) -> tuple[InputField, ...]:
    """Sorted, deduplicated ``InputField``s of one output column."""
    return tuple(
        InputField(dataset, name, tuple(sorted(transformations)))
        for (dataset, name), transformations in sorted(edges.items())
    )


def input_fields_to_edges(inputs: Iterable[InputField]) -> Edges:
    return {(i.dataset, i.field): set(i.transformations) for i in inputs}


def merge_edges(into: Edges, other: Edges, via: Transformation | None = None) -> None:
    """Add ``other`` to ``into``; with ``via``, compose each transformation with it first."""
    for key, transformations in other.items():
        target = into.setdefault(key, set())
        if via is None:
            target.update(transformations)
        else:
            target.update(t.then(via) for t in transformations)


def strip(node: exp.Expr) -> exp.Expr:
    while isinstance(node, (exp.Alias, exp.Paren)):
        node = node.this
    return node


def _is_masking(node: exp.Expr) -> bool:
    if isinstance(node, _MASKING_NODES):
        return True
    if isinstance(node, exp.Func):
        return (
            node.name.lower() in MASKING_FUNCTIONS
            if isinstance(node, exp.Anonymous)
            else (node.sql_name().lower() in MASKING_FUNCTIONS)
        )
    return False


def classify(node: exp.Expr, root: exp.Expr) -> Transformation:
    """How ``node`` (a column or subquery inside projection ``root``) reaches the output.

    The outermost INDIRECT role on the path wins (``ROW_NUMBER() OVER (PARTITION BY
    CASE WHEN a ...)`` partitions by ``a``: WINDOW); otherwise the value is DIRECT:
    IDENTITY when it is the projection itself, AGGREGATION under an aggregate,
    TRANSFORMATION under anything else.
    """
    indirect: Transformation | None = None
    aggregated = False
    masking = False
    child = node
    parent = node.parent
    while parent is not None and child is not root:
        key = child.arg_key
        if isinstance(parent, exp.Window):
            if key in ("partition_by", "order"):
                indirect = Transformation.indirect(Sub.WINDOW)
        elif isinstance(parent, (exp.If, exp.Case)):
            # IF(cond, ...), CASE WHEN cond ..., and the operand of CASE x WHEN ...
            if key == "this":
                indirect = CONDITIONAL
        elif isinstance(parent, exp.Filter):
            if key == "expression":
                indirect = CONDITIONAL
        elif isinstance(parent, (exp.In, exp.Exists, exp.Any, exp.All)):
            if isinstance(child, exp.Query) or key in ("query", "expressions"):
                indirect = CONDITIONAL
        elif isinstance(parent, exp.AggFunc) and not isinstance(parent, _NAVIGATION_FUNCTIONS):
            aggregated = True
        if _is_masking(parent):
            masking = True
        child = parent
        parent = parent.parent
    if indirect is not None:
        return indirect
    stripped = strip(root)
    if node is stripped or (isinstance(stripped, exp.Subquery) and node is stripped.this):
        # The column itself, or a scalar subquery that is the whole item: its value as is.
        return Transformation.direct(Sub.IDENTITY, masking)
    if aggregated:
        return Transformation.direct(Sub.AGGREGATION, masking)
    return Transformation.direct(Sub.TRANSFORMATION, masking)
