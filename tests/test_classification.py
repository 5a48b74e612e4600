"""The classification metrics (lossctl/losses/classification.py) against scikit-learn 1.9 itself
(tests/fixtures/sklearn_classification.json, from tools/make_fixtures_classification.py), and their
streaming: blocks, --by, --ci, compare."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from lossctl.cli import main
from lossctl.errors import LossctlError, MetricWarning
from lossctl.losses import get_loss
from lossctl.losses.sklearn_family import tally_inputs
from lossctl.losses.tally import Labels

CASES = json.loads((Path(__file__).parent / "fixtures" / "sklearn_classification.json").read_text())["cases"]
RTOL, ATOL = 1e-9, 1e-12


def _inputs(case: dict, rows=slice(None)) -> dict:
    true = np.asarray(case["y_true"], dtype=object)[rows]
    pred = np.asarray(case["y_pred"], dtype=object)[rows]
    loss = get_loss(case["loss"])
    inputs = {"y_true": Labels.of([np.array(true.tolist())])}
    if "y_true" in loss.tally.label_roles and "y_pred" in loss.tally.label_roles:
        inputs["y_pred"] = Labels.of([np.array(pred.tolist())])
    else:
        inputs["y_pred"] = np.asarray(pred, dtype=np.float64)[:, None]
    return tally_inputs(inputs, loss.tally.label_roles)


def _value(case: dict, blocks: int = 1):
    loss = get_loss(case["loss"])
    params = loss.resolve_params(case["params"])
    sw = None if case["sample_weight"] is None else np.asarray(case["sample_weight"])
    n = len(case["y_true"])
    tally = None
    for part in np.array_split(np.arange(n), blocks):
        t = loss.tally.tally(_inputs(case, part), params, None if sw is None else sw[part], None, 1)
        tally = t if tally is None else tally + t
    return loss.tally.values(tally, params, strict=True)[0]


@pytest.mark.parametrize("case", [c for c in CASES if "value" in c], ids=lambda c: c["id"])
def test_value_matches_sklearn(case: dict) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = _value(case)
    np.testing.assert_allclose(got, case["value"], rtol=RTOL, atol=ATOL)
    assert any(issubclass(w.category, MetricWarning) for w in caught) == case["warns"]


@pytest.mark.parametrize("case", [c for c in CASES if "value" in c][::7], ids=lambda c: c["id"])
def test_blocks_add_to_the_same_value(case: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(_value(case, blocks=5), case["value"], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", [c for c in CASES if "error" in c], ids=lambda c: c["id"])
def test_errors_as_sklearn(case: dict) -> None:
    with pytest.raises(LossctlError) as caught:
        _value(case)
    message = str(caught.value)
    assert "\n" not in message
    if case["error"].startswith("The '"):  # scikit-learn's parameter check: lossctl's own words
        return
    words = [w for w in case["error"].split() if w.isalpha()][:3]
    assert all(w in message for w in words), (message, case["error"])


def test_mix_gives_each_slot_its_rows() -> None:
    case = next(c for c in CASES if c["id"] == "roc_auc_score_ties_weights")
    loss = get_loss(case["loss"])
    inputs = _inputs(case)
    n = len(case["y_true"])
    slot = np.arange(n) % 3
    tally = loss.tally.tally(inputs, {}, None, slot, 3)
    per_slot = loss.tally.values(tally.mix(np.eye(3)), {})
    for s in range(3):
        rows = np.flatnonzero(slot == s)
        alone = loss.tally.tally({k: v.take(rows) if isinstance(v, Labels) else v[rows]
                                  for k, v in inputs.items()}, {}, None, None, 1)
        assert per_slot[s] == pytest.approx(loss.tally.values(alone, {})[0], rel=1e-12)
    assert loss.tally.values(tally.total(), {})[0] == pytest.approx(
        loss.tally.values(loss.tally.tally(inputs, {}, None, None, 1), {})[0], rel=1e-12)


def test_undefined_is_nan_and_warned_overall() -> None:
    loss = get_loss("sklearn.roc_auc_score")
    inputs = tally_inputs({"y_true": np.array([1.0, 1.0]), "y_pred": np.array([[0.2], [0.4]])}, ("y_true",))
    tally = loss.tally.tally(inputs, {}, None, None, 1)
    assert np.isnan(loss.tally.values(tally, {}, strict=False)[0])
    with pytest.warns(MetricWarning, match="Only one class is present"):
        assert np.isnan(loss.tally.values(tally, {}, strict=True)[0])


# -- through the CLI ----------------------------------------------------------------------------


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


@pytest.fixture
def scored(tmp_path) -> Path:
    rng = np.random.default_rng(3)
    n = 400
    y = rng.integers(0, 2, n)
    a = rng.random(n) + 0.5 * y
    b = a + rng.normal(0, 0.3, n)
    group = rng.choice(["north", "south"], n)
    for name, score in (("a", a), ("b", b)):
        lines = ["label,y_pred,group"] + [f"{'pos' if t else 'neg'},{float(s)!r},{g}"
                                         for t, s, g in zip(y, score, group, strict=True)]
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_cli_auc_delong_and_bootstrap(scored, capsys) -> None:
    from lossctl.losses.delong import Delong

    a = scored / "a.csv"
    code, out, err = run(capsys, "compute", "-l", "auc", str(a), "--true", "label", "--ci", "0.95",
                         "-f", "json", "--by", "group")
    assert (code, err) == (0, "")
    records = json.loads(out)
    assert [r["group"] for r in records] == ["north", "south", None]
    assert {r["ci_method"] for r in records} == {"delong"}
    rows = [line.split(",") for line in a.read_text().splitlines()[1:]]
    y = np.array([r[0] == "pos" for r in rows], dtype=float)
    s = np.array([float(r[1]) for r in rows])
    distinct, at = np.unique(s, return_inverse=True)
    delong = Delong.of_counts(np.bincount(at, y), np.bincount(at, 1 - y))
    assert records[-1]["value"] == pytest.approx(delong.auc, rel=1e-12)
    assert (records[-1]["ci_low"], records[-1]["ci_high"]) == pytest.approx(delong.interval(0.95), rel=1e-9)
    code, out, err = run(capsys, "compute", "-l", "auc", str(a), "--true", "label", "--ci", "0.95",
                         "--ci-method", "bootstrap", "-f", "json")
    record = json.loads(out)[0]
    assert (code, record["ci_method"]) == (0, "bootstrap")
    assert record["ci_low"] < record["value"] < record["ci_high"]


def test_cli_compare_auc_is_delong(scored, capsys) -> None:
    from lossctl.losses.delong import paired_delong

    code, out, err = run(capsys, "compare", "-l", "roc_auc_score", str(scored / "a.csv"),
                         str(scored / "b.csv"), "--true", "label", "-f", "json")
    assert (code, err) == (0, "")
    record = json.loads(out)[0]
    assert record["method"] == "delong"
    rows = [[line.split(",") for line in (scored / f"{m}.csv").read_text().splitlines()[1:]] for m in "ab"]
    y = np.array([r[0] == "pos" for r in rows[0]])
    score_a, score_b = (np.array([float(r[1]) for r in model]) for model in rows)
    test = paired_delong(score_a, score_b, y)
    assert (record["a"], record["b"], record["diff"], record["p_value"]) == pytest.approx(
        (test.a, test.b, test.diff, test.p_value), rel=1e-12)
    code, out, _ = run(capsys, "compare", "-l", "f1", str(scored / "a.csv"), str(scored / "a.csv"),
                       "--true", "label", "--col", "y_pred=label", "-p", "pos_label=pos", "-f", "json")
    assert code == 0
    assert json.loads(out)[0]["method"] == "bootstrap"


def test_cli_f1_text_labels_warns_once(tmp_path, capsys) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("y_true,y_pred\ncat,cat\ndog,cat\neel,dog\ncat,cat\n")
    code, out, err = run(capsys, "compute", "-l", "f1,precision", str(path), "-p", "average=none")
    assert code == 0
    assert out.splitlines() == ["0.8,0.0,0.0", "0.6666666666666666,0.0,0.0"]  # cat, dog, eel
    assert err.count("warning") == 1
    assert "Precision is ill-defined" in err
    assert err.count("\n") == 1
    code, out, err = run(capsys, "compute", "-l", "f1", str(path))
    assert code == 1
    assert "average='binary'" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("name", sorted({c["loss"] for c in CASES}))
def test_every_parameter_is_exercised(name: str) -> None:
    given = {k for c in CASES if c["loss"] == name for k in c["params"]}
    assert {p.name for p in get_loss(name).params} <= given


def test_every_tallied_metric_has_fixtures() -> None:
    from lossctl.losses import REGISTRY

    assert {lo.qualified_name for lo in REGISTRY if lo.tally is not None} <= {c["loss"] for c in CASES}
