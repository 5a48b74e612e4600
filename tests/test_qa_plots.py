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
