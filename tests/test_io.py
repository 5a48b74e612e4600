"""The CSV block reader and column binding, on both paths (stdlib csv, pyarrow)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from lossctl.errors import DataError, UsageError
from lossctl.io import table as table_module
from lossctl.io.columns import bind_roles, find_role, parse_spec
from lossctl.io.source import Source, open_source
from lossctl.io.table import CsvTable


def table_of(text: str, nan: str = "error", block_rows: int = 2) -> CsvTable:
    stream = io.BufferedReader(io.BytesIO(text.encode()))
    return CsvTable(Source("data.csv", stream), nan=nan, block_rows=block_rows)


def read_all(text: str, columns: list[str], **kwargs) -> tuple[np.ndarray, np.ndarray]:
    blocks = list(table_of(text, **kwargs).blocks(columns))
    return np.concatenate([b.data for b in blocks]), np.concatenate([b.lines for b in blocks])


def test_reads_selected_columns_exactly(reader):
    text = "name,a,b\nx,0.1,1e-300\ny,2.5,-3\nz,0.30000000000000004,7\n"
    data, lines = read_all(text, ["b", "a"])
    np.testing.assert_array_equal(data, [[1e-300, 0.1], [-3, 2.5], [7, 0.30000000000000004]])
    assert lines.tolist() == [2, 3, 4]


def test_other_columns_may_hold_text(reader):
    data, _ = read_all("id,label,p\nabc,1,0.5\n\"q,uoted\",0,0.25\n", ["label", "p"])
    assert data.tolist() == [[1, 0.5], [0, 0.25]]


def test_not_a_number_names_line_and_column(reader):
    with pytest.raises(DataError, match=r"data.csv: line 4, column p: 'oops' is not a number"):
        read_all("y,p\n1,2\n3,4\n5,oops\n", ["y", "p"])


def test_empty_cell_error_and_drop(reader):
    text = "y,p\n1,2\n3,\n5,6\n"
    with pytest.raises(DataError, match=r"line 3, column p: empty cell"):
        read_all(text, ["y", "p"])
    data, lines = read_all(text, ["y", "p"], nan="drop")
    assert data.tolist() == [[1, 2], [5, 6]]
    assert lines.tolist() == [2, 4]


def test_no_rows(reader):
    with pytest.raises(DataError, match="no data rows"):
        read_all("y,p\n", ["y", "p"])


def test_duplicate_header():
    with pytest.raises(DataError, match="appears twice"):
        table_of("y,y\n1,2\n")


def test_blocks_are_bounded(monkeypatch):
    monkeypatch.setattr(table_module, "SMALL_BYTES", 8)
    text = "y,p\n" + "".join(f"{i},{i}\n" for i in range(10))
    blocks = list(table_of(text, block_rows=3).blocks(["y", "p"]))
    assert [len(b.data) for b in blocks] == [3, 3, 3, 1]
    assert blocks[-1].lines.tolist() == [11]


def test_open_source_errors(tmp_path: Path):
    with pytest.raises(DataError, match="no such file"):
        open_source(str(tmp_path / "missing.csv"))
    with pytest.raises(DataError, match="is a directory"):
        open_source(str(tmp_path))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="is empty"):
        open_source(str(tmp_path / "empty.csv"))


# -- column roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "role", "expected"),
    [
        (["label", "prediction"], "y_true", ["label"]),
        (["label", "prediction"], "y_pred", ["prediction"]),
        (["Target", "Score"], "y_true", ["Target"]),
        (["y", "p_0", "p_1", "p_2"], "y_pred", ["p_0", "p_1", "p_2"]),
        (["y_true_1", "y_true_0"], "y_true", ["y_true_0", "y_true_1"]),
        (["a", "b"], "y_true", None),
    ],
)
def test_find_role(header, role, expected):
    assert find_role(role, header) == expected


def test_wide_prefers_numbered_family():
    header = ["y_true", "y_pred", "p_0", "p_1"]
    with pytest.raises(UsageError, match="ambiguous"):
        find_role("y_pred", header)
    assert find_role("y_pred", header, wide=True) == ["p_0", "p_1"]


def test_parse_spec_globs_keep_header_order():
    assert parse_spec("p_*", ["p_1", "x", "p_0"], "y_pred") == ["p_1", "p_0"]
    with pytest.raises(UsageError, match="no column 'q'"):
        parse_spec("q", ["a"], "y_pred")


def test_bind_roles_explicit_columns_are_not_reused():
    bound = bind_roles([("y_true", False), ("y_pred", False)], ["label", "y", "pred"],
                       {"y_true": "y"}, "f.csv")
    assert bound == {"y_true": ["y"], "y_pred": ["pred"]}
