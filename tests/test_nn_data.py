"""The training reader (lossctl.nn.data): rows checked as `compute` checks them, and its vectorized
encoders checked against the plain loops they replaced."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lossctl.cli import app, main
from lossctl.errors import DataError
from lossctl.io.source import Source
from lossctl.io.table import CsvTable
from lossctl.nn import data as nn_data
from lossctl.nn.data import Feature, Preprocessor, Table, read_table

ROOT = Path(__file__).resolve().parent.parent
DRUG = str(ROOT / "sample_data" / "drug_trial.csv")
runner = CliRunner()


# -- rows of the wrong width, blank lines: the same verdict as compute's reader ----------------

def compute_verdict(path: Path, columns: list[str]) -> str | list[int]:
    """compute's reader: its error, or the file line of every row it keeps."""
    stream = io.BufferedReader(io.BytesIO(path.read_bytes()))
    try:
        table = CsvTable(Source(str(path), stream))
        return [int(line) for block in table.blocks(columns) for line in block.lines]
    except DataError as error:
        return str(error)


def training_verdict(path: Path, columns: list[str]) -> str | list[int]:
    try:
        table = read_table(str(path))
        for column in columns:
            nn_data.numbers(table, column)
    except DataError as error:
        return str(error)
    return table.lines.tolist()


def short(line: int, column: str, fields: int, width: int = 3) -> str:
    return f"line {line}, column {column}: missing (the row has {fields} of the header's {width} fields)"


def long(line: int, fields: int, width: int = 3) -> str:
    return f"line {line}: has {fields} fields but the header has {width}"


# (CSV text, what compute says: an error after the file name, or the lines of the rows it keeps)
ROWS = {
    "short": ("a,b,c\n1,2,3\n4,5\n6,7,8\n", short(3, "c", 2)),
    "one field": ("a,b,c\n1,2,3\n4\n", short(3, "b", 1)),
    "short last, no newline": ("a,b,c\n1,2,3\n4,5", short(3, "c", 2)),
    "long": ("a,b,c\n1,2,3\n4,5,6,7\n8,9,0\n", long(3, 4)),
    "long first row": ("a,b,c\n1,2,3,4\n5,6,7\n", long(2, 4)),
    "trailing comma": ("a,b,c\n1,2,3,\n", long(2, 4)),
    "short before long": ("a,b,c\n1,2\n3,4,5,6\n", short(2, "c", 2)),
    "blank lines, then short": ("a,b,c\n1,2,3\n\n  \n\t\n4,5\n", short(6, "c", 2)),
    "blank lines, then not a number": ("a,b,c\n\n1,2,3\n\nzz,5,6\n",
                                       "line 5, column a: 'zz' is not a number"),
    "blank lines kept out": ("a,b,c\n\n1,2,3\n \n\n4,5,6\n\n", [3, 6]),
    "crlf, short": ("a,b,c\r\n1,2,3\r\n4,5\r\n", short(3, "c", 2)),
    "crlf, blank lines": ("a,b,c\r\n1,2,3\r\n\r\n4,5,6\r\n", [2, 4]),
    "cr only, short": ("a,b,c\r1,2,3\r4,5\r", short(3, "c", 2)),
    "quoted, short": ('"a","b","c"\n"1","2","3"\n"4","5"\n', short(3, "c", 2)),
    "quoted, long": ('a,b,c\n"1","2","3","4"\n', long(2, 4)),
    "quoted comma, long": ('a,b,c\n1,2,3\n4,"5,5",6,7\n', long(3, 4)),
    "quoted line break, then short": ('a,b,c\n1,2,"3\n"\n4,5\n', short(4, "c", 2)),
    "quoted empty line is blank": ('a,b,c\n1,2,3\n""\n4,5,6\n', [2, 4]),
    "no-break space line is blank": ("a,b,c\n1,2,3\n\u00a0\n4,5,6\n", [2, 4]),
    "one column, blank lines": ("a\n1\n\n   \n2\n", [2, 5]),
    "one column, long": ("a\n1\n2,3\n", long(3, 2, 1)),
    "blank line before the header": ("\na,b,c\n1,2,3\n", "has no header row"),
    "only blank lines after the header": ("a,b,c\n\n \n", "has a header but no data rows"),
    "bom": ("\ufeffa,b,c\n1,2,3\n4,5\n", short(3, "c", 2)),
}


@pytest.mark.parametrize("case", list(ROWS))
def test_rows_read_as_compute_reads_them(tmp_path: Path, monkeypatch, case: str) -> None:
    text, expected = ROWS[case]
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    columns = ["a"] if case.startswith("one column") else ["a", "b", "c"]
    verdict = compute_verdict(path, columns)
    assert verdict == (f"{path}: {expected}" if isinstance(expected, str) else expected)
    assert training_verdict(path, columns) == verdict
    monkeypatch.setattr(nn_data, "_read_plain", lambda name, raw: None)  # the csv module alone
    assert training_verdict(path, columns) == verdict


def test_large_file_short_row_named_as_compute_names_it(tmp_path: Path) -> None:
    """Over 1 MiB compute parses in chunks; the line named is the same."""
    rows = "".join(f"{i},{i % 7},{i % 3}\n" for i in range(120_000))
    path = tmp_path / "big.csv"
    path.write_text("a,b,c\n" + rows + "\n1,2\n" + rows)
    verdict = compute_verdict(path, ["a", "b", "c"])
    assert verdict == f"{path}: {short(120003, 'c', 2)}"
    assert training_verdict(path, ["a", "b", "c"]) == verdict


@pytest.mark.parametrize(
    "text",
    [
        "x,color,label\n1.5,red,yes\n2,  blue ,no\n",
        'x,color,label\n1.5,"red",yes\n"2","blue, dark","no"\n',
        "x,color,label\r\n1.5,red,yes\r\n\r\n2,blue,no\r\n",
        '"x","color","label"\n"1.5","say ""hi""","yes"\n',
        "\ufeffx,color,label\n1.5,r\u00e9d,yes\n \n2,\u00a0blue\u00a0,no",
        "x,color,label\n1.5,red,yes\n\n\n2,,no\n",
    ],
)
def test_cells_are_the_csv_modules_stripped(tmp_path: Path, text: str) -> None:
    """However a file is read, its cells are what the csv module reads there, stripped, as str."""
    import csv

    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    header = [cell.strip() for cell in rows[0]]
    kept = [(n, row) for n, row in enumerate(rows[1:], start=2)
            if row and not (len(row) == 1 and not row[0].strip())]
    table = read_table(str(path))
    assert table.columns == header
    for j, column in enumerate(header):
        cells = table.frame[column].to_numpy()
        assert cells.dtype == object
        assert cells.tolist() == [row[j].strip() for _, row in kept]
    assert table.lines.tolist() == [n for n, _ in kept]
    assert table.lines.dtype == np.int64
    slow = nn_data._read_records(str(path), path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
    pd.testing.assert_frame_equal(table.frame, slow.frame)
    assert table.lines.tolist() == slow.lines.tolist()


@pytest.mark.parametrize(
    "text",
    [
        "x,color\n1,red\n2,blue\n",
        "x,color\r\n1,red\r\n\r\n2,blue",
        '"x","color"\n"1","red"\n"2","say ""hi"""\n',
        "x,color\n1, red \n\n \n2,blue\n",
    ],
)
def test_files_of_one_line_records_take_the_fast_way(text: str) -> None:
    assert nn_data._read_plain("t.csv", text.encode()) is not None


def drug_rows(extra: str) -> str:
    lines = Path(DRUG).read_text().splitlines()
    return "\n".join(lines[:30] + [extra] + lines[30:60]) + "\n"


SHORT = "71", "line 31, column side_effects: missing (the row has 1 of the header's 2 fields)"
LONG = "71,1,9", "line 31: has 3 fields but the header has 2"


@pytest.fixture(scope="module")
def drug_model(train_drug_model) -> str:
    return train_drug_model(1)


def _fail(capsys, argv: list[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code), capsys.readouterr().err


@pytest.mark.parametrize("row", [SHORT, LONG], ids=["short", "long"])
@pytest.mark.parametrize("nan", [[], ["--nan", "drop"], ["--nan", "error"]], ids=["default", "drop", "error"])
def test_train_predict_evaluate_reject_rows_of_the_wrong_width(
    capsys, tmp_path: Path, drug_model: str, row: tuple[str, str], nan: list[str]
) -> None:
    cells, message = row
    path = tmp_path / "d.csv"
    path.write_text(drug_rows(cells))
    expected = (1, f"lossctl: error: {path}: {message}\n")
    assert _fail(capsys, ["train", str(path), "--epochs", "1", "-q", *nan]) == expected
    assert _fail(capsys, ["train", DRUG, "--val", str(path), "--epochs", "1", "-q", *nan]) == expected
    assert _fail(capsys, ["predict", drug_model, str(path), *nan]) == expected
    assert _fail(capsys, ["evaluate", drug_model, str(path), *nan]) == expected


def test_predict_without_the_target_column_rejects_a_short_row(capsys, tmp_path: Path,
                                                               drug_model: str) -> None:
    path = tmp_path / "ages.csv"
    path.write_text("age,note\n30,a\n40\n50,c\n")
    assert _fail(capsys, ["predict", drug_model, str(path), "--nan", "drop"]) == (
        1, f"lossctl: error: {path}: line 3, column note: missing (the row has 1 of the header's 2 fields)\n")


def test_blank_lines_are_skipped_and_lines_named_right(capsys, tmp_path: Path, drug_model: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text("age,side_effects\n\n30,0\n   \n40,1\n\n50,\n60,1\n")
    assert _fail(capsys, ["predict", drug_model, str(path)]) == (
        1, f"lossctl: error: {path}: line 7, column side_effects: empty cell "
           "(use --nan drop to skip rows with empty cells)\n")
    result = runner.invoke(app, ["predict", drug_model, str(path), "--nan", "drop"])
    assert result.exit_code == 0, result.output
    assert [line.split(",")[-1] for line in result.stdout.splitlines()] == ["y_true", "0", "1", "1"]


# -- the vectorized encoders against the loops they replaced -----------------------------------

def reference_encode(feature: Feature, table: Table) -> np.ndarray:
    if feature.kind == "numeric":
        return ((nn_data.numbers(table, feature.name) - feature.mean) / feature.std)[:, None]
    values = table.frame[feature.name].to_numpy()
    index = {level: i for i, level in enumerate(feature.levels)}
    out = np.zeros((len(values), len(feature.levels)), dtype=np.float64)
    for row, value in enumerate(values):
        j = index.get(value)
        if j is not None:
            out[row, j] = 1.0
    return out


def reference_targets(prep: Preprocessor, table: Table) -> np.ndarray:
    if prep.task == "regression":
        return nn_data.numbers(table, prep.target)
    index = {label: i for i, label in enumerate(prep.classes)}
    values = table.frame[prep.target].to_numpy()
    out = np.empty(len(values), dtype=np.int64)
    for row, value in enumerate(values):
        if value not in index:
            raise DataError(
                f"{table.name}: line {table.lines[row]}, column {prep.target}: class "
                f"{value!r} was not in the training data ({', '.join(prep.classes)})"
            )
        out[row] = index[value]
    return out


def make_table(columns: dict[str, list], lines: list[int] | None = None) -> Table:
    frame = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in columns.items()})
    n = len(frame)
    return Table("t.csv", frame, np.array(lines or range(2, n + 2), dtype=np.int64))


def outcome(function, *args):
    try:
        return function(*args)
    except DataError as error:
        return str(error)


def assert_same(got, expected) -> None:
    if isinstance(expected, str):
        assert got == expected
        return
    assert isinstance(got, np.ndarray)
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    assert got.flags.c_contiguous == expected.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)


CATEGORY_CASES = {
    "seen and unseen": (("blue", "red"), ["red", "blue", "green", "red", ""]),
    "numbers as text": (("1", "10", "2"), ["10", "1.0", "01", "2", "1", " 1"]),
    "case matters": (("No", "yes"), ["no", "No", "YES", "yes"]),
    "NaN and None as today": (("a", "nan"), ["nan", float("nan"), None, "NaN", "a"]),
    "no rows": (("a", "b"), []),
    "one level": (("only",), ["only", "other"]),
    "no levels": ((), ["a", "b"]),
}


@pytest.mark.parametrize("case", list(CATEGORY_CASES))
def test_encode_matches_the_loop(case: str) -> None:
    levels, values = CATEGORY_CASES[case]
    feature = Feature("color", "categorical", levels=levels)
    table = make_table({"color": values})
    assert_same(feature.encode(table), reference_encode(feature, table))


def test_encode_matches_the_loop_on_many_rows() -> None:
    rng = np.random.default_rng(1)
    words = np.array([f"w{i}" for i in range(40)], dtype=object)
    feature = Feature("word", "categorical", levels=tuple(sorted(words[:30])))
    table = make_table({"word": list(rng.choice(words, size=5000))})
    assert_same(feature.encode(table), reference_encode(feature, table))


LABEL_CASES = {
    "text labels": (("no", "yes"), ["yes", "no", "no"], [2, 3, 4]),
    "unseen text label": (("no", "yes"), ["yes", "no", "maybe", "nope"], [2, 5, 9, 12]),
    "numeric labels, numeric order": (("2", "10"), ["10", "2", "10"], None),
    "numeric-looking unseen": (("2", "10"), ["10", "10.0", "2"], [2, 4, 7]),
    "label with spaces": (("a b", "c"), ["c", "a b", "a  b"], None),
    "NaN label as today": (("a", "b"), ["a", float("nan"), "b"], None),
    "None label as today": (("a", "b"), ["a", "b", None], None),
    "'nan' is a label": (("a", "nan"), ["nan", "a"], None),
    "no rows": (("a", "b"), [], None),
}


@pytest.mark.parametrize("case", list(LABEL_CASES))
def test_targets_match_the_loop(case: str) -> None:
    classes, values, lines = LABEL_CASES[case]
    prep = Preprocessor([], "label", "multiclass" if len(classes) > 2 else "binary", classes)
    table = make_table({"label": values}, lines)
    assert_same(outcome(prep.targets, table), outcome(reference_targets, prep, table))


def test_targets_match_the_loop_on_many_rows() -> None:
    rng = np.random.default_rng(2)
    classes = tuple(f"c{i}" for i in range(12))
    prep = Preprocessor([], "label", "multiclass", classes)
    table = make_table({"label": list(rng.choice(np.array(classes, dtype=object), size=5000))})
    assert_same(prep.targets(table), reference_targets(prep, table))
    table.frame.loc[4321, "label"] = "c99"
    table.frame.loc[4400, "label"] = "c98"
    expected = outcome(reference_targets, prep, table)
    assert "line 4323, column label: class 'c99' was not in the training data" in expected
    assert outcome(prep.targets, table) == expected


def test_inputs_of_a_file_match_the_loops(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("x,color,label\n1.5,red,yes\n2,blue,no\n-1,green,yes\n0,red,no\n")
    table = read_table(str(path))
    prep = nn_data.fit_preprocessor(table.take(np.array([0, 1])), "label", "binary")
    expected = np.hstack([reference_encode(f, table) for f in prep.features])
    assert_same(prep.inputs(table), expected)
    assert_same(prep.targets(table), reference_targets(prep, table))
