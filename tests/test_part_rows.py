"""Per-row output of an input read from several parts (a folder, a glob, several FILE arguments)
names each row's part file in csv and json: its line alone would restart in each part. One file,
and plain output, print as they always have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PARTS = {"a.csv": "y_true,y_pred\n1,1.5\n2,2\n", "b.csv": "y_true,y_pred\n3,1\n0,0.5\n4,4\n"}
# (part, line, squared error, gradient of the mean: 2 * (p - t) / 5)
ROWS = [("a.csv", 2, "0.25", "0.2"), ("a.csv", 3, "0", "0"), ("b.csv", 2, "4", "-0.8"),
        ("b.csv", 3, "0.25", "0.2"), ("b.csv", 4, "0", "0")]


@pytest.fixture(params=["python", "arrow"])
def formatter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Format the rows in Python (few cells) and by Arrow (many), forced by a limit of none."""
    if request.param == "arrow":
        from lossctl.io import writer

        monkeypatch.setattr(writer, "SMALL_VALUES", 0)
    return request.param


def parts(folder: Path) -> Path:
    folder.mkdir()
    for name, text in PARTS.items():
        (folder / name).write_text(text)
    return folder


def inputs(folder: Path, shape: str) -> list[str]:
    return {"folder": [str(folder)], "glob": [str(folder / "*.csv")],
            "files": [str(folder / name) for name in PARTS]}[shape]


@pytest.mark.parametrize("shape", ["folder", "glob", "files"])
def test_csv_rows_name_their_part(cli, tmp_path: Path, reader, formatter, shape: str) -> None:
    folder = parts(tmp_path / "parts")
    code, out, err = cli("compute", "-l", "mse", "-r", "none", "--format", "csv", *inputs(folder, shape))
    assert (code, err) == (0, "")
    assert out == "file,line,keras.mean_squared_error\n" + "".join(
        f"{folder / name},{line},{value}\n" for name, line, value, _ in ROWS)


def test_json_rows_name_their_part(cli, tmp_path: Path, reader, formatter) -> None:
    folder = parts(tmp_path / "parts")
    code, out, _ = cli("compute", "-l", "mse", "-r", "none", "--format", "json", str(folder))
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {"file": str(folder / name), "line": line, "keras.mean_squared_error": float(value)}
        for name, line, value, _ in ROWS]


def test_gradient_rows_name_their_part_and_line(cli, tmp_path: Path, formatter) -> None:
    folder = parts(tmp_path / "parts")
    code, out, _ = cli("compute", "-l", "mse", "--grad", "--format", "csv", str(folder))
    assert code == 0
    assert out == "file,line,grad_y_pred\n" + "".join(
        f"{folder / name},{line},{grad}\n" for name, line, _, grad in ROWS)
    code, out, _ = cli("compute", "-l", "mse", "--grad", "--format", "json", str(folder))
    assert code == 0
    assert json.loads(out) == [[str(folder / name), line, float(grad)] for name, line, _, grad in ROWS]


def test_batchwise_rows_name_their_part(cli, tmp_path: Path) -> None:
    """A loss that reads every row first (Keras dice with axis=1) joins the parts into one block:
    each row keeps its part."""
    folder = parts(tmp_path / "parts")
    code, out, _ = cli("compute", "-l", "keras.dice", "-p", "axis=1", "-r", "none", "--format", "csv",
                       str(folder))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "file,line,keras.dice"
    assert [tuple(row.split(",")[:2]) for row in lines[1:]] == [
        (str(folder / name), str(line)) for name, line, _, _ in ROWS]


def test_a_part_name_is_quoted_as_csv_and_json_need(cli, tmp_path: Path, formatter) -> None:
    folder = parts(tmp_path / 'odd, "name"')
    code, out, _ = cli("compute", "-l", "mse", "-r", "none", "--format", "csv", str(folder))
    assert code == 0
    quoted = '"' + str(folder / "a.csv").replace('"', '""') + '"'
    assert out.splitlines()[1] == f"{quoted},2,0.25"
    code, out, _ = cli("compute", "-l", "mse", "-r", "none", "--format", "json", str(folder))
    assert json.loads(out.splitlines()[0])["file"] == str(folder / "a.csv")


@pytest.mark.parametrize("args", [["-r", "none"], ["--grad"]])
def test_plain_rows_stay_numbers(cli, tmp_path: Path, args: list[str]) -> None:
    folder = parts(tmp_path / "parts")
    code, out, _ = cli("compute", "-l", "mse", *args, "--format", "plain", str(folder))
    assert code == 0
    assert out == "".join((grad if "--grad" in args else value) + "\n" for _, _, value, grad in ROWS)


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("args", [["-r", "none"], ["--grad"]])
def test_one_part_prints_as_one_file(cli, tmp_path: Path, fmt: str, args: list[str]) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "a.csv").write_text(PARTS["a.csv"])
    alone = cli("compute", "-l", "mse", *args, "--format", fmt, str(folder / "a.csv"))
    assert alone[0] == 0
    assert "file" not in alone[1]
    assert cli("compute", "-l", "mse", *args, "--format", fmt, str(folder)) == alone
