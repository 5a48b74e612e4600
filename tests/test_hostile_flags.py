"""Absurd flags and settings: each is a usage error (exit 2, one line) before any work, and a
network that would not fit in memory is refused, with its size, before it is allocated."""

from __future__ import annotations

from pathlib import Path

import pytest

from lossctl.nn import model as mlp

ROOT = Path(__file__).resolve().parent.parent
DRUG = str(ROOT / "sample_data" / "drug_trial.csv")
REGRESSION = str(ROOT / "sample_data" / "regression.csv")
MISSING = str(ROOT / "sample_data" / "no-such-file.csv")  # flags are checked before it is read


def _usage_error(cli, *args: str) -> str:
    code, out, err = cli(*args)
    assert (code, out) == (2, ""), err
    assert err.startswith("lossctl: error: ")
    assert err.count("\n") == 1
    return err.removeprefix("lossctl: error: ").strip()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--seed", "-1"], "--seed must be at least 0, got -1"),
        (["--seed", "-99999999999999999999"], "--seed must be at least 0"),
        (["--epochs", "0"], "--epochs must be at least 1, got 0"),
        (["--batch-size", "-5"], "--batch-size must be at least 1, got -5"),
        (["--patience", "0"], "--patience must be at least 1"),
        (["--lr", "nan"], "--lr must be > 0, got nan"),
        (["--lr", "inf"], "--lr must be > 0, got inf"),
        (["--lr", "-1"], "--lr must be > 0, got -1"),
        (["--weight-decay", "inf"], "--weight-decay must be >= 0, got inf"),
        (["--val-split", "nan"], "--val-split must be in [0, 1), got nan"),
        (["--val-split", "1"], "--val-split must be in [0, 1), got 1"),
        (["--hidden", "16,,32"], "--hidden takes comma-separated layer widths"),
        (["--hidden", "1e3"], "--hidden takes comma-separated layer widths"),
        (["--hidden", "16,0"], "--hidden layer widths must be at least 1"),
        (["--hidden", "-4"], "--hidden layer widths must be at least 1"),
        (["--dtype", "float16"], "--dtype takes one of float32, float64, got 'float16'"),
        (["-p", "delta=nan", "--loss", "huber"], "parameter delta: 'nan' is not a number"),
    ],
)
def test_train_flags_are_usage_errors_before_reading(cli, flags: list[str], message: str) -> None:
    assert message in _usage_error(cli, "train", MISSING, *flags)


@pytest.mark.parametrize(
    ("hidden", "parameters"),
    [("100000,100000", "10,000,400,001"), ("1000000000000", "3,000,000,000,001"),
     ("99999999999999999999999999", "299,999,999,999,999,999,999,999,998"),
     (",".join(["20000"] * 30), "11,600,640,001")],
)
def test_a_network_too_large_for_memory_is_refused_before_reading(cli, hidden: str,
                                                                   parameters: str) -> None:
    message = _usage_error(cli, "train", MISSING, "--hidden", hidden)
    shown = hidden if len(hidden) <= 40 else hidden[:37] + "..."
    assert message.startswith(f"--hidden {shown}: the network needs about ")
    assert f"of memory ({parameters} parameters in float32), more than the " in message
    assert message.endswith(" available")


def test_the_full_network_is_checked_with_its_data_and_batch(cli, monkeypatch) -> None:
    """--hidden 64 passes the check of its widths alone; with the data's 2,048-row passes it needs
    about 2.2 MiB, more than the (pretended) 1 MiB available."""
    monkeypatch.setattr(mlp, "available_memory", lambda: 1 << 20)
    message = _usage_error(cli, "train", DRUG, "--hidden", "64", "--quiet")
    assert message.startswith(f"{DRUG}: 1 inputs: the network needs about 2.2 MiB of memory "
                              "(258 parameters in float32, batches of 2,048 rows), more than the "
                              "1.0 MiB available")
    monkeypatch.setattr(mlp, "available_memory", lambda: 1 << 30)
    code, _, err = cli("train", DRUG, "--hidden", "64", "--quiet", "--epochs", "1")
    assert (code, err) == (0, "")


def test_a_batch_larger_than_the_data_is_the_whole_data(cli) -> None:
    code, _, err = cli("train", DRUG, "--batch-size", "1000000000000", "--epochs", "1",
                        "--quiet")
    assert (code, err) == (0, "")


@pytest.mark.parametrize("value", ["abc", "0", "-1", "100000", "1e3", "٣"])
def test_lossctl_threads_is_checked_before_any_command(cli, monkeypatch, value: str) -> None:
    monkeypatch.setenv("LOSSCTL_THREADS", value)
    message = _usage_error(cli, "compute", "--loss", "mse", REGRESSION)
    assert message == f"LOSSCTL_THREADS={value!r}: give a number of threads from 1 to 256"


@pytest.mark.parametrize("value", ["nan", "NaN", "-nan"])
def test_loss_parameters_are_not_nan(cli, value: str) -> None:
    message = _usage_error(cli, "compute", "--loss", "huber", "-p", f"delta={value}", REGRESSION)
    assert message == f"parameter delta: {value!r} is not a number"
