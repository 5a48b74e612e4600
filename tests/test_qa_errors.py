"""Errors of the newer families name the file, line and column, as the README promises."""

from __future__ import annotations

from pathlib import Path

import pytest

from lossctl.cli import main


@pytest.mark.parametrize(
    ("loss", "text", "where", "message"),
    [
        ("sklearn.mean_poisson_deviance", "y_true,y_pred\n1,2\n3,-1\n", "line 3, column y_pred",
         "strictly positive y_pred"),
        ("sklearn.mean_gamma_deviance", "y_true,y_pred\n1,2\n-3,1\n", "line 3, column y_true",
         "strictly positive y and y_pred"),
        ("sklearn.mean_tweedie_deviance", "y_true,y_pred\n1,2\n3,0\n", "line 3, column y_pred",
         "power=-1"),
        ("sklearn.mean_squared_log_error", "y_true,y_pred\n1,2\n3,4\n-1,0\n", "line 4, column y_true",
         "less than or equal to -1"),
        ("sklearn.log_loss", "y_true,p_0,p_1\n1,0.2,0.8\n0,1.5,-0.5\n", "line 3, column p_0",
         "greater than 1: 1.5"),
        ("sklearn.brier_score_loss", "y_true,y_pred\n1,0.2\n0,-0.5\n", "line 3, column y_pred",
         "less than 0: -0.5"),
    ],
)
def test_sklearn_domain_errors_name_line_and_column(
    capsys, tmp_path: Path, loss: str, text: str, where: str, message: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(text)
    with pytest.raises(SystemExit) as done:
        main(["compute", "--loss", loss, str(path)] + (["-p", "power=-1"] if "tweedie" in loss else []))
    err = capsys.readouterr().err
    assert done.value.code == 1
    assert err.startswith(f"lossctl: error: {path}: {where}: ")
    assert message in err
    assert err.count("\n") == 1


REGRESSION = str(Path(__file__).resolve().parent.parent / "sample_data" / "regression.csv")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        # smooth_l1_loss takes no weight input: it was told to use --col weight=COL, then refused
        (["--loss", "torch.smooth_l1_loss", "--weights", "y_true"],
         "--weights gives sample weights; torch.smooth_l1_loss has none\n"),
        (["--loss", "torch.mse_loss", "--weights", "y_true"],
         "--weights gives sample weights; torch.mse_loss has none (torch losses with per-element "
         "weights take --col weight=COL)\n"),
        # which loss, and its inputs in order ('this loss takes no ...', a set's order)
        (["--loss", "mse,torch.smooth_l1_loss", "--col", "weight=y_true"],
         "keras.mean_squared_error takes no 'weight' input (inputs: y_true, y_pred)\n"),
    ],
)
def test_weight_errors_name_the_loss_and_only_a_hint_that_works(capsys, argv, message) -> None:
    with pytest.raises(SystemExit) as done:
        main(["compute", *argv, REGRESSION])
    assert done.value.code == 2
    assert capsys.readouterr().err == "lossctl: error: " + message


def test_an_ambiguous_column_names_the_loss_it_is_ambiguous_for(capsys, tmp_path: Path) -> None:
    """predict's output read by log_loss (p_ columns) and accuracy (which fits both): the error
    did not say which of the two losses could not choose."""
    path = tmp_path / "predicted.csv"
    path.write_text("y_pred,p_0,p_1,y_true\n1,0.4,0.6,1\n0,0.7,0.3,1\n")
    with pytest.raises(SystemExit) as done:
        main(["compute", "--loss", "sklearn.log_loss,sklearn.accuracy_score", str(path)])
    assert done.value.code == 2
    assert capsys.readouterr().err == (
        "lossctl: error: sklearn.accuracy_score: y_pred is ambiguous: columns y_pred, p_0,p_1 all "
        "fit; choose with --pred\n"
    )


def test_labels_and_predictions_both_from_stdin_is_a_usage_error(capsys) -> None:
    """`--labels - -` read the predictions, then said '<stdin>: is empty' (exit 1)."""
    with pytest.raises(SystemExit) as done:
        main(["compute", "--loss", "mse", "--labels", "-", "-"])
    assert done.value.code == 2
    assert capsys.readouterr().err == (
        "lossctl: error: --labels - and FILE - both name standard input, which can be read once\n"
    )
