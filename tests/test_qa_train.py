"""Training on the sample files as a new user would: errors that say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from lossctl.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_a_whole_number_target_taken_for_classes_suggests_task_regression(capsys) -> None:
    """regression.csv's y_true (8 whole numbers) is inferred as 8 classes; a class seen only in the
    validation split was an error that did not say the target had been taken for classes."""
    with pytest.raises(SystemExit) as done:
        main(["train", str(ROOT / "sample_data" / "regression.csv"), "--target", "y_true", "--epochs",
              "1", "--quiet"])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "was not in the training data" in err
    assert "if y_true is a quantity, not a class, give --task regression" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("loss", "says"),
    [
        ("paper.smape", "its gradient is for compute --grad and descend"),  # descend uses it
        ("sklearn.mean_squared_error", "it has no gradient"),
    ],
)
def test_a_loss_that_cannot_train_says_why(capsys, loss: str, says: str) -> None:
    """Every untrainable loss said 'it has no usable gradient', paper.* too, whose gradient
    `descend` and `compute --grad` use."""
    with pytest.raises(SystemExit) as done:
        main(["train", str(ROOT / "sample_data" / "housing.csv"), "--loss", loss, "--quiet"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert f"{loss} cannot be trained on: " in err
    assert says in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "torch.multi_margin_loss"])
def test_a_class_index_loss_on_a_regression_target_is_a_usage_error(capsys, loss: str) -> None:
    """It trained a batch and failed with exit 1: 'y_true value 271.79998779296875 is not a class
    index' (housing.csv's 271.8 in float32, no file, no hint)."""
    with pytest.raises(SystemExit) as done:
        main(["train", str(ROOT / "sample_data" / "housing.csv"), "--loss", loss, "--epochs", "1",
              "--quiet"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "takes class indices, but the target price_k is numbers to predict (regression)" in err
    assert err.count("\n") == 1
