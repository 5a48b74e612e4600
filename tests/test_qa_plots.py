"""curve / descend / explain on losses of each family, as a new user tries them."""

from __future__ import annotations

import pytest

from lossctl.cli import main


@pytest.mark.parametrize("command", ["curve", "descend"])
def test_crps_has_no_picture_for_the_right_reason(capsys, command: str) -> None:
    """CRPS compares no predictions with each other: it was refused as if it did."""
    argv = [command, "--loss", "crps", "--format", "csv"] + (["--start", "1"] if command == "descend" else [])
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "paper.crps_gaussian has no single-prediction form to draw" in err
    assert "std" in err
    assert "compares predictions with each other" not in err


def test_explain_jsd_describes_distributions_not_forecasts(capsys) -> None:
    """jsd took the forecasters' input text ('observed values, one column per horizon')."""
    main_ok(["explain", "jsd"])
    out = capsys.readouterr().out
    inputs = out.split("Inputs:\n", 1)[1].split("\n\n", 1)[0]
    assert "distribution p" in inputs
    assert "distribution q" in inputs
    assert "horizon" not in inputs


def main_ok(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["curve", "--loss", "bce", "--range", "0.5,2"], "--range"),
        (["curve", "--loss", "sklearn.log_loss", "--range", "-1,0.5"], "--range"),
        (["descend", "--loss", "bce", "--start", "2"], "--start"),
        (["descend", "--loss", "torch.nll_loss", "--start", "0.5", "--range", "0,1.5"], "--range"),
    ],
)
def test_a_probability_axis_refuses_numbers_outside_0_1(capsys, argv: list[str], flag: str) -> None:
    """p_true = 2 drew Keras's clipped 1e-7 (and descend sat there with gradient 0), exit 0."""
    with pytest.raises(SystemExit) as done:
        main([*argv, "--format", "csv"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert f"{flag} is on the axis of the probability of the true class: it must lie in [0, 1]" in err


def test_descend_overshooting_1_still_draws(capsys) -> None:
    """A step past p = 1 is the optimizer's doing: the path is printed, not refused."""
    main_ok(["descend", "--loss", "bce", "--start", "0.5", "--lr", "1", "--steps", "2", "--format", "csv"])
    rows = capsys.readouterr().out.splitlines()[1:]
    assert float(rows[-1].split(",")[1]) > 1


def test_plot_draws_a_history_with_a_diverged_epoch(capsys, tmp_path) -> None:
    """Keras's CSVLogger writes nan for a diverged epoch; plot refused the file and suggested
    --nan drop, an option plot does not have."""
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss,val_loss\n0,1.5,nan\n1,0.8,0.9\n2,nan,nan\n")
    main_ok(["plot", str(path)])
    assert "best epoch 1 (val_loss 0.9)" in capsys.readouterr().out


def test_losses_on_different_axes_are_refused_as_the_readme_says(capsys) -> None:
    """The README said such losses 'go in separate plots'; curve refuses them (exit 2)."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "go in separate plots" not in readme
    assert "cannot share one `curve`" in readme
    with pytest.raises(SystemExit) as done:
        main(["curve", "--loss", "mse,bce", "--format", "csv"])
    assert done.value.code == 2
    assert "different x axes" in capsys.readouterr().err
