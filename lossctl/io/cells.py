"""What a text cell holds: one rule for CSV cells and for Parquet columns of numbers as text."""

from __future__ import annotations

import math

MISSING = frozenset({"", "nan", "na", "n/a", "null", "none", "-nan"})  # an empty cell, any case


def cell_number(cell: str) -> float:
    """The number in `cell`, NaN for an empty cell (any case of MISSING); ValueError otherwise.

    Python's float() syntax, surrounding spaces allowed, but no digit separators ("1_000").
    A NaN written any other way ("+nan") comes back as NaN too: the caller treats it as empty.
    """
    text = cell.strip()
    if text.lower() in MISSING:
        return math.nan
    if "_" in text:
        raise ValueError(text)
    return float(text)
