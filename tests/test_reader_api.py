"""The reader's API: text columns beside numeric ones, the positional join, blocks of several parts."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from lossctl.errors import DataError
from lossctl.io import table as table_module
from lossctl.io.block import Block
from lossctl.io.join import join_by_position
from lossctl.io.reader import open_table
from lossctl.io.source import Source
from lossctl.io.table import CsvTable


@pytest.fixture(params=["stdlib", "arrow"])
def path_kind(request, monkeypatch):
    if request.param == "arrow":
        monkeypatch.setattr(table_module, "SMALL_BYTES", 8)
        monkeypatch.setattr(table_module, "BLOCK_BYTES", 16)
    return request.param


def csv_table(text: str) -> CsvTable:
    return CsvTable(Source("d.csv", io.BufferedReader(io.BytesIO(text.encode()))))


def read(text: str, numeric: list[str], words: list[str], nan: str = "error"):
    blocks = list(csv_table(text).blocks(numeric, words, nan=nan))
    whole = Block.concat(blocks)
    return whole.data.tolist(), whole.lines.tolist(), {k: v.tolist() for k, v in whole.text.items()}


TEXT = 'name,x,label\n a ,1,yes\n"b, c",2,NA\n\nd,,no\ne,5,"yes "\n'


def test_text_columns_beside_numbers(path_kind):
    data, lines, text = read(TEXT, ["x"], ["name", "label"], nan="keep")
    assert lines == [2, 3, 5, 6]
    assert text == {"name": ["a", "b, c", "d", "e"], "label": ["yes", "NA", "no", "yes"]}
    assert np.isnan(data[2][0])
    assert [row[0] for row in data if row[0] == row[0]] == [1, 2, 5]


def test_missing_text_cells_follow_nan(path_kind):
    assert read(TEXT, ["x"], ["label"], nan="drop")[1] == [2, 6]
    with pytest.raises(DataError, match=r"d.csv: line 3, column label: 'NA' \(missing value; use --nan"):
        read(TEXT, [], ["label"])
    assert read(TEXT, [], ["name"])[2] == {"name": ["a", "b, c", "d", "e"]}


def test_join_by_position_drops_a_row_from_both(tmp_path: Path):
    (tmp_path / "p.csv").write_text("p\n1\n\n2\n3\n4\n")
    (tmp_path / "y.csv").write_text("y\n1\n2\nNaN\n4\n")
    with open_table(str(tmp_path / "p.csv")) as left, open_table(str(tmp_path / "y.csv")) as right:
        pairs = list(join_by_position(left, right, ["p"], ["y"], nan="drop"))
    a = Block.concat([p[0] for p in pairs])
    b = Block.concat([p[1] for p in pairs])
    assert a.data[:, 0].tolist() == [1, 2, 4]
    assert b.data[:, 0].tolist() == [1, 2, 4]
    assert a.lines.tolist() == [2, 4, 6]
    assert b.lines.tolist() == [2, 3, 5]


@pytest.mark.parametrize(("rows", "message"), [("y\n1\n", "y.csv has fewer rows than"),
                                               ("y\n1\n2\n3\n", "y.csv has more rows than")])
def test_join_needs_as_many_rows(tmp_path: Path, rows: str, message: str):
    (tmp_path / "p.csv").write_text("p\n1\n2\n")
    (tmp_path / "y.csv").write_text(rows)
    with open_table(str(tmp_path / "p.csv")) as left, open_table(str(tmp_path / "y.csv")) as right:
        with pytest.raises(DataError, match=message):
            list(join_by_position(left, right, ["p"], ["y"]))


def test_a_joined_block_knows_each_rows_part():
    def block(source: str, lines: list[int]) -> Block:
        return Block(np.zeros((len(lines), 1)), np.array(lines), {}, source)

    whole = Block.concat([block("a.csv", [2, 3]), block("b.csv", [2]), block("b.csv", [3, 4])])
    assert [whole.source_of(r) for r in range(5)] == ["a.csv"] * 2 + ["b.csv"] * 3
    later = whole.take(np.array([False, True, True, False, True]))
    assert [(later.source_of(r), later.line_of(r)) for r in range(3)] == [
        ("a.csv", 3), ("b.csv", 2), ("b.csv", 4)]
