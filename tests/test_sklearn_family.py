"""The scikit-learn family against scikit-learn 1.9 itself, and its place among the families.

tests/fixtures/sklearn_metrics.json is written by tools/make_fixtures_sklearn.py, which needs
scikit-learn; this test does not. Each case holds the inputs, the parameters as a user types them,
the sample weights, and what scikit-learn gives: the function's value, each row's term (the
function with a weight of 1 on that row only), or a fragment of the error it raises.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lossctl.cli import main
from lossctl.errors import DataError, UsageError
from lossctl.losses import REGISTRY, get_loss
from lossctl.losses.evaluate import evaluate

FIXTURE = Path(__file__).parent / "fixtures" / "sklearn_metrics.json"
CASES = json.loads(FIXTURE.read_text())["cases"]
RTOL, ATOL = 1e-9, 1e-12
# the functions of whole batches; those computed from tallies: tests/test_classification.py
SKLEARN = [loss for loss in REGISTRY if loss.family.name == "sklearn" and loss.tally is None]


def _run(case: dict, reduction: str):
    loss = get_loss(case["loss"])
    params = loss.resolve_params(case["params"])
    sw = case["sample_weight"]
    return evaluate(loss, case["inputs"], params, reduction, None if sw is None else np.asarray(sw))


@pytest.mark.parametrize("case", [c for c in CASES if "value" in c], ids=lambda c: c["id"])
def test_value_matches_sklearn(case: dict) -> None:
    got = _run(case, "metric")
    np.testing.assert_allclose(got, np.asarray(case["value"]), rtol=RTOL, atol=ATOL)
    assert np.shape(got) == np.shape(case["value"])


@pytest.mark.parametrize("case", [c for c in CASES if "rows" in c], ids=lambda c: c["id"])
def test_rows_are_sklearn_terms(case: dict) -> None:
    got = _run(case, "none")
    expected = np.asarray(case["rows"])
    np.testing.assert_allclose(np.reshape(got, expected.shape), expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", [c for c in CASES if "error" in c], ids=lambda c: c["id"])
def test_input_errors_as_sklearn(case: dict) -> None:
    with pytest.raises(DataError) as caught:
        _run(case, "metric")
    assert case["error"] in str(caught.value)
    assert "\n" not in str(caught.value)


def test_fixtures_cover_every_function() -> None:
    covered = {c["loss"] for c in CASES}
    assert {loss.qualified_name for loss in SKLEARN} <= covered
    assert len(SKLEARN) == 24


@pytest.mark.parametrize("loss", SKLEARN, ids=lambda loss: loss.qualified_name)
def test_every_parameter_is_exercised(loss) -> None:
    given = {k for c in CASES if c["loss"] == loss.qualified_name for k in c["params"]}
    assert {p.name for p in loss.params} <= given


@pytest.mark.parametrize(
    "name",
    ["r2_score", "median_absolute_error", "max_error", "root_mean_squared_error",
     "root_mean_squared_log_error", "d2_tweedie_score", "d2_log_loss_score"],
)
def test_none_refused_with_a_reason(name: str) -> None:
    loss = get_loss(f"sklearn.{name}")
    with pytest.raises(UsageError, match="not a mean of per-row terms"):
        evaluate(loss, loss.example, None, "none")


def test_weighted_mean_of_rows_is_the_metric() -> None:
    loss = get_loss("sklearn.log_loss")
    case = next(c for c in CASES if c["id"] == "sklearn-log_loss-3class-sw")
    weights = np.asarray(case["sample_weight"])
    rows = evaluate(loss, case["inputs"], None, "none")
    assert np.average(rows, weights=weights) == pytest.approx(_run(case, "metric"), rel=1e-12)


def test_bare_names_keep_their_meaning() -> None:
    assert get_loss("mean_squared_error").qualified_name == "keras.mean_squared_error"
    assert get_loss("mean_absolute_percentage_error").qualified_name == "keras.mean_absolute_percentage_error"
    assert get_loss("r2_score").qualified_name == "sklearn.r2_score"
    assert get_loss("log_loss").qualified_name == "sklearn.log_loss"
    assert get_loss("sklearn.mean_squared_error").family.name == "sklearn"


def test_parameters_checked_when_resolved() -> None:
    with pytest.raises(UsageError, match="alpha"):
        get_loss("sklearn.mean_pinball_loss").resolve_params({"alpha": "1.5"})
    with pytest.raises(UsageError, match="power"):
        get_loss("sklearn.mean_tweedie_deviance").resolve_params({"power": "0.5"})
    with pytest.raises(UsageError, match="multioutput"):
        get_loss("sklearn.mean_absolute_error").resolve_params({"multioutput": "variance_weighted"})


# -- the command line --------------------------------------------------------------------------------

CSV = "y_true_0,y_true_1,y_pred_0,y_pred_1,w\n1,2,1.5,2,1\n0,4,0,3,2\n3,1,2,1,0.5\n"


@pytest.fixture
def cli(capsys, tmp_path):
    """Run the CLI in-process through main(), which maps errors to exit codes; `-` is a CSV."""
    path = tmp_path / "data.csv"
    path.write_text(CSV)

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as done:
            main([str(path) if a == "-" else a for a in args])
        out, err = capsys.readouterr()
        return done.value.code, out, err

    return run


def test_raw_values_print_on_one_line(cli) -> None:
    code, out, _ = cli("compute", "-l", "sklearn.mean_squared_error", "-p", "multioutput=raw_values",
                        "-", "--true", "y_true_*", "--pred", "y_pred_*")
    assert code == 0
    assert [float(v) for v in out.strip().split(",")] == pytest.approx([0.41666666666666667, 1 / 3])


def test_raw_values_csv_and_json(cli) -> None:
    args = ("compute", "-l", "sklearn.mean_absolute_error,mse", "-p", "multioutput=raw_values", "-",
            "--true", "y_true_*", "--pred", "y_pred_*")
    code, out, _ = cli(*args, "-f", "csv")
    assert code == 0
    assert out.splitlines()[1] == 'sklearn.mean_absolute_error,metric,"0.5,0.3333333333333333",3'
    assert out.splitlines()[2].startswith("keras.mean_squared_error,mean,")
    code, out, _ = cli(*args, "-f", "json")
    assert json.loads(out)[0]["value"] == pytest.approx([0.5, 1 / 3])


def test_weights_are_sample_weight(cli) -> None:
    code, out, _ = cli("compute", "-l", "sklearn.r2_score", "--weights", "w", "-",
                        "--true", "y_true_*", "--pred", "y_pred_*")
    assert code == 0
    t = np.array([[1, 2], [0, 4], [3, 1.0]])
    p = np.array([[1.5, 2], [0, 3], [2, 1.0]])
    w = np.array([1, 2, 0.5])[:, None]
    ss_res = (w * (t - p) ** 2).sum(0)
    ss_tot = (w * (t - np.average(t, axis=0, weights=w[:, 0])) ** 2).sum(0)
    assert float(out) == pytest.approx(np.mean(1 - ss_res / ss_tot), rel=1e-12)


def test_none_rows_and_refusal_on_the_command_line(cli) -> None:
    code, out, _ = cli("compute", "-l", "sklearn.mean_absolute_error", "-r", "none", "-",
                        "--true", "y_true_*", "--pred", "y_pred_*")
    assert code == 0
    assert out == "0.25\n0.5\n0.5\n"
    code, _, err = cli("compute", "-l", "sklearn.r2_score", "-r", "none", "-",
                        "--true", "y_true_*", "--pred", "y_pred_*")
    assert code == 2
    assert "reduction 'none' is not defined for sklearn.r2_score: it is not a mean" in err


def test_input_error_is_one_line_exit_1(cli) -> None:
    code, _, err = cli("compute", "-l", "sklearn.mean_gamma_deviance", "-", "--true", "y_true_0",
                        "--pred", "y_pred_0")
    assert code == 1
    assert err.count("\n") == 1
    assert "can only be used on strictly positive y and y_pred" in err


def test_list_and_explain(cli) -> None:
    code, out, _ = cli("list", "--family", "sklearn", "-f", "plain")
    assert code == 0
    listed = {line.split("\t")[0] for line in out.splitlines()[1:]}
    assert listed == {lo.qualified_name for lo in REGISTRY if lo.family.name == "sklearn"}
    code, out, _ = cli("explain", "sklearn.mean_pinball_loss")
    assert code == 0
    assert "alpha d if d >= 0" in out
    assert "Reductions: metric, none (default metric)" in out
    assert "metric -> 0.25" in out
    code, out, _ = cli("explain", "r2_score")
    assert code == 0
    assert "Reductions: metric (default metric)" in out


def test_no_gradient(cli) -> None:
    code, _, err = cli("compute", "-l", "sklearn.mean_squared_error", "--grad", "-", "--true", "y_true_0",
                        "--pred", "y_pred_0")
    assert code == 2
    assert "has no gradient" in err


def test_no_keras_or_torch_name_moves_to_sklearn() -> None:
    for loss in REGISTRY:
        if loss.family.name != "sklearn":
            for name in (loss.name, *loss.aliases, loss.name.upper()):
                try:
                    assert get_loss(name).family.name != "sklearn", name
                except UsageError:  # ambiguous between keras and torch before sklearn came
                    pass


def test_whole_batch_errors_name_the_line(cli, tmp_path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("y_true,p_0,p_1,p_2\n1,0.2,0.3,0.5\n4,0.2,0.3,0.5\n")
    for reduction in ("metric", "none"):
        code, _, err = cli("compute", "-l", "sklearn.log_loss", "-p", "labels=0,1,2", "-r", reduction,
                           str(path))
        assert code == 1
        assert f"{path}: line 3, column y_true: y_true contains values [4.0] not belonging" in err
