"""Hostile CSV shapes, the same on the small-file path (the csv module) and the large one (chunks
through pyarrow, over 1 MiB): CR-only line ends, cells and headers over 128 KiB, a quoted header
cell with a line break, and a line longer than the longest lossctl reads (bounded memory)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lossctl.io.chunks import MAX_LINE_BYTES

ROOT = Path(__file__).resolve().parent.parent
BIG_ROWS = 150_000  # about 1.2 MB: the large path
SIZES = {"small": 20, "large": BIG_ROWS}


def _rows(n: int, end: str = "\n") -> str:
    return "".join(f"{i % 7},{(i % 5) / 2}{end}" for i in range(n))


def _expected(n: int) -> float:
    return sum((i % 7 - (i % 5) / 2) ** 2 for i in range(n)) / n


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode())
    return str(path)


@pytest.mark.parametrize("size", SIZES)
def test_cr_only_line_ends(tmp_path: Path, cli, size: str) -> None:
    n = SIZES[size]
    path = _write(tmp_path, "y_true,y_pred\r" + _rows(n, "\r"))
    code, out, err = cli("compute", "--loss", "mse", path)
    assert (code, err) == (0, "")
    assert float(out) == pytest.approx(_expected(n), rel=1e-12)
    bad = _write(tmp_path, "y_true,y_pred\r" + _rows(n - 5, "\r") + "1,abc\r" + _rows(4, "\r"))
    code, _, err = cli("compute", "--loss", "mse", bad)
    assert (code, err) == (1, f"lossctl: error: {bad}: line {n - 3}, column y_pred: 'abc' is not a number\n")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("where", ["cell", "header"])
def test_cells_and_headers_over_128_kib(tmp_path: Path, cli, size: str, where: str) -> None:
    n = SIZES[size]
    huge = "x" * 200_000
    header = f"{huge if where == 'header' else 'id'},y_true,y_pred\n"
    cell = huge if where == "cell" else "a"
    path = _write(tmp_path, header + f"{cell},1,1\n" + "".join(f"a,{r}" for r in _rows(n).splitlines(True)))
    code, out, err = cli("compute", "--loss", "mse", path)
    assert (code, err) == (0, "")
    assert float(out) == pytest.approx(_expected(n) * n / (n + 1), rel=1e-12)


@pytest.mark.parametrize("size", SIZES)
def test_a_quoted_header_cell_with_a_line_break(tmp_path: Path, cli, size: str) -> None:
    n = SIZES[size]
    path = _write(tmp_path, '"y\ntrue",y_pred\n' + _rows(n - 3) + "1,zz\n" + _rows(2))
    code, _, err = cli("compute", "--loss", "mse", "--true", "y\ntrue", "--pred", "y_pred", path)
    assert code == 1
    assert err == f"lossctl: error: {path}: line {n}, column y_pred: 'zz' is not a number\n"
    good = _write(tmp_path, '"y\ntrue",y_pred\n' + _rows(n))
    code, out, err = cli("compute", "--loss", "mse", "--true", "y\ntrue", "--pred", "y_pred", good)
    assert (code, err) == (0, "")
    assert float(out) == pytest.approx(_expected(n), rel=1e-12)


def test_a_line_longer_than_the_limit_names_it(tmp_path: Path, cli) -> None:
    path = _write(tmp_path, "id,y_true,y_pred\n" + "a,1,2\n" * 200_000 + "x" * (MAX_LINE_BYTES + 10)
                  + ",1,2\n" + "a,1,2\n")
    code, _, err = cli("compute", "--loss", "mse", path)
    assert code == 1
    assert err == (f"lossctl: error: {path}: line 200002 is longer than {MAX_LINE_BYTES >> 20} MiB, "
                   "the longest line lossctl reads\n")


@pytest.mark.skipif(not hasattr(os, "wait4"), reason="measures memory with os.wait4")
def test_an_endless_line_on_stdin_is_refused_in_bounded_memory(lossctl_peak) -> None:
    def feed(stdin) -> None:  # a header, a row, then x for ever (until lossctl stops reading)
        try:
            stdin.write(b"y_true,y_pred\n1,2\n")
            while True:
                stdin.write(b"x" * (1 << 20))
        except (BrokenPipeError, OSError, ValueError):
            pass

    code, err, peak = lossctl_peak("compute", "--loss", "mse", "-", feed=feed)
    assert code == 1
    assert err == (f"lossctl: error: <stdin>: line 3 is longer than {MAX_LINE_BYTES >> 20} MiB, "
                   "the longest line lossctl reads\n")
    assert peak < 300
