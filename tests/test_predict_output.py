"""`lossctl predict` output: the text a row-by-row csv.writer would write (numbers as the one
writer prints them), streamed a block of rows at a time through `io.writer`, and with --output a
whole file or none (never half of one)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

from lossctl.cli import app, main
from lossctl.errors import DataError
from lossctl.io import writer
from lossctl.io.atomic import open_atomic, open_text_atomic
from lossctl.io.reader import open_table
from lossctl.io.writer import number_text
from lossctl.nn import modelfile, targets
from lossctl.nn.data import Preprocessor, read_rows
from lossctl.nn.predict import write_predictions
from lossctl.nn.train import predict_raw

ROOT = Path(__file__).resolve().parent.parent
DRUG = str(ROOT / "sample_data" / "drug_trial.csv")
DRUG_TEST = str(ROOT / "sample_data" / "drug_trial_test.csv")
HOUSING = str(ROOT / "sample_data" / "housing.csv")
runner = CliRunner()

# values whose repr is long, short, signed zero, tiny, huge or not finite
ODD = [0.1, -0.0, 5e-324, 1e16, 1.5e-05, 123456.78125, np.inf, -np.inf, np.nan, 1 / 3]
# labels csv.writer must quote (comma, quote, line break) and ones it must not
LABELS = ("a,b", 'say "hi"', "two\nlines", "plain", " spaced ")


def row_by_row(saved, out: np.ndarray, y: np.ndarray | None) -> str:
    """csv.writer, one row at a time, each number as `number_text` prints it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    prep = saved.prep
    if prep.task == "regression":
        writer.writerow(["y_pred"] + (["y_true"] if y is not None else []))
        for i in range(len(out)):
            writer.writerow([number_text(out[i, 0])] + ([number_text(y[i])] if y is not None else []))
        return buffer.getvalue()
    act = saved.model.output_activation.name
    probs, index = targets.probabilities(out, act), targets.predicted_index(out, act)
    writer.writerow(["y_pred"] + [f"p_{j}" for j in range(len(prep.classes))]
                    + (["label_true", "y_true"] if y is not None else []))
    for i in range(len(out)):
        row = [prep.classes[index[i]]] + [number_text(p) for p in probs[i]]
        if y is not None:
            row += [prep.classes[y[i]], str(int(y[i]))]
        writer.writerow(row)
    return buffer.getvalue()


def fake_model(task: str, classes: tuple[str, ...] = (), activation: str = "linear"):
    return SimpleNamespace(prep=Preprocessor([], "target", task, classes),
                           model=SimpleNamespace(output_activation=SimpleNamespace(name=activation)))


@pytest.fixture(params=[(3, 0), (1 << 16, 0), (3, 1 << 30)], ids=["arrow_3", "arrow_one", "python_3"])
def block_rows(request, monkeypatch) -> int:
    """Rows per piece, each piece formatted by Arrow or by Python."""
    rows, small = request.param
    monkeypatch.setattr(writer, "ROWS_PER_WRITE", rows)
    monkeypatch.setattr(writer, "SMALL_VALUES", small)
    return rows


def predicted(saved, out: np.ndarray, y: np.ndarray | None) -> str:
    """What predict writes, in blocks of 5 rows, on two threads."""
    stream = io.BytesIO()
    blocks = [(out[i:i + 5], None if y is None else y[i:i + 5]) for i in range(0, len(out), 5)]
    write_predictions(stream, saved, blocks, y is not None, workers=2)
    return stream.getvalue().decode()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("labelled", [True, False])
def test_regression_text_is_the_row_by_row_text(block_rows, dtype, labelled) -> None:
    saved = fake_model("regression")
    out = np.array(ODD, dtype=dtype)[:, None]
    y = np.array(ODD[::-1]) if labelled else None
    assert predicted(saved, out, y) == row_by_row(saved, out, y)


@pytest.mark.parametrize("labelled", [True, False])
def test_softmax_text_is_the_row_by_row_text(block_rows, labelled) -> None:
    saved = fake_model("multiclass", LABELS, "softmax")
    rng = np.random.default_rng(0)
    out = rng.dirichlet(np.ones(len(LABELS)), size=23).astype(np.float32)
    out[4] = [1.0, 0.0, -0.0, 5e-45, 0.0]  # a float32 subnormal
    y = rng.integers(0, len(LABELS), size=len(out)) if labelled else None
    text = predicted(saved, out, y)
    assert text == row_by_row(saved, out, y)
    assert '"a,b"' in text
    assert '"say ""hi"""' in text


def test_sigmoid_binary_text_is_the_row_by_row_text(block_rows) -> None:
    saved = fake_model("binary", ("no", "yes"), "sigmoid")
    out = np.array([[0.25], [0.5], [0.75], [1.0], [0.0], [np.nan], [0.1]], dtype=np.float32)
    y = np.array([0, 1, 1, 1, 0, 0, 1])
    assert predicted(saved, out, y) == row_by_row(saved, out, y)


def test_text_written_out() -> None:
    """The layout itself, spelled out, so that a change on both sides above cannot pass."""
    saved = fake_model("multiclass", ("cat", "a,b", "dog"), "softmax")
    out = np.array([[0.25, 0.5, 0.25], [0.0, 0.0, 1.0]])
    assert predicted(saved, out, np.array([1, 0])) == (
        "y_pred,p_0,p_1,p_2,label_true,y_true\n"
        '"a,b",0.25,0.5,0.25,"a,b",1\n'
        "dog,0,0,1,cat,0\n"
    )
    saved = fake_model("regression")
    assert predicted(saved, np.array([[2.5], [np.inf]], np.float32), None) == (
        "y_pred\n2.5\ninf\n"
    )


@pytest.fixture(scope="module")
def drug_model(train_drug_model) -> str:
    return train_drug_model(3)


def expected_cli_text(model: str, data: str) -> str:
    """The whole file read at once, predicted at once, written row by row."""
    saved = modelfile.load(model)
    with open_table(data) as table:
        numeric, text, labelled = saved.prep.request(table.name, table.header)
        rows = read_rows(table, numeric, text)
    out = predict_raw(saved.model, saved.prep.inputs(rows))
    return row_by_row(saved, out, saved.prep.targets(rows) if labelled else None)


def test_cli_stdout_and_file_are_the_row_by_row_text(drug_model: str, tmp_path: Path,
                                                      monkeypatch, reader: str) -> None:
    """Read in blocks of a few rows (the arrow reader's tiny chunks) or whole, predicted and written
    block by block: the text of the whole file predicted at once."""
    monkeypatch.setattr(writer, "ROWS_PER_WRITE", 64)  # 400 rows: several pieces
    expected = expected_cli_text(drug_model, DRUG_TEST)
    result = runner.invoke(app, ["predict", drug_model, DRUG_TEST])
    assert result.exit_code == 0, result.output
    assert result.stdout == expected
    target = tmp_path / "p.csv"
    assert runner.invoke(app, ["predict", drug_model, DRUG_TEST, "-o", str(target)]).exit_code == 0
    assert target.read_bytes() == expected.encode()
    model = str(tmp_path / "h.npz")
    assert runner.invoke(app, ["train", HOUSING, "--epochs", "2", "--save", model, "-q"]).exit_code == 0
    result = runner.invoke(app, ["predict", model, HOUSING])
    assert result.stdout == expected_cli_text(model, HOUSING)


def test_evaluate_in_blocks_is_evaluate_whole(drug_model: str, monkeypatch) -> None:
    """Scores added block by block (running sums, as compute keeps them) equal those of the whole."""
    whole = runner.invoke(app, ["evaluate", drug_model, DRUG_TEST, "--metrics", "accuracy,mse"])
    from lossctl.io import table as table_module

    monkeypatch.setattr(table_module, "SMALL_BYTES", 8)
    monkeypatch.setattr(table_module, "BLOCK_BYTES", 64)
    blocks = runner.invoke(app, ["evaluate", drug_model, DRUG_TEST, "--metrics", "accuracy,mse"])
    assert whole.exit_code == blocks.exit_code == 0, whole.output + blocks.output
    got = dict(line.split(",") for line in blocks.stdout.splitlines()[1:])
    expected = dict(line.split(",") for line in whole.stdout.splitlines()[1:])
    assert got.keys() == expected.keys()
    for name in expected:
        assert float(got[name]) == pytest.approx(float(expected[name]), rel=1e-12), name


def fail_on_second_block(monkeypatch, error: BaseException, seen: list[str], folder: Path) -> None:
    """writer.format_rows raises when asked for the second piece of rows; by then the first piece
    has been written (to stdout, or to the temporary file, which is recorded in `seen`): one
    thread, so that the pieces are formatted one after the other."""
    real = writer.format_rows
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            seen.extend(p.name for p in folder.iterdir() if p.stat().st_size > 0)
            raise error
        return real(*args, **kwargs)

    monkeypatch.setenv("LOSSCTL_THREADS", "1")
    monkeypatch.setattr(writer, "ROWS_PER_WRITE", 100)
    monkeypatch.setattr(writer, "format_rows", failing)


@pytest.mark.parametrize(
    ("error", "code"),
    [(KeyboardInterrupt(), 130), (DataError("bad"), 1), (OSError(28, "No space left on device"), 1)],
    ids=["ctrl_c", "lossctl_error", "os_error"],
)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "replacing"])
def test_output_is_whole_or_absent(drug_model: str, tmp_path: Path, monkeypatch, capsys,
                                   error, code, existing) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "pred.csv"
    if existing:
        target.write_text("old predictions\n")
    seen: list[str] = []
    fail_on_second_block(monkeypatch, error, seen, folder)
    argv = ["predict", drug_model, DRUG_TEST, "-o", str(target)]
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == code
    out, err = capsys.readouterr()
    assert out == ""
    if isinstance(error, OSError):  # a system error is a one-line error naming the file
        assert err == f"lossctl: error: {target}: cannot write: No space left on device\n"
    assert any(name.startswith(".lossctl-") for name in seen)  # half of it was on disk...
    assert [p.name for p in folder.iterdir()] == (["pred.csv"] if existing else [])  # ...not now
    if existing:
        assert target.read_text() == "old predictions\n"


def test_stdout_streams_block_by_block(drug_model: str, tmp_path: Path, monkeypatch, capsys) -> None:
    fail_on_second_block(monkeypatch, KeyboardInterrupt(), [], tmp_path)
    with pytest.raises(SystemExit) as done:
        main(["predict", drug_model, DRUG_TEST])
    assert done.value.code == 130
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "y_pred,p_0,p_1,label_true,y_true"
    assert len(lines) == 1 + 100  # the header and the first block went out before the failure


def test_closed_pipe_ends_quietly(drug_model: str) -> None:
    command = f"{sys.executable} -m lossctl predict {drug_model} {DRUG_TEST} | head -n 2"
    done = subprocess.run(command, shell=True, capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.splitlines()[0] == "y_pred,p_0,p_1,label_true,y_true"
    assert done.stderr == ""


def write_then_fail(opener, path: str, data, error: BaseException) -> None:
    with opener(path) as handle:
        handle.write(data)
        handle.flush()
        raise error


def test_open_atomic(tmp_path: Path) -> None:
    target = tmp_path / "f.bin"
    with open_atomic(str(target)) as handle:
        handle.write(b"first ")
        assert not target.exists()
        handle.write(b"second\n")
    assert target.read_bytes() == b"first second\n"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    with pytest.raises(ValueError, match="stop"):
        write_then_fail(open_atomic, str(target), b"half", ValueError("stop"))
    assert target.read_bytes() == b"first second\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_open_text_atomic_keeps_newlines_and_utf8(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    with open_text_atomic(str(target)) as handle:
        handle.write("é,1\r\n")
        handle.write("b,2\n")
    assert target.read_bytes() == "é,1\r\nb,2\n".encode()
    with pytest.raises(KeyboardInterrupt):
        write_then_fail(open_text_atomic, str(target), "partial", KeyboardInterrupt())
    assert target.read_bytes() == "é,1\r\nb,2\n".encode()
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]
