"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossctl.cli import app

DRUG = str(Path(__file__).resolve().parent.parent / "sample_data" / "drug_trial.csv")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """`cli(*args)`: lossctl run in-process through main(), which maps errors to exit codes;
    returns (exit code, stdout, stderr)."""
    from lossctl.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as done:
            main(list(args))
        out, err = capsys.readouterr()
        return done.value.code, out, err

    return run


@pytest.fixture(scope="session")
def train_drug_model(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], str]:
    """`train_drug_model(epochs)`: the path of a model trained on sample_data/drug_trial.csv for
    that many epochs (trained once per session and number of epochs)."""
    made: dict[int, str] = {}

    def train(epochs: int) -> str:
        if epochs not in made:
            path = str(tmp_path_factory.mktemp("model") / "drug.npz")
            result = CliRunner().invoke(app, ["train", DRUG, "--epochs", str(epochs), "--save", path, "-q"])
            assert result.exit_code == 0, result.output
            made[epochs] = path
        return made[epochs]

    return train


@pytest.fixture(params=["stdlib", "arrow"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test on both paths of the CSV reader: the csv module (small inputs), and pyarrow,
    forced by a tiny small-file limit, with tiny chunks that make every few records a chunk."""
    if request.param == "arrow":
        from lossctl.io import table as table_module

        monkeypatch.setattr(table_module, "SMALL_BYTES", 8)
        monkeypatch.setattr(table_module, "BLOCK_BYTES", 16)
    return request.param
