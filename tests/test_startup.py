"""Start-up stays light: each command imports only what it needs (issue 4).

Timing is left to `benchmarks/`; these tests check the cause of slow start-ups instead, the modules
a command imports, in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "regression.csv"

# Heavy packages and the lossctl parts that commands other than train must not pull in.
HEAVY = ("pandas", "pyarrow", "pydantic", "lossctl.nn", "rich", "dask", "distributed", "lossctl.engine")

_PROBE = """
import json, sys
from lossctl.cli import main
try:
    main(json.loads(sys.argv[1]))
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def imported_by(args: list[str]) -> set[str]:
    """The modules loaded by running `lossctl ARGS` with stdout piped (plain output)."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def heavy(modules: set[str], allowed: tuple[str, ...] = ()) -> set[str]:
    return {
        name
        for name in modules
        for prefix in HEAVY
        if prefix not in allowed and (name == prefix or name.startswith(prefix + "."))
    }


@pytest.mark.parametrize(
    "args",
    [
        ["compute", "--loss", "mse", str(SAMPLE)],
        ["compute", "--loss", "mse,mae", "--format", "json", str(SAMPLE)],
        ["list"],
        ["explain", "huber"],
    ],
)
def test_loss_commands_import_nothing_heavy(args: list[str]) -> None:
    assert heavy(imported_by(args)) == set()


def test_help_needs_rich_but_not_numpy_or_the_trainer() -> None:
    modules = imported_by(["--help"])
    assert heavy(modules, allowed=("rich",)) == set()
    assert "numpy" not in modules


def test_train_help_does_not_load_the_trainer() -> None:
    assert heavy(imported_by(["train", "--help"]), allowed=("rich",)) == set()


@pytest.mark.parametrize(
    "args",
    [
        ["train", "drug_trial.csv", "--val", "drug_trial_test.csv", "--epochs", "1", "--quiet"],
        ["train", "penguins_like.csv", "--target", "species", "--epochs", "1", "--quiet"],
    ],
)
def test_small_train_with_val_or_categories_does_not_import_pandas(args: list[str]) -> None:
    """A small file's class labels and categories are looked up without pandas (0.3-0.6 s)."""
    data = SAMPLE.parent
    modules = imported_by([str(data / a) if a.endswith(".csv") else a for a in args])
    assert heavy(modules, allowed=("rich", "lossctl.nn")) == set()
