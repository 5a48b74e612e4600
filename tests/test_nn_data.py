"""Training data (lossctl.nn.data): train, predict and evaluate read through the one reader, with
its errors; the vectorized encoders checked against the plain loops they replaced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lossctl.cli import app, main
from lossctl.errors import DataError
from lossctl.io.block import Block
from lossctl.io.reader import open_table
from lossctl.nn import data as nn_data
from lossctl.nn.data import Feature, Preprocessor, Rows

ROOT = Path(__file__).resolve().parent.parent
DRUG = str(ROOT / "sample_data" / "drug_trial.csv")
runner = CliRunner()


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

def reference_encode(feature: Feature, table: Rows) -> np.ndarray:
    if feature.kind == "numeric":
        return ((table.number(feature.name) - feature.mean) / feature.std)[:, None]
    values = table.text(feature.name)
    index = {level: i for i, level in enumerate(feature.levels)}
    out = np.zeros((len(values), len(feature.levels)), dtype=np.float64)
    for row, value in enumerate(values):
        j = index.get(value)
        if j is not None:
            out[row, j] = 1.0
    return out


def reference_targets(prep: Preprocessor, table: Rows) -> np.ndarray:
    if prep.task == "regression":
        return nn_data.numbers(table, prep.target)
    index = {label: i for i, label in enumerate(prep.classes)}
    values = table.text(prep.target)
    out = np.empty(len(values), dtype=np.int64)
    numeric = all(_is_number(c) for c in prep.classes)
    hint = f"; if {prep.target} is a quantity, not a class, give --task regression" if numeric else ""
    for row, value in enumerate(values):
        if value not in index:
            raise DataError(
                f"{table.name}: line {table.block.lines[row]}, column {prep.target}: class "
                f"{value!r} was not in the training data ({', '.join(prep.classes)}){hint}"
            )
        out[row] = index[value]
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def make_table(columns: dict[str, list], lines: list[int] | None = None) -> Rows:
    """Rows of text columns, as the reader gives them."""
    text = {name: np.array(values, dtype=object) for name, values in columns.items()}
    n = len(next(iter(text.values())))
    lines_ = np.array(lines or range(2, n + 2), dtype=np.int64)
    return Rows("t.csv", Block(np.empty((n, 0)), lines_, text, "t.csv"), [])


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
    table.text("label")[4321] = "c99"
    table.text("label")[4400] = "c98"
    expected = outcome(reference_targets, prep, table)
    assert "line 4323, column label: class 'c99' was not in the training data" in expected
    assert outcome(prep.targets, table) == expected


def test_inputs_of_a_file_match_the_loops(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("x,color,label\n1.5,red,yes\n2,blue,no\n-1,green,yes\n0,red,no\n")
    with open_table(str(path)) as source:
        table = nn_data.read_rows(source, ["x"], ["color", "label"])
    prep = nn_data.fit_preprocessor(table.take(np.array([0, 1])), ["x", "color", "label"], "label", "binary")
    expected = np.hstack([reference_encode(f, table) for f in prep.features])
    assert_same(prep.inputs(table), expected)
    assert_same(prep.targets(table), reference_targets(prep, table))


# -- feature kinds over every row, through the reader's guessed columns -----------------------

def training_rows(path: Path) -> nn_data.Rows:
    with open_table(str(path)) as table:
        features = [c for c in table.header if c != "label"]
        return nn_data.read_training(table, features, "label")


def test_feature_kinds_are_decided_over_every_row(tmp_path: Path, reader: str) -> None:
    """A column of numbers whose later rows hold text: categorical when text is most of it (its
    cells read as numbers then written as the writer prints them), numeric otherwise."""
    path = tmp_path / "t.csv"
    rows = ["1.50,a,yes", "2,b,no"] + [f"{k}.0,c{k % 3},yes" for k in range(3, 12)]
    path.write_text("x,code,label\n" + "\n".join(rows) + "\n")
    got = training_rows(path)
    assert got.numeric == ["x"]
    np.testing.assert_array_equal(got.number("x"), [1.5, 2.0] + [float(k) for k in range(3, 12)])
    assert got.text("code").tolist() == ["a", "b"] + [f"c{k % 3}" for k in range(3, 12)]
    mixed = tmp_path / "m.csv"
    mixed.write_text("x,label\n" + "".join(f"{k},yes\n" for k in range(3)) + "w,no\n" * 9)
    got = training_rows(mixed)
    assert got.numeric == []
    assert got.text("x").tolist() == ["0", "1", "2"] + ["w"] * 9


def test_a_word_in_a_column_of_numbers_is_an_error_naming_it(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text("x,label\n" + "".join(f"{k},yes\n" for k in range(20)) + "oops,no\n" + "1,no\n")
    with pytest.raises(DataError, match=r"t\.csv: line 22, column x: 'oops' is not a number"):
        training_rows(path)


def test_parquet_trains_predicts_and_evaluates_as_its_csv(tmp_path: Path, drug_model: str) -> None:
    """Parquet works for train, predict and evaluate (they once refused it): the same history,
    predictions and scores as the CSV it was written from."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    test_csv = str(ROOT / "sample_data" / "drug_trial_test.csv")
    for name, source in (("train", DRUG), ("test", test_csv)):
        pq.write_table(pcsv.read_csv(source), tmp_path / f"{name}.parquet")
    outputs = []
    for train, test in ((DRUG, test_csv), (tmp_path / "train.parquet", tmp_path / "test.parquet")):
        history = tmp_path / "history.csv"
        done = runner.invoke(app, ["train", str(train), "--epochs", "2", "-q", "--history", str(history)])
        assert done.exit_code == 0, done.output
        steps = [line.rsplit(",", 1)[0] for line in history.read_text().splitlines()]  # without seconds
        predicted = runner.invoke(app, ["predict", drug_model, str(test)])
        scored = runner.invoke(app, ["evaluate", drug_model, str(test)])
        assert predicted.exit_code == scored.exit_code == 0, predicted.output + scored.output
        outputs.append((steps, predicted.stdout, scored.stdout))
    assert outputs[0] == outputs[1]
