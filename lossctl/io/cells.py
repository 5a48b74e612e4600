"""What a text cell holds: one rule for CSV cells and for Parquet columns of numbers as text."""

from __future__ import annotations

import math

# An empty cell, in any case, spaces around it allowed. "nan", "+nan" and "-nan" are all the
# spellings float() reads as NaN, so no other cell is NaN. The CSV and Parquet readers and the
# training reader (lossctl.nn.data) all go by this set.
MISSING = frozenset({"", "nan", "+nan", "-nan", "na", "n/a", "null", "none"})


def cell_number(cell: str) -> float:
    """The number in `cell`, NaN for an empty cell (any case of MISSING); ValueError otherwise.

    Python's float() syntax, surrounding spaces allowed, but no digit separators ("1_000").
    """
    text = cell.strip()
    if text.lower() in MISSING:
        return math.nan
    if "_" in text:
        raise ValueError(text)
    return float(text)
