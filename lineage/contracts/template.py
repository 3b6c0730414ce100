"""Init: a contract template from the live schema and the latest profile."""

from __future__ import annotations

import json
import re
from itertools import pairwise

from lineage.contracts.lint import _family_or_none, _is_iso_date
from lineage.model import DatasetProfile, LiveTable

__all__ = ["contract_template", "looks_sensitive"]

_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}

# Column names whose values identify a person or open a door: their observed values are
# never written into a template (a contract file is committed and read by everyone).
_SENSITIVE_WORDS = frozenset({
    "email", "mail", "emailaddress", "phone", "mobile", "telephone", "fax", "ssn", "passport",
    "iban", "password", "passwd", "pwd", "secret", "token", "apikey", "salt", "cvv", "cvc",
    "address", "street", "surname", "firstname", "lastname", "fullname", "ipaddress", "pii",
    "sensitive",
})
_SENSITIVE_PAIRS = frozenset({
    ("first", "name"), ("last", "name"), ("full", "name"), ("credit", "card"),
    ("card", "number"), ("account", "number"), ("tax", "id"), ("national", "id"),
    ("social", "security"), ("api", "key"), ("ip", "address"), ("access", "key"),
})
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def looks_sensitive(column: str) -> bool:
    """Whether a column's name says it holds personal or secret data (``email``,
    ``customer_phone``, ``firstName``, ``api_key``, ``card_number`` ...).

    A guess from the name only, for ``lineage contract init``: such a column gets
    ``sensitive: true`` and none of its observed values in the template.
    """
    words = [w.lower() for w in _WORD.findall(column)]
    pairs = set(pairwise(words))
    joined = {a + b for a, b in pairs}  # first_name -> firstname, e_mail -> email
    return bool((set(words) | joined) & _SENSITIVE_WORDS or pairs & _SENSITIVE_PAIRS)


def contract_template(
    live: LiveTable,
    profile: DatasetProfile | None,
    *,
    dataset_name: str,
    dialect: str | None = None,
) -> str:
    """The YAML ``lineage contract init`` writes, in the seed's shape.

    Every live column with its type; ``not_null`` for non-nullable columns and ``unique``
    for a one-column primary key are promised; what the profile observed is written as
    commented suggestions to uncomment: min / max only for numbers, dates and timestamps
    (a text column's alphabetical range promises nothing), ``max_length`` for text when
    the profile measured it, null rates, the row count and the newest loaded-at value.
    A column whose name looks sensitive (``looks_sensitive``) is marked ``sensitive: true``
    and none of its observed values are written. ``dialect`` reads the live types
    (``type_family``). Reads back with ``parsers.contracts.read_contract`` into a contract
    bound to ``dataset_name``.
    """
    header = "live schema" if profile is None else (
        f"live schema and the profile of {profile.observed_at:%Y-%m-%d %H:%M}")
    out = [f"# Data contract for {dataset_name}, written by `lineage contract init`",
           f"# from the {header}.",
           "# Observed values are commented suggestions: uncomment what you promise.",
           f"dataset: {_yaml_text(dataset_name)}", "schema:", "  fields:"]
    single_key = live.primary_key if len(live.primary_key) == 1 else ()
    for column in live.columns:
        out.append(f"    - name: {_yaml_text(column.name)}")
        if column.type:
            out.append(f"      type: {_yaml_text(column.type)}")
        if column.comment:
            out.append(f"      description: {_yaml_text(column.comment)}")
        sensitive = looks_sensitive(column.name)
        if sensitive:
            out.append("      sensitive: true   # by its name: never shown in offending rows")
        promised = ["not_null"] if column.nullable is False else []
        if column.name in single_key:
            promised.append("unique")
        family = _family_or_none(column.type, dialect)
        suggested = _column_suggestions(column.name, family, profile, sensitive=sensitive)
        out.append("      constraints:" if promised or suggested else "      constraints: []")
        out.extend(f"        - {item}" for item in promised)
        out.extend(f"        # - {item}" for item in suggested)
        rate = None if profile is None else profile.metric("null_rate", column.name)
        if rate is not None:
            limit = max(1, int(-(-rate * 100 // 1)))  # the observed rate, rounded up to 1 %
            out += ["      # quality:",
                    f"      #   null_rate: '<= {limit}%'   # observed {rate:.2%}"]
    out += ["quality:", *_table_suggestions(profile)]
    return "\n".join(out) + "\n"


def _column_suggestions(
    column: str, family: str | None, profile: DatasetProfile | None, *, sensitive: bool
) -> list[str]:
    """Commented constraints from what the profile saw. ``family`` None (no type, or one
    sqlglot does not know): numbers as numbers and ISO dates as dates are still ranges."""
    if profile is None:
        return []
    found: list[str] = []
    if not sensitive and family in ("number", None):
        for name in ("min", "max"):
            value = profile.metric(name, column)
            if value is not None:
                found.append(f"{name}: {_yaml_number(value)}   # observed {name}")
    if not sensitive and family in ("date", "timestamp", None):
        for bound_column, low, high in profile.bounds:
            if bound_column != column:
                continue
            found += [f"{name}: {_yaml_text(value, quote=True)}   # observed {name}"
                      for name, value in (("min", low), ("max", high))
                      if value is not None and _is_iso_date(value)]
    longest = profile.metric("max_length", column)
    if longest is not None and family in ("string", None):
        found.append(f"max_length: {int(longest)}   # observed longest value")
    return found


def _table_suggestions(profile: DatasetProfile | None) -> list[str]:
    lines = ["  # freshness: 24h   # the newest loaded-at value must be younger than this"]
    if profile is not None:
        for point in profile.metrics:
            if point.name == "last_loaded_at" and point.column:
                age = profile.observed_at.timestamp() - point.value
                lines = ["  # freshness:",
                         "  #   max_age: 24h",
                         f"  #   column: {_yaml_text(point.column)}"
                         f"   # newest value was {age / 3600:.1f} h old when profiled"]
                break
    rows = None if profile is None else profile.metric("row_count")
    observed = "" if rows is None else f"   # observed {int(rows)} rows"
    lines += ["  # row_count:", f"  #   warning: ±15% from 7d avg{observed}"]
    if rows is not None:
        lines.append(f"  # min_rows: {int(rows)}{observed}")
    return lines


def _yaml_text(text: str, *, quote: bool = False) -> str:
    """A YAML scalar reading back as ``text``: plain when safe, else quoted."""
    if not quote and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", text) and (
            text.lower() not in _YAML_WORDS):
        return text
    if any(ord(ch) < 32 for ch in text):
        return json.dumps(text)  # JSON strings are YAML double-quoted scalars
    return "'" + text.replace("'", "''") + "'"


def _yaml_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
