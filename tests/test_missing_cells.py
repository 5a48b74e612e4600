"""One rule for missing cells (every command reads through the one reader): the message says which
cell it was (an empty one, or a word such as NaN)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lossctl.errors import DataError
from lossctl.io.source import Source
from lossctl.io.table import CsvTable

EMPTY = ["", "nan", "NaN", "nAN", "+nan", "+NaN", "-nan", "-NAN", "na", "NA", "n/a", "N/A",
         "null", "NULL", "Null", "none", "None", "  NA  "]
NOT_EMPTY = ["nil", "-", "?", "0", "inf", "-Infinity", "1_000", "nan1", "++nan"]


def compute_verdict(path: Path, nan: str) -> str:
    stream = io.BufferedReader(io.BytesIO(path.read_bytes()))
    table = CsvTable(Source(str(path), stream), nan=nan)
    try:
        rows = sum(len(block.data) for block in table.blocks(["x", "y"]))
    except DataError as error:
        return str(error)
    return f"{rows} rows"


@pytest.mark.parametrize("cell", EMPTY + NOT_EMPTY)
@pytest.mark.parametrize("nan", ["error", "drop"])
def test_missing_cells(tmp_path: Path, cell: str, nan: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(f"x,y\n1,2\n{cell},3\n4,5\n")
    verdict = compute_verdict(path, nan)
    if cell in EMPTY:
        said = ("empty cell (use --nan drop to skip rows with empty cells)" if not cell.strip() else
                f"{cell.strip()!r} (missing value; use --nan drop to skip rows with missing values)")
        assert verdict == ("2 rows" if nan == "drop" else f"{path}: line 3, column x: {said}")
    else:
        assert verdict == "3 rows" or "is not a number" in verdict
