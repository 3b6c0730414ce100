"""The small text grammar of contract thresholds: percentages and row-count phrases.

``±15% from 7d avg``, ``+/-10% vs previous day``, ``< 5%``: what the seed's teams write.
The seed's own file has ``±`` as the mojibake ``Â±`` (UTF-8 read as Latin-1), accepted
as it is, like ``+-`` and ``+/-``. Durations are ``lineage.contracts.parse_duration``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lineage.contracts import RuleKind

__all__ = ["RowCountPhrase", "parse_fraction", "parse_row_count_phrase"]

_NUMBER = r"\d+(?:\.\d+)?"
_PLUS_MINUS = r"(?:±|Â±|\+/-|\+-)"
_COMPARATOR = re.compile(r"^(?:<=|<|≤|â‰¤)\s*")
_PHRASE = re.compile(
    rf"^\s*{_PLUS_MINUS}?\s*(?P<pct>{_NUMBER})\s*%\s*(?:(?:from|vs\.?|versus|of|against)\s+)?"
    r"(?:the\s+)?(?P<rest>.*?)\s*$",
    re.IGNORECASE,
)
_AVERAGE = re.compile(
    r"^(?:(?:last\s+)?(?P<n>\d+)\s*-?\s*(?:d|days?)\s*-?\s*)?(?:avg|average|mean)"
    r"(?:\s+(?:of\s+)?(?:the\s+)?(?:last\s+)?(?P<m>\d+)\s*(?:d|days?))?$",
    re.IGNORECASE,
)
_PREVIOUS = re.compile(
    r"^(?:previous\s+day|prior\s+day|day\s+before|yesterday|day\s+over\s+day|dod|"
    r"previous\s+run|last\s+day)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RowCountPhrase:
    """What a row-count phrase says: which rule, its tolerance, the averaging window."""

    kind: RuleKind
    tolerance: float
    window_days: int | None = None


def parse_fraction(value: object) -> float:
    """A rate as a fraction: ``5%`` / ``< 5%`` / ``'<= 2.5 %'`` -> 0.05 / 0.025.

    A bare number up to 1 is already a fraction (``0.05``); above 1 it is a percentage
    (``5`` -> 0.05).

    Raises:
        ValueError: not a rate, or outside 0..100 %.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a rate: {value!r}")
    if isinstance(value, int | float):
        rate = float(value) if value <= 1 else float(value) / 100
    else:
        text = _COMPARATOR.sub("", str(value).strip())
        match = re.fullmatch(rf"({_NUMBER})\s*(%?)", text)
        if not match:
            raise ValueError(f"not a rate: {value!r} (write e.g. 5% or 0.05)")
        number = float(match.group(1))
        rate = number / 100 if match.group(2) or number > 1 else number
    if not 0 <= rate <= 1:
        raise ValueError(f"rate out of range: {value!r}")
    return rate


def parse_row_count_phrase(text: str) -> RowCountPhrase:
    """``±15% from 7d avg`` -> vs the 7-day average within 15 %; ``±10% vs previous day``
    (also ``day over day``, ``from yesterday``) -> vs the previous day.

    Raises:
        ValueError: the phrase says neither (the message shows the forms it knows).
    """
    match = _PHRASE.match(str(text))
    if match:
        tolerance = float(match.group("pct")) / 100
        rest = match.group("rest")
        average = _AVERAGE.match(rest)
        if average:
            window = average.group("n") or average.group("m") or "7"
            return RowCountPhrase(RuleKind.ROW_COUNT_VS_AVERAGE, tolerance, int(window))
        if _PREVIOUS.match(rest):
            return RowCountPhrase(RuleKind.ROW_COUNT_VS_PREVIOUS, tolerance)
    raise ValueError(f"unknown row-count rule {text!r} (write e.g. '±15% from 7d avg' or "
                     "'±10% vs previous day')")
