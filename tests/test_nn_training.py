"""Learning works on sample_data with fixed seeds; determinism; early stopping; data and file errors."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from lossctl.errors import DataError, TrainingDiverged, UsageError
from lossctl.io.reader import open_table
from lossctl.losses import get_loss
from lossctl.nn import build_model, fit, load_training, modelfile, resolve_metrics
from lossctl.nn.data import Rows, read_rows
from lossctl.nn.train import loss_value, predict_raw, scores

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
DRUG = str(SAMPLES / "drug_trial.csv")


def rows_for_model(prep, path: str) -> Rows:
    with open_table(path) as table:
        numeric, text, _ = prep.request(table.name, table.header)
        return read_rows(table, numeric, text)


def _train(path: str, loss_name: str, metrics=("accuracy",), hidden=(16, 32), **kwargs):
    data = load_training(path, seed=kwargs.pop("seed", 0), **kwargs.pop("load", {}))
    loss = get_loss(loss_name)
    params = loss.resolve_params(kwargs.pop("given", {}))
    model = build_model(data, loss, params, hidden, seed=0, dtype=kwargs.pop("dtype", "float32"))
    records = list(fit(model, loss, params, data, metrics=resolve_metrics(metrics, data.prep.task),
                       **kwargs))
    return data, loss, params, model, records


def test_drug_trial_reaches_keras_tutorial_accuracy() -> None:
    data, loss, params, model, records = _train(DRUG, "sparse_categorical_crossentropy", epochs=30)
    assert records[-1].metrics["val_accuracy"] > 0.90
    test = load_training(str(SAMPLES / "drug_trial_test.csv"), val_split=0)
    x = data.prep.inputs(rows_for_model(data.prep, str(SAMPLES / "drug_trial_test.csv")))
    _, found = scores(model, loss, params, resolve_metrics(["accuracy"], "binary"), "binary", 2,
                      x, test.y_train)
    assert found["accuracy"] > 0.90


def test_drug_trial_with_binary_crossentropy_and_one_sigmoid_output() -> None:
    *_, model, records = _train(DRUG, "binary_crossentropy", epochs=10)
    assert model.n_out == 1
    assert model.output_activation.name == "sigmoid"
    assert records[-1].metrics["val_accuracy"] > 0.90


def test_multiclass_with_string_labels_and_a_categorical_feature() -> None:
    data, *_, model, records = _train(str(SAMPLES / "penguins_like.csv"),
                                      "sparse_categorical_crossentropy", epochs=30)
    assert data.prep.classes == ("Adelie", "Chinstrap", "Gentoo")
    assert "island=Dream" in data.prep.input_names
    assert records[-1].metrics["val_accuracy"] > 0.90


def test_regression_learns_house_prices_with_default_flags() -> None:
    # defaults (adam, lr 0.001, 30 epochs, seed 0): val MAE 14.4 with the standardized target and
    # Glorot init (17.7 with He init for the relu layers)
    # (193 before it, when the network had to learn prices of ~100..700 directly)
    data, loss, params, model, records = _train(str(SAMPLES / "housing.csv"), "mse",
                                                metrics=("mae",))
    assert data.prep.task == "regression"
    assert len(records) == 30
    assert records[-1].metrics["val_mae"] < 25  # thousands; prices are ~100..700
    assert records[-1].val_loss < records[0].val_loss / 10
    y = data.y_train
    assert (model.output_scale, model.output_shift) == (np.std(y), np.mean(y))  # train split only
    assert "1 linear * 106.2 + 307;" in repr(model)
    # the reported loss is the loss of the predictions in price units, as `compute` gives it
    out = predict_raw(model, data.x_val.astype(np.float32))
    assert records[-1].val_loss == loss_value(loss, params, data.y_val[:, None], out)


def test_classification_has_no_output_transform() -> None:
    *_, model, _ = _train(DRUG, "sparse_categorical_crossentropy", epochs=1)
    assert (model.output_scale, model.output_shift) == (1.0, 0.0)
    assert "*" not in repr(model)


def test_same_seed_same_history_to_the_last_digit() -> None:
    def history(seed: int):
        *_, records = _train(DRUG, "sparse_categorical_crossentropy", epochs=3, seed=seed)
        return [(r.loss, r.val_loss, r.metrics) for r in records]

    assert history(7) == history(7)
    assert history(7) != history(8)


def test_early_stopping_restores_the_best_weights() -> None:
    data, loss, params, model, records = _train(
        str(SAMPLES / "penguins_like.csv"), "sparse_categorical_crossentropy",
        epochs=60, patience=3, optimizer="adam", lr=0.2,
    )
    assert records[-1].stopped_early
    assert len(records) < 60
    best = min(r.val_loss for r in records)
    assert records[-1].val_loss > best
    now, _ = scores(model, loss, params, [], "multiclass", 3, data.x_val.astype(np.float32), data.y_val)
    assert now == best


def test_stop_flag_ends_training_after_the_current_batch() -> None:
    data = load_training(DRUG)
    loss = get_loss("sparse_categorical_crossentropy")
    model = build_model(data, loss, {}, (4,))
    stop = threading.Event()
    batches = []

    def progress(done: int, total: int) -> None:
        batches.append(done)
        if done == 3:
            stop.set()

    assert list(fit(model, loss, {}, data, epochs=5, stop=stop, progress=progress)) == []
    assert batches == [1, 2, 3]


def test_nan_loss_raises_training_diverged() -> None:
    with pytest.raises(TrainingDiverged, match="smaller learning rate"):
        _train(str(SAMPLES / "housing.csv"), "mse", metrics=(), epochs=20, optimizer="sgd", lr=10.0)


def test_float64_and_balanced_class_weight() -> None:
    *_, model, records = _train(DRUG, "sparse_categorical_crossentropy", epochs=3,
                                dtype="float64", class_weight="balanced")
    assert model.dtype == np.float64
    assert np.isfinite(records[-1].loss)


def test_untrainable_setups_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="accuracy needs a classification"):
        resolve_metrics(["accuracy"], "regression")


def _csv(tmp_path: Path, text: str, name: str = "d.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_empty_cell_names_line_and_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a,b,label\n1,2,x\n3,,y\n5,6,x\n7,8,y\n")
    with pytest.raises(DataError, match=r"d\.csv: line 3, column b: empty cell"):
        load_training(path, val_split=0)
    data = load_training(path, val_split=0, nan="drop")
    assert len(data.x_train) == 3


def test_garbage_in_numeric_column_names_line_and_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a,b,label\n1,2,x\n3,4,y\n5,oops,x\n7,8,y\n")
    with pytest.raises(DataError, match=r"line 4, column b: 'oops' is not a number"):
        load_training(path, val_split=0)


def test_target_rules(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Label,f,last\nb,1,0.5\na,2,0.25\nb,3,0.75\n")
    assert load_training(path, val_split=0).prep.target == "Label"
    with pytest.raises(DataError, match="has no target column 'nope'"):
        load_training(path, target="nope")
    one = _csv(tmp_path, "f,label\n1,a\n2,a\n3,a\n", "one.csv")
    with pytest.raises(DataError, match="has one class"):
        load_training(one, val_split=0)
    with pytest.raises(DataError, match="too few for a validation split"):
        load_training(_csv(tmp_path, "f,label\n1,a\n2,b\n", "two.csv"), val_split=0.2)


def test_model_file_round_trip_and_bad_files(tmp_path: Path) -> None:
    data, loss, params, model, _ = _train(DRUG, "sparse_categorical_crossentropy", epochs=1)
    path = str(tmp_path / "m.npz")
    modelfile.save(path, model, data.prep, loss.qualified_name, params)
    saved = modelfile.load(path)
    assert saved.prep.to_dict() == data.prep.to_dict()
    assert saved.loss == "keras.sparse_categorical_crossentropy"
    np.testing.assert_array_equal(predict_raw(saved.model, data.x_val), predict_raw(model, data.x_val))
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left behind
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(Path(path).read_bytes()[:200])
    with pytest.raises(DataError, match="not a lossctl model file"):
        modelfile.load(str(corrupt))
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.arange(3))
    with pytest.raises(DataError, match="not a lossctl model file"):
        modelfile.load(str(foreign))
    with pytest.raises(DataError, match="no such file"):
        modelfile.load(str(tmp_path / "missing.npz"))


def test_model_file_keeps_the_output_transform_and_loads_files_without_it(tmp_path: Path) -> None:
    data, loss, params, model, _ = _train(str(SAMPLES / "housing.csv"), "mse", metrics=(), epochs=1)
    path = str(tmp_path / "h.npz")
    modelfile.save(path, model, data.prep, loss.qualified_name, params)
    saved = modelfile.load(path)
    assert (saved.model.output_scale, saved.model.output_shift) == (model.output_scale,
                                                                    model.output_shift)
    np.testing.assert_array_equal(predict_raw(saved.model, data.x_val), predict_raw(model, data.x_val))
    # a file written before the transform existed: no output_scale/output_shift, so the identity
    with np.load(path) as npz:
        arrays = {key: npz[key] for key in npz.files}
    meta = json.loads(str(arrays["lossctl_meta"]))
    del meta["architecture"]["output_scale"], meta["architecture"]["output_shift"]
    arrays["lossctl_meta"] = np.array(json.dumps(meta))
    old = str(tmp_path / "old.npz")
    np.savez(old, **arrays)
    legacy = modelfile.load(old).model
    assert (legacy.output_scale, legacy.output_shift) == (1.0, 0.0)
    np.testing.assert_allclose(predict_raw(legacy, data.x_val) * model.output_scale + model.output_shift,
                               predict_raw(model, data.x_val), rtol=1e-5)
