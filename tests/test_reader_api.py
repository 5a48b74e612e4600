"""The reader's API: text columns beside numeric ones, the positional join, blocks of several parts."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from lossctl.errors import DataError
from lossctl.io.block import Block
from lossctl.io.join import join_by_position
from lossctl.io.reader import open_table
from lossctl.io.source import Source
from lossctl.io.table import CsvTable


def csv_table(text: str) -> CsvTable:
    return CsvTable(Source("d.csv", io.BufferedReader(io.BytesIO(text.encode()))))


def read(text: str, numeric: list[str], words: list[str], nan: str = "error"):
    blocks = list(csv_table(text).blocks(numeric, words, nan=nan))
    whole = Block.concat(blocks)
    return whole.data.tolist(), whole.lines.tolist(), {k: v.tolist() for k, v in whole.text.items()}


TEXT = 'name,x,label\n a ,1,yes\n"b, c",2,NA\n\nd,,no\ne,5,"yes "\n'


def test_text_columns_beside_numbers(reader):
    data, lines, text = read(TEXT, ["x"], ["name", "label"], nan="keep")
    assert lines == [2, 3, 5, 6]
    assert text == {"name": ["a", "b, c", "d", "e"], "label": ["yes", "NA", "no", "yes"]}
    assert np.isnan(data[2][0])
    assert [row[0] for row in data if row[0] == row[0]] == [1, 2, 5]


def test_missing_text_cells_follow_nan(reader):
    assert read(TEXT, ["x"], ["label"], nan="drop")[1] == [2, 6]
    with pytest.raises(DataError, match=r"d.csv: line 3, column label: 'NA' \(missing value; use --nan"):
        read(TEXT, [], ["label"])
    assert read(TEXT, [], ["name"])[2] == {"name": ["a", "b, c", "d", "e"]}


def test_key_columns_come_as_codes_of_the_text(reader):
    """--by's columns: each row's code into the distinct stripped words, the same cells as text;
    rows dropped for a missing cell leave their words behind without rows, which group by nothing."""
    from lossctl.evaluate.groups import group_codes
    from lossctl.io.block import Codes

    text = "g,x\n a ,1\nb,2\na,3\nb,\n c,5\na ,6\n"
    for nan in ("keep", "drop"):
        as_text = Block.concat(list(csv_table(text).blocks(["x"], ["g"], nan=nan))).text["g"]
        whole = Block.concat(list(csv_table(text).blocks(["x"], nan=nan, keys=["g"])))
        codes = whole.text["g"]
        assert isinstance(codes, Codes)
        assert codes.cells().tolist() == as_text.tolist()
        keys, rows = group_codes([codes])
        assert [keys[r][0] for r in rows] == as_text.tolist()
        assert sorted(keys) == sorted({(w,) for w in as_text})
    keys, rows = group_codes([Codes(np.array([2, 2, 0]), np.array(["x", "y", "z"], dtype=object))])
    assert (keys, rows.tolist()) == ([("x",), ("z",)], [1, 1, 0])  # "y" has no row: no group


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


GUESS = ("x,kind,label,n\n" + "".join(f"{i / 4!r},{'ab'[i % 2]},{i % 3},{i}\n" for i in range(30))
         + " 7.5 ,c,NA,30\n1e3,a,yes,31\n")


def test_guessed_columns_are_numbers_where_every_cell_is(reader):
    blocks = list(csv_table(GUESS).blocks(guess=["x", "kind", "label", "n"], nan="keep"))
    whole = Block.concat(blocks)
    assert whole.text["x"].astype(float).tolist() == [i / 4 for i in range(30)] + [7.5, 1000.0]
    assert whole.text["kind"].tolist() == ["ab"[i % 2] for i in range(30)] + ["c", "a"]
    assert whole.text["label"][-1] == "yes"
    assert float(whole.text["label"][4]) == 1.0
    for block in blocks:  # per block: all numbers, or text as written
        assert block.text["x"].dtype == np.float64
        assert block.text["kind"].dtype == object
        label = block.text["label"]
        assert label.dtype == object if "yes" in label.tolist() else label.dtype == np.float64
    assert whole.lines.tolist() == list(range(2, 34))


def test_guessed_columns_follow_nan(reader):
    with pytest.raises(DataError, match=r"line 32, column label: 'NA' \(missing value"):
        list(csv_table(GUESS).blocks(guess=["label"]))
    assert Block.concat(list(csv_table(GUESS).blocks(guess=["label"], nan="drop"))).lines[-1] == 33


def run(capsys, *args: str) -> tuple[int, str, str]:
    from lossctl.cli import main

    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ("id,y\na,1\nc,2\nb,2\n", (0, [0.0, 0.25, 1.0], "")),
        ("id,y\na,1\nb,2\n", (1, [], "lossctl: error: {p}: line 4, column id: key 'c' is not in {y}\n")),
        ("id,y\na,1\nb,2\n a ,3\nc,1\n",
         (1, [], "lossctl: error: {y}: line 4, column id: key 'a' appears twice\n")),
    ],
    ids=["joined", "key not found", "key twice"],
)
def test_labels_joined_by_key(capsys, tmp_path: Path, labels: str, expected):
    preds, truth = tmp_path / "p.csv", tmp_path / "y.csv"
    preds.write_text("id,pred\nb,2\na,1.5\nc,3\n")
    truth.write_text(labels)
    code, out, err = run(capsys, "compute", "-l", "mse", "-r", "none", "--labels", str(truth), "--on", "id",
                         str(preds))
    values = [float(v) for v in out.split()]  # per-row values in the predictions' order
    assert (code, values, err) == (expected[0], expected[1], expected[2].format(p=preds, y=truth))


def test_key_join_drops_rows_with_missing_cells(capsys, tmp_path: Path):
    preds, truth = tmp_path / "p.csv", tmp_path / "y.csv"
    preds.write_text("id,pred\nb,2\na,1.5\n,7\nc,3\n")
    truth.write_text("id,y\na,1\nc,\nb,2\n")
    assert run(capsys, "compute", "-l", "mse", "--nan", "drop", "--labels", str(truth), "--on", "id",
               str(preds)) == (0, "0.125\n", "")


def test_reading_threads_are_the_cores(monkeypatch):
    from lossctl import threads

    monkeypatch.delenv("LOSSCTL_THREADS", raising=False)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert threads.worker_count() == 16  # no longer capped at 4
    assert threads.worker_count(at_most=4) == 4  # training's shards
    monkeypatch.setenv("LOSSCTL_THREADS", "3")
    assert threads.worker_count() == threads.worker_count(at_most=2) == 3
