"""Data contracts -> ``lineage.contracts`` values: the seed's YAML, ODCS v3, Great
Expectations suites and validation results. Loaded on first use (PEP 562)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parsers.contracts.document import ContractError as ContractError
    from parsers.contracts.grammar import parse_fraction as parse_fraction
    from parsers.contracts.grammar import parse_row_count_phrase as parse_row_count_phrase
    from parsers.contracts.read import load_contracts as load_contracts
    from parsers.contracts.read import read_contract as read_contract
    from parsers.contracts.read import read_contracts as read_contracts
    from parsers.contracts.read import read_validation_results as read_validation_results

_EXPORTS = {
    "ContractError": "parsers.contracts.document",
    "load_contracts": "parsers.contracts.read",
    "parse_fraction": "parsers.contracts.grammar",
    "parse_row_count_phrase": "parsers.contracts.grammar",
    "read_contract": "parsers.contracts.read",
    "read_contracts": "parsers.contracts.read",
    "read_validation_results": "parsers.contracts.read",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # PEP 562: the module that defines ``name`` is imported on first access only.
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
