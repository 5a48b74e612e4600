"""The large-input reader (pyarrow, a chunk per core) gives the csv module's numbers, lines and errors.

Inputs are small; a tiny small-file limit and tiny chunks force the large-input path, so chunk
boundaries fall everywhere (inside quoted fields too).
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lossctl.cli import main
from lossctl.errors import DataError
from lossctl.io import table as table_module
from lossctl.io.chunks import Chunk, map_ahead, record_chunks
from lossctl.io.source import Source
from lossctl.io.table import CsvTable

READERS = ["stdlib", "arrow"]

TRICKY = [
    "0.1",
    "0.30000000000000004",
    "2.2250738585072011e-308",
    "4.9406564584124654e-324",
    "2.4703282292062328e-324",
    "1e-400",
    "1e400",
    "-1e400",
    "1.7976931348623157e308",
    "1.00000000000000011102230246251565404236316680908203125",
    "9007199254740993",
    "123456789012345678901234567890e-20",
    "7.038531e-26",
    "+1",
    ".5",
    "5.",
    "1E5",
    "-0",
    " 2.5 ",
    '"3.25"',
    "inf",
    "-Infinity",
]


def read(text: str | bytes, columns: list[str], reader: str, nan: str = "error", block_bytes: int = 16):
    """(data, lines) of `text` through one reader, or the DataError message."""
    stream = io.BufferedReader(io.BytesIO(text.encode() if isinstance(text, str) else text))
    small = 1 << 30 if reader == "stdlib" else 8
    old = table_module.SMALL_BYTES
    table_module.SMALL_BYTES = small
    try:
        table = CsvTable(
            Source("data.csv", stream),
            nan=nan,
            block_rows=3,
            block_bytes=block_bytes,
        )
        blocks = list(table.blocks(columns))
    except DataError as error:
        return str(error)
    finally:
        table_module.SMALL_BYTES = old
    assert reader == "stdlib" or all(len(b.data) <= 3 for b in blocks)
    return np.concatenate([b.data for b in blocks]), np.concatenate([b.lines for b in blocks])


def same_everywhere(text: str, columns: list[str], **kwargs):
    results = {reader: read(text, columns, reader, **kwargs) for reader in READERS}
    reference = results["stdlib"]
    for reader, result in results.items():
        if isinstance(reference, str):
            assert result == reference, reader
        else:
            assert not isinstance(result, str), (reader, result)
            np.testing.assert_array_equal(result[0], reference[0], err_msg=reader)  # bit for bit
            assert result[1].tolist() == reference[1].tolist(), reader
    return reference


@pytest.mark.parametrize("block_bytes", [16, 1 << 20])
def test_tricky_numbers_parse_identically(block_bytes):
    text = "id,y_true,y_pred\n" + "".join(f"r{i},{v},{v}\n" for i, v in enumerate(TRICKY))
    data, lines = same_everywhere(text, ["y_pred", "y_true"], block_bytes=block_bytes)
    expected = [float(v.strip().strip('"')) for v in TRICKY]
    assert data[:, 0].tolist() == expected
    assert lines.tolist() == list(range(2, 2 + len(TRICKY)))


def test_blank_lines_crlf_and_quoted_fields():
    text = (
        "name,y,p\r\n"
        '"a, b",1,2\r\n'
        "\r\n"
        '"multi\r\nline ""quoted"" name",3,4\r\n'
        "\n"
        "plain,5,6\r\n"
        "   \r\n"
        "last,7,8"  # no final newline
    )
    data, lines = same_everywhere(text, ["y", "p"])
    assert data.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]
    assert lines.tolist() == [2, 5, 7, 9]


def short(column: str, fields: int, width: int) -> str:
    return f"column {column}: missing (the row has {fields} of the header's {width} fields)"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("1,2\n3,oops\n", "line 23, column p: 'oops' is not a number"),
        ("1,2\n3,\n", "line 23, column p: empty cell"),
        ("1,2\n\n3,NA\n", "line 24, column p: 'NA' (missing value; use --nan drop"),
        ("1,2\n+nan,4\n", "line 23, column y: '+nan' (missing value; use --nan drop"),
        ("1,2\n3,4,5\n", "line 23: has 3 fields but the header has 2"),
        ("1,2\n3\n", "line 23, " + short("p", 1, 2)),
        ("1,2\n3,1_000\n", "'1_000' is not a number"),
        ('1,2\n"3,4\n', "line 23, " + short("p", 1, 2)),  # the quote runs to the end
        ("1,2\n3,\xff\n", "line 23, column p: '\xff' is not a number"),
        (b"1,2\n3,\xff\n", "is not UTF-8 text"),
    ],
)
def test_errors_are_the_same_on_every_reader(body, message):
    head = "y,p\n" + "".join(f"{i},{i}\n" for i in range(20))
    text = head.encode() + body if isinstance(body, bytes) else head + body
    result = same_everywhere(text, ["y", "p"])
    assert isinstance(result, str)
    assert result.startswith("data.csv: ")
    assert message in result


@pytest.mark.parametrize("block_bytes", [16, 1 << 20])
@pytest.mark.parametrize("nan", ["error", "drop"])
@pytest.mark.parametrize("columns", [["y", "p"], ["p", "z"]], ids=["last_unread", "last_read"])
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('"s",3\n', "line 22, " + short("p", 2, 4)),
        ('"s",3,4\n', "line 22, " + short("z", 3, 4)),
        ("s,3,4\n", "line 22, " + short("z", 3, 4)),  # quotes only in the other rows
        ('"s,t",3,4\n', "line 22, " + short("z", 3, 4)),  # a comma inside quotes
        ('"s ""q"", t",3\n', "line 22, " + short("p", 2, 4)),  # doubled quotes too
        ('"s",3\n"l",1,2,3,4\n', "line 22, " + short("p", 2, 4)),  # one short, one long
        ('"l",1,2,3,4\n"s",3\n', "line 22: has 5 fields but the header has 4"),
        ('"l,m",1,2,3,4\n', "line 22: has 5 fields but the header has 4"),  # long, none short
    ],
)
def test_short_row_among_quoted_fields(body, message, columns, nan, block_bytes):
    """Every reader names a short or long row among quoted fields, as the csv module does."""
    head = "name,y,p,z\n" + "".join(f'"r{i}",{i},{i},{i}\n' for i in range(20))
    result = same_everywhere(head + body + '"last",1,2,3\n', columns, nan=nan,
                             block_bytes=block_bytes)
    assert result == f"data.csv: {message}"


@pytest.mark.parametrize("nan", ["error", "drop"])
@pytest.mark.parametrize("columns", [["y", "p"], ["p", "z"]], ids=["last_unread", "last_read"])
def test_short_and_long_row_in_one_chunk_without_quotes(nan, columns):
    """The commas of a long row and of a short one add up to the right total; each line counts."""
    head = "y,p,z\n" + "".join(f"{i},{i},{i}\n" for i in range(20))
    for body, message in [("1,2,3,4\n3,4\n", "line 22: has 4 fields but the header has 3"),
                          ("3,4\n\n1,2,3,4\n", "line 22, " + short("z", 2, 3))]:
        result = same_everywhere(head + body + "5,6,7\n", columns, nan=nan, block_bytes=1 << 20)
        assert result == f"data.csv: {message}"


def test_quotes_inside_fields_read_as_the_csv_module_reads_them():
    head = "name,y,p\n" + "".join(f'"r{i}",{i},{i}\n' for i in range(20))
    data, lines = same_everywhere(head + 'ab"c,1,2\n"x"y,3,4\n"a""b",5,6\n', ["y", "p"],
                                  block_bytes=1 << 20)
    assert data[-3:].tolist() == [[1, 2], [3, 4], [5, 6]]
    assert lines[-3:].tolist() == [22, 23, 24]


def test_first_bad_cell_in_row_order():
    # Row by row, then column by column in the order asked for.
    text = "y,p\n1,2\n3,bad\nworse,5\n"
    assert same_everywhere(text, ["p", "y"]).endswith("line 3, column p: 'bad' is not a number")


def test_nan_drop_is_the_same_on_every_reader():
    text = "y,p,other\n1,2,x\n3,,x\nNA,4,x\n5,nan,\n6,null,x\n7,8,x\n"
    data, lines = same_everywhere(text, ["y", "p"], nan="drop")
    assert data.tolist() == [[1, 2], [7, 8]]
    assert lines.tolist() == [2, 7]


def test_header_longer_than_the_small_limit():
    text = "a_long_column_name,another_long_one\n1,2\n"
    data, _ = same_everywhere(text, ["another_long_one"])
    assert data.tolist() == [[2]]


def test_chunks_end_outside_quotes():
    text = b'1,"x\ny\nz",2\n3,"",4\n5,"""",6\n'
    chunks = [Chunk(pieces) for pieces in record_chunks(io.BufferedReader(io.BytesIO(text)), 3)]
    assert b"".join(c.data for c in chunks) == text
    for chunk in chunks:
        assert chunk.data.count(b'"') % 2 == 0
    assert [c.newlines for c in chunks] == [3, 1, 1]


@pytest.mark.parametrize("body", ["", "7,x,8\n", "7,,8\n"])
def test_threads_change_nothing(monkeypatch, body):
    rows = [f"{i},{i / 7!r},{-i}\n" for i in range(200)]
    rows[150:150] = ["\n", body]  # a blank line, then perhaps an error, late in the file
    text = "a,b,c\n" + "".join(rows)
    results = []
    for threads in ("1", "3"):
        monkeypatch.setenv("LOSSCTL_THREADS", threads)
        results.append(read(text, ["c", "b"], "arrow", block_bytes=64))
    if isinstance(results[0], str):
        assert results[0] == results[1]
        assert "line 153" in results[0]  # header, 150 rows, a blank line
    else:
        np.testing.assert_array_equal(results[0][0], results[1][0])
        expected_lines = read(text, ["c", "b"], "stdlib")[1].tolist()
        assert results[0][1].tolist() == results[1][1].tolist() == expected_lines


def test_map_ahead_keeps_order_and_stops_early():
    started = []

    def work(i: int) -> int:
        started.append(i)
        return i * i

    assert list(map_ahead(work, range(50), workers=3)) == [i * i for i in range(50)]
    started.clear()
    results = map_ahead(work, range(1000), workers=2)
    assert [next(results) for _ in range(3)] == [0, 1, 4]
    results.close()
    assert len(started) < 10  # no more than a few items ahead
    assert list(map_ahead(work, range(4), workers=1)) == [0, 1, 4, 9]


def test_arrow_path_does_not_import_pandas(tmp_path: Path):
    path = tmp_path / "big.csv"
    path.write_text("y_true,y_pred\n" + "0.25,0.5\n" * 200_000)  # 1.8 MB: the large-input path
    code = (
        "import sys; from lossctl.io.source import open_source; from lossctl.io.table import CsvTable\n"
        f"t = CsvTable(open_source({str(path)!r}))\n"
        "n = sum(len(b.data) for b in t.blocks(['y_true', 'y_pred']))\n"
        "print(n, 'pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["200000", "False"]


# -- through the command line -------------------------------------------------------------------


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


@pytest.fixture
def frames(tmp_path: Path):
    """The same table as CSV and as Parquet, with an int label, a null-free float and a text column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    n = 5000
    label = rng.integers(0, 3, n)
    probs = rng.dirichlet(np.ones(3), n)
    table = pa.table(
        {"id": [f"r{i}" for i in range(n)], "label": label} | {f"p_{k}": probs[:, k] for k in range(3)}
    )
    pq.write_table(table, tmp_path / "data.parquet", row_group_size=1000)
    lines = ["id,label,p_0,p_1,p_2"] + [
        f"r{i},{y}," + ",".join(map(repr, p))
        for i, (y, p) in enumerate(zip(label.tolist(), probs.tolist(), strict=True))
    ]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    return tmp_path


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "torch.cross_entropy"])
def test_parquet_matches_csv(capsys, frames, loss):
    from_csv = run(capsys, "compute", "-l", loss, str(frames / "data.csv"))
    from_parquet = run(capsys, "compute", "-l", loss, str(frames / "data.parquet"))
    assert from_parquet == from_csv
    assert from_csv[0] == 0


def test_parquet_errors_name_the_row(capsys, tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"y_true": [1.0, None, 3.0], "y_pred": [1.0, 2.0, 3.0], "name": ["a", "b", "c"]}),
        tmp_path / "t.parquet",
    )
    path = str(tmp_path / "t.parquet")
    code, _, err = run(capsys, "compute", "-l", "mse", path)
    assert (code, err) == (
        1,
        f"lossctl: error: {path}: row 2, column y_true: empty cell "
        "(use --nan drop to skip rows with empty cells)\n",
    )
    assert run(capsys, "compute", "-l", "mse", "--nan", "drop", path)[:2] == (0, "0.0\n")
    code, _, err = run(capsys, "compute", "-l", "mse", "--true", "name", path)
    assert (code, err) == (1, f"lossctl: error: {path}: row 1, column name: 'a' is not a number\n")


def test_parquet_numbers_as_text_follow_the_csv_rule(capsys, tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    cells = [" 2.5 ", "NA", "+nan", "1e3", "1_000"]
    pq.write_table(pa.table({"y_true": cells, "y_pred": [0.0] * len(cells)}), tmp_path / "t.parquet")
    (tmp_path / "t.csv").write_text("y_true,y_pred\n" + "".join(f"{c},0\n" for c in cells))
    for name, where in (("t.parquet", "row 5"), ("t.csv", "line 6")):
        path = str(tmp_path / name)
        code, _, err = run(capsys, "compute", "-l", "mse", "--nan", "drop", path)
        message = f"lossctl: error: {path}: {where}, column y_true: '1_000' is not a number\n"
        assert (code, err) == (1, message)
    pq.write_table(pa.table({"y_true": cells[:4], "y_pred": [0.0] * 4}), tmp_path / "t.parquet")
    assert run(capsys, "compute", "-l", "mse", "--nan", "drop", str(tmp_path / "t.parquet"))[:2] == (
        0,
        f"{(2.5**2 + 1e6) / 2!r}\n",
    )


def test_large_input_from_stdin():
    rng = np.random.default_rng(1)
    values = rng.random((120_000, 2))  # about 4.5 MB: the large-input path, several chunks
    text = "y_true,y_pred\n" + "".join(f"{a!r},{b!r}\n" for a, b in values.tolist())
    done = subprocess.run(
        [sys.executable, "-m", "lossctl", "compute", "-l", "mse", "-r", "sum", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
    )
    assert float(done.stdout) == pytest.approx(((values[:, 0] - values[:, 1]) ** 2).sum(), rel=1e-12)


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def _tiny_chunks(monkeypatch, threads: str) -> None:
    """Force the large-input path with chunks of a few rows, and `threads` workers."""
    monkeypatch.setattr(table_module, "SMALL_BYTES", 8)
    monkeypatch.setattr(table_module, "BLOCK_BYTES", 64)
    monkeypatch.setenv("LOSSCTL_THREADS", threads)


def _scce_csv(tmp_path: Path, bad: dict[int, str]) -> str:
    """Label and 3 probabilities on 300 rows; `bad` replaces the label cell of some rows."""
    rng = np.random.default_rng(2)
    probs = rng.dirichlet([1, 1, 1], 300).tolist()
    rows = [[str(int(rng.integers(3))), *map(repr, p)] for p in probs]
    for row, label in bad.items():
        rows[row][0] = label
    path = tmp_path / "p.csv"
    path.write_text("label,p_0,p_1,p_2\n" + "".join(",".join(r) + "\n" for r in rows))
    return str(path)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_computed_in_threads_are_bit_identical(capsys, monkeypatch, tmp_path: Path, reduction):
    path = _scce_csv(tmp_path, {})
    args = ["compute", "-l", "sparse_categorical_crossentropy", "-l", "torch.nll_loss", "-r", reduction]
    outputs = []
    for threads in ("1", "3"):
        _tiny_chunks(monkeypatch, threads)
        outputs.append(run(capsys, *args, "--pred", "p_*", path))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == 0


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        ({20: "7", 22: "x"}, "line 22, column label: y_true class index 7 is out of range"),
        ({20: "x", 22: "7"}, "line 22, column label: 'x' is not a number"),
    ],
)
def test_first_error_in_file_order_with_threads(capsys, monkeypatch, tmp_path: Path, bad, where):
    path = _scce_csv(tmp_path, bad)
    _tiny_chunks(monkeypatch, "3")
    code, _, err = run(capsys, "compute", "-l", "sparse_categorical_crossentropy", path)
    assert code == 1
    assert where in err


def test_short_row_in_a_large_quoted_file_through_the_cli(capsys, monkeypatch, tmp_path: Path):
    rows = [f'"r{i}",{i % 3},{i / 7!r},x\n' for i in range(300)]
    rows[250] = '"r250",1,0.5\n'  # no note
    path = tmp_path / "q.csv"
    path.write_text("name,y_true,y_pred,note\n" + "".join(rows))
    _tiny_chunks(monkeypatch, "2")
    for nan in ("error", "drop"):
        code, out, err = run(capsys, "compute", "-l", "mse", "--nan", nan, str(path))
        assert (code, out) == (1, "")
        assert err == (f"lossctl: error: {path}: line 252, column note: missing "
                       "(the row has 3 of the header's 4 fields)\n")
