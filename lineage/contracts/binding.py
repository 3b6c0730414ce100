"""Binding a contract to its dataset: by ``dataset:`` or by the file's stem."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from lineage.contracts.values import Contract
from lineage.errors import InputError
from lineage.model import DatasetId

__all__ = ["bind"]

_MAX_CANDIDATES = 10


def bind(contract: Contract, datasets: Sequence[DatasetId]) -> DatasetId:
    """The dataset ``contract`` is about, among ``datasets``.

    By ``contract.dataset`` when set: ``namespace/name`` or the exact name, else a unique
    dotted suffix (``silver.erp_cust_az12`` matches ``dwh.silver.erp_cust_az12``); else by
    the file's stem against the last part of each name. Case-insensitive.

    Raises:
        InputError: no dataset or more than one matches; names the file and up to ten
            candidates (the matches, or the closest names).
    """
    if contract.dataset:
        key = contract.dataset.strip().lower()
        what = f"dataset {contract.dataset!r}"
        found = [d for d in datasets if key in (str(d).lower(), d.name.lower())]
        if not found:
            found = [d for d in datasets if d.name.lower().endswith("." + key)
                     or str(d).lower().endswith("." + key)]
    else:
        key = contract.stem.lower()
        what = f"file stem {contract.stem!r}"
        found = [d for d in datasets if _last_part(d.name) == key]
    unique = sorted(set(found))
    if len(unique) == 1:
        return unique[0]
    file, line = contract.source.file, contract.source.line
    if unique:
        shown = ", ".join(str(d) for d in unique[:_MAX_CANDIDATES])
        raise InputError(f"{what} is ambiguous: it matches {len(unique)} datasets: {shown} "
                         "(write the full name in `dataset:`)", file=file, line=line)
    names = sorted({d.name for d in datasets})
    close = difflib.get_close_matches(key, [n.lower() for n in names], _MAX_CANDIDATES, 0.4)
    by_lower = {n.lower(): n for n in names}
    shown = ", ".join(by_lower[c] for c in close) or ", ".join(names[:_MAX_CANDIDATES])
    hint = f"; candidates: {shown}" if shown else ""
    raise InputError(f"{what} matches none of the {len(names)} known datasets{hint}",
                     file=file, line=line)


def _last_part(name: str) -> str:
    return re.split(r"[./]", name.lower())[-1]

