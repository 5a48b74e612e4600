"""`lossctl compare`: each model's loss, B - A, its paired interval and the permutation test."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from lossctl.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


def write(tmp_path, name: str, header: str, rows) -> str:
    path = tmp_path / name
    path.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return str(path)


def records(out: str) -> list[dict]:
    return json.loads(out)


def test_same_file_twice_is_diff_zero_p_one(tmp_path, capsys):
    path = write(tmp_path, "a.csv", "g,y_true,y_pred", [["x", 1, 1.5], ["y", 2, 2.5], ["x", 3, 2.25]])
    code, out, err = run(capsys, "compare", "-l", "mse,mae", path, path, "--by", "g", "-f", "csv")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "g,loss,a,b,diff,ci_low,ci_high,p_value,method,rows"
    assert lines[1] == "x,keras.mean_squared_error,0.40625,0.40625,0.0,0.0,0.0,1.0,bootstrap,2"
    assert lines[-1] == (",keras.mean_absolute_error,0.5833333333333334,0.5833333333333334,0.0,0.0,0.0,1.0,"
                         "bootstrap,3")


def test_values_diff_and_exact_sign_flip_p_value(tmp_path, capsys):
    """a and b are compute's values; the p-value is near the exact sign-flip test's (all 2^10
    sign patterns of the rows' differences enumerated here)."""
    rng = np.random.default_rng(1)
    y = rng.normal(size=10).round(3)
    pa = (y + rng.normal(size=10)).round(3)
    pb = (y + 0.5 * rng.normal(size=10)).round(3)
    a = write(tmp_path, "a.csv", "y_true,y_pred", zip(y, pa, strict=True))
    b = write(tmp_path, "b.csv", "y_true,y_pred", zip(y, pb, strict=True))
    code, out, _ = run(capsys, "compare", "-l", "mse", a, b, "--bootstrap", "5000", "-f", "json")
    (r,) = records(out)
    value_a = float(run(capsys, "compute", "-l", "mse", a, "-f", "plain")[1])
    value_b = float(run(capsys, "compute", "-l", "mse", b, "-f", "plain")[1])
    assert (code, r["a"], r["b"], r["rows"]) == (0, value_a, value_b, 10)  # compute's numbers
    assert r["diff"] == pytest.approx(value_b - value_a, rel=1e-12)
    assert r["ci_low"] <= r["diff"] <= r["ci_high"]
    d = (pb - y) ** 2 - (pa - y) ** 2
    flips = np.array(list(itertools.product([1, -1], repeat=10)))
    exact = np.mean(np.abs(flips @ d) >= abs(d.sum()) * (1 - 1e-12))
    assert r["p_value"] == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 5000) + 1e-3)


def test_a_clearly_better_model_has_a_small_p_value(tmp_path, capsys):
    rng = np.random.default_rng(2)
    y = rng.normal(size=2000).round(4)
    pa, pb = (y + rng.normal(size=2000)).round(4), (y + 0.8 * rng.normal(size=2000)).round(4)
    a = write(tmp_path, "a.csv", "y_true,y_pred", zip(y, pa, strict=True))
    b = write(tmp_path, "b.csv", "y_true,y_pred", zip(y, pb, strict=True))
    (r,) = records(run(capsys, "compare", "-l", "mse", a, b, "-f", "json")[1])
    assert r["p_value"] == pytest.approx(1 / 1001)
    assert r["ci_high"] < 0


def test_key_pairs_rows_in_any_order(tmp_path, capsys):
    rows = [["r1", 1, 1.5, 1.1], ["r2", 2, 2.5, 2.4], ["r3", 5, 6, 5.5]]
    a = write(tmp_path, "a.csv", "id,y_true,y_pred", [r[:3] for r in rows])
    b = write(tmp_path, "b.csv", "id,y_true,y_pred", [[r[0], r[1], r[3]] for r in reversed(rows)])
    b_sorted = write(tmp_path, "b2.csv", "id,y_true,y_pred", [[r[0], r[1], r[3]] for r in rows])
    by_key = run(capsys, "compare", "-l", "mse", a, b, "--key", "id", "-f", "csv")
    in_order = run(capsys, "compare", "-l", "mse", a, b_sorted, "-f", "csv")
    assert by_key[0] == 0
    assert by_key[1] == in_order[1]


@pytest.mark.parametrize(
    ("a_rows", "b_rows", "args", "message"),
    [
        ([["k1", 1, 1], ["k2", 2, 2]], [["k1", 1, 1]], [],
         "{b} has fewer rows than {a}: {a} line 3 is the first without a partner"),
        ([["k1", 1, 1]], [["k1", 1, 1], ["k2", 2, 2], ["k3", 2, 2]], [],
         "{b} has more rows than {a}: {b} line 3 is the first without a partner"),
        ([["k1", 1, 1], ["k2", 2, 2]], [["k1", 1, 1], ["k2", 3, 2]], [],
         "{a} line 3 and {b} line 3 hold different y_true (2.0 and 3.0): the files do not pair row by "
         "row (pair them by an id column with --key?)"),
        ([["k1", 1, 1], ["k2", 2, 2]], [["k1", 1, 1], ["k3", 2, 2]], ["--key", "id"],
         "{a}: line 3, column id: key 'k2' is not in {b}"),
        ([["k1", 1, 1], ["k1", 2, 2]], [["k1", 1, 1], ["k2", 2, 2]], ["--key", "id"],
         "{a}: line 3, column id: key 'k1' appears twice"),
        ([["k1", 1, 1]], [["k1", 1, 1], ["k1", 2, 2]], ["--key", "id"],
         "{b}: line 3, column id: key 'k1' appears twice"),
        ([["k1", 1, 1]], [["k1", 1, 1], ["k2", 2, 2]], ["--key", "id"],
         "{b}: line 3, column id: key 'k2' is not in {a}"),
    ],
)
def test_files_that_do_not_pair_are_data_errors(tmp_path, capsys, a_rows, b_rows, args, message):
    a = write(tmp_path, "a.csv", "id,y_true,y_pred", a_rows)
    b = write(tmp_path, "b.csv", "id,y_true,y_pred", b_rows)
    code, out, err = run(capsys, "compare", "-l", "mse", a, b, *args)
    assert (code, out, err) == (1, "", f"lossctl: error: {message.format(a=a, b=b)}\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-l", "keras.dice"], "keras.dice: it is not a mean of per-row terms"),
        (["-l", "mse", "--key", "nope"], "--key: {a} has no column 'nope' (columns: id, y_true, y_pred)"),
        (["-l", "mse", "--bootstrap", "10"], "--bootstrap takes at least 100 replicates, got 10"),
        (["-l", "mse", "--ci", "2"], "--ci takes a confidence level between 0 and 1 (exclusive), got 2.0"),
        (["-l", "mse", "-r", "none"], "--by and --ci reduce rows: they take a reduction other than none"),
    ],
)
def test_usage_errors(tmp_path, capsys, args, message):
    a = write(tmp_path, "a.csv", "id,y_true,y_pred", [["k1", 1, 0.5], ["k2", 0, 0.25]])
    code, out, err = run(capsys, "compare", a, a, *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"lossctl: error: {message.format(a=a)}")
