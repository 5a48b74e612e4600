"""Hostile model files: crafted .npz archives are refused before any array is read, in one line
naming the file (exit 1), within a small memory budget; a model read from a FIFO is read once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from lossctl.errors import DataError
from lossctl.nn import modelfile

ROOT = Path(__file__).resolve().parent.parent
DRUG_TEST = str(ROOT / "sample_data" / "drug_trial_test.csv")
PEAK_MIB = 300


@pytest.fixture(scope="module")
def model(train_drug_model: Callable[[int], str]) -> str:
    return train_drug_model(1)


def _arrays(path: str) -> dict[str, np.ndarray]:
    with np.load(path) as npz:
        return {key: npz[key] for key in npz.files}


def _meta(path: str) -> dict:
    return json.loads(str(_arrays(path)["lossctl_meta"]))


def _write(target: Path, arrays: dict[str, np.ndarray], meta: object | None = None) -> str:
    if meta is not None:
        arrays = arrays | {"lossctl_meta": np.array(json.dumps(meta))}
    np.savez(target, **arrays)
    return str(target)


def _tampered(model: str, tmp_path: Path, change: Callable[[dict], None]) -> str:
    meta = _meta(model)
    change(meta)
    return _write(tmp_path / "tampered.npz", _arrays(model), meta)


def _refused(cli, path: str, command: str = "predict") -> str:
    """Run predict (or evaluate) on the model; it must fail in one line naming the file, exit 1."""
    code, out, err = cli(command, path, DRUG_TEST)
    assert code == 1, err
    assert out == ""
    assert err.count("\n") == 1
    prefix = f"lossctl: error: {path}: "
    assert err.startswith(prefix), err
    return err[len(prefix):].strip()


def _npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    """A version 1.0 .npy header declaring `shape` and `descr`, as numpy writes one."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    text += " " * (63 - (len(text) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: m.clear() or m.update(format="lossctl-mlp", x=1), "missing architecture"),
        (lambda m: m["preprocessing"].update(task="ranking"), "unknown task 'ranking'"),
        (lambda m: m["architecture"].update(dtype="object"), "dtype 'object' is not float32"),
        (lambda m: m["architecture"].update(dtype=["float32"]), "architecture.dtype is"),
        (lambda m: m["architecture"].update(hidden=[16, 0]), "a hidden width is 0"),
        (lambda m: m["architecture"].update(hidden=[16, -32]), "a hidden width is -32"),
        (lambda m: m["architecture"].update(hidden=[16, 32.0]), "a hidden width is 32.0"),
        (lambda m: m["architecture"].update(hidden=[True, 32]), "a hidden width is true"),
        (lambda m: m["architecture"].update(hidden="16,32"), "architecture.hidden is"),
        (lambda m: m["architecture"].update(n_inputs=2), "features make 1 inputs, the first layer takes 2"),
        (lambda m: m["architecture"].update(n_outputs=3), "has 2 output(s), its last layer 3"),
        (lambda m: m["architecture"].update(activation="swish"), "unknown activation 'swish'"),
        (lambda m: m["architecture"].update(output_scale="big"), "architecture.output_scale is"),
        (lambda m: m["loss"].update(name="keras.nonesuch"), "loss 'keras.nonesuch': unknown loss"),
        (lambda m: m["loss"]["params"].update(from_logits={"a": 1}), "is not a parameter value"),
        (lambda m: m["loss"]["params"].update(nonesuch=1), "has no parameter 'nonesuch'"),
        (lambda m: m["preprocessing"].update(classes=["0"]), "1 class(es) for a binary task"),
        (lambda m: m["preprocessing"].update(classes=["0", "0"]), "not a list of distinct labels"),
        (lambda m: m["preprocessing"].update(classes=["0", "1", "2"]), "has 3 output(s)"),
        (lambda m: m["preprocessing"]["features"].append(7), "a feature is 7, not an object"),
        (lambda m: m["preprocessing"]["features"][0].update(kind="text"), "not a numeric or categorical"),
        (lambda m: m["preprocessing"]["features"][0].update(mean=None), "mean is null, not"),
        (lambda m: m.update(format_version=99), "format version 99 is newer"),
        (lambda m: m.update(format="other"), "no lossctl metadata"),
    ],
)
def test_tampered_metadata_is_one_line_naming_what_is_wrong(
    model: str, tmp_path: Path, cli, change, reason: str
) -> None:
    path = _tampered(model, tmp_path, change)
    assert reason in _refused(cli, path)


@pytest.mark.parametrize(
    ("meta", "reason"),
    [([1, 2], "its metadata is [1, 2], not an object"), (7, "its metadata is 7, not an object"),
     ("text", 'its metadata is "text", not an object'), (None, "its metadata is null")],
)
def test_metadata_that_is_not_an_object(model: str, tmp_path: Path, cli, meta, reason) -> None:
    arrays = _arrays(model) | {"lossctl_meta": np.array(json.dumps(meta))}
    assert reason in _refused(cli, _write(tmp_path / "m.npz", arrays), "evaluate")


def test_metadata_that_is_not_json_or_not_a_string(model: str, tmp_path: Path, cli) -> None:
    arrays = _arrays(model)
    path = _write(tmp_path / "a.npz", arrays | {"lossctl_meta": np.array("{not json")})
    assert "its metadata is not JSON" in _refused(cli, path)
    path = _write(tmp_path / "b.npz", arrays | {"lossctl_meta": np.arange(3.0)})
    assert "its metadata is a float64 array of shape (3,), not one string" in _refused(cli, path)
    deep = "[" * 100_000 + "]" * 100_000
    path = _write(tmp_path / "c.npz", arrays | {"lossctl_meta": np.array(deep)})
    assert "its metadata is not JSON" in _refused(cli, path)
    path = _write(tmp_path / "d.npz", arrays | {"lossctl_meta": np.array([{"a": 1}], dtype=object)})
    assert "not a lossctl model file" in _refused(cli, path)  # a pickle: never unpickled


@pytest.mark.parametrize(
    ("array", "reason"),
    [(np.zeros((1, 17), np.float32), "W0 has shape (1, 17), the network needs (1, 16)"),
     (np.zeros((1, 16), np.float64), "W0 is float64, the network is float32"),
     (np.zeros((1, 16), np.int32), "W0 is int32, the network is float32"),
     (np.array([[None] * 16], dtype=object), "W0 is object, the network is float32")],
    ids=["shape", "dtype", "integers", "object"],
)
def test_array_headers_must_match_the_metadata(model: str, tmp_path: Path, cli, array, reason) -> None:
    path = _write(tmp_path / "m.npz", _arrays(model) | {"W0": array})
    assert reason in _refused(cli, path)


def test_a_missing_array(model: str, tmp_path: Path, cli) -> None:
    arrays = _arrays(model)
    del arrays["b2"]
    assert "missing b2" in _refused(cli, _write(tmp_path / "m.npz", arrays))


def _raw_zip(target: Path, entries: dict[str, bytes], compress: int = zipfile.ZIP_STORED) -> str:
    with zipfile.ZipFile(target, "w", compression=compress) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return str(target)


def _entries(model: str) -> dict[str, bytes]:
    with zipfile.ZipFile(model) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_an_array_header_claiming_1e12_elements(model: str, tmp_path: Path, cli) -> None:
    entries = _entries(model) | {"W1.npy": _npy_header((1_000_000, 1_000_000)) + b"\0" * 64}
    reason = _refused(cli, _raw_zip(tmp_path / "m.npz", entries))
    assert reason.endswith("(W1 has shape (1000000, 1000000), the network needs (16, 32))")


def test_an_array_with_less_data_than_its_shape(model: str, tmp_path: Path, cli) -> None:
    entries = _entries(model)
    entries["W1.npy"] = entries["W1.npy"][:-8]
    reason = _refused(cli, _raw_zip(tmp_path / "m.npz", entries))
    assert "W1 holds 2,040 bytes of data, its shape (16, 32) needs 2,048" in reason


def test_compressed_entries_are_refused_before_inflating(model: str, tmp_path: Path, cli) -> None:
    path = _raw_zip(tmp_path / "m.npz", _entries(model), zipfile.ZIP_DEFLATED)
    assert "lossctl_meta is compressed; lossctl writes model arrays uncompressed" in _refused(cli, path)


def _bomb(model: str, target: Path, width: int) -> str:
    """A zip bomb: metadata declaring hidden layers of `width` and `width`, whose arrays of zeros
    are deflated to about a thousandth of their size."""
    meta = _meta(model)
    meta["architecture"]["hidden"] = [width, width]
    entries = _entries(model) | {"lossctl_meta.npy": _npy_bytes(np.array(json.dumps(meta)))}
    shapes = {"W0": (1, width), "b0": (width,), "W1": (width, width), "b1": (width,), "W2": (width, 2)}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            if name[:-4] not in shapes:
                archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
        zeros = b"\0" * (1 << 20)
        for name, shape in shapes.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as entry:
                entry.write(_npy_header(shape))
                left = int(np.prod(shape)) * 4
                while left:
                    entry.write(zeros[:min(left, len(zeros))])
                    left -= min(left, len(zeros))
    return str(target)


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_in_little_memory(model: str, tmp_path: Path, lossctl_peak) -> None:
    path = _bomb(model, tmp_path / "bomb.npz", 6000)  # 144 MB of weights in a file of 150 kB
    assert os.path.getsize(path) < 300_000
    code, err, peak = lossctl_peak("predict", path, DRUG_TEST)
    assert code == 1
    assert err == (f"lossctl: error: {path}: not a lossctl model file (W0 is compressed; "
                   "lossctl writes model arrays uncompressed)\n")
    assert peak < PEAK_MIB


def test_huge_declared_layers_are_refused_in_little_memory(model: str, tmp_path: Path,
                                                           lossctl_peak) -> None:
    """Metadata declaring layers of 30000 and 30000 (3.6 GB of float32) over the small arrays."""
    meta = _meta(model)
    meta["architecture"]["hidden"] = [30000, 30000]
    path = _write(tmp_path / "big.npz", _arrays(model), meta)
    code, err, peak = lossctl_peak("evaluate", path, DRUG_TEST)
    assert code == 1
    assert err == (f"lossctl: error: {path}: not a lossctl model file (W0 has shape (1, 16), "
                   "the network needs (1, 30000))\n")
    assert peak < PEAK_MIB


def test_a_network_that_does_not_fit_the_file(model: str, tmp_path: Path, cli) -> None:
    """Headers that agree with the metadata but data the file does not hold: refused by size."""
    meta = _meta(model)
    meta["architecture"]["hidden"] = [3000, 3000]
    entries = _entries(model) | {"lossctl_meta.npy": _npy_bytes(np.array(json.dumps(meta)))}
    shapes = {"W0": (1, 3000), "b0": (3000,), "W1": (3000, 3000), "b1": (3000,), "W2": (3000, 2)}
    for name, shape in shapes.items():
        entries[f"{name}.npy"] = _npy_header(shape) + b"\0" * 16
    reason = _refused(cli, _raw_zip(tmp_path / "m.npz", entries))
    assert "W0 holds 16 bytes of data, its shape (1, 3000) needs 12,000" in reason


def test_a_network_too_large_for_memory_is_refused(model: str, tmp_path: Path, cli, monkeypatch) -> None:
    from lossctl.nn import model as mlp

    monkeypatch.setattr(mlp, "available_memory", lambda: 10_000)
    err = _refused(cli, model)
    assert err.startswith("the model: the network needs about ")
    assert err.endswith("more than the 9.8 KiB available")


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04", b"PK\x03\x04" + b"\0" * 100, b"\x93NUMPY"],
                         ids=["empty", "magic_only", "zeros", "npy"])
def test_truncated_and_foreign_files(tmp_path: Path, cli, content: bytes) -> None:
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    assert _refused(cli, str(path)).startswith("not a lossctl model file (")


def test_a_directory_and_a_missing_file(tmp_path: Path, cli) -> None:
    assert _refused(cli, str(tmp_path)) == "is a directory, not a model file"
    assert _refused(cli, str(tmp_path / "none.npz")) == "no such file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_a_model_read_from_a_fifo_is_read_once(model: str, tmp_path: Path) -> None:
    fifo = tmp_path / "model.fifo"
    os.mkfifo(fifo)
    data = Path(model).read_bytes()

    def feed() -> None:  # one writer: a second open of the FIFO would wait forever
        with open(fifo, "wb") as handle:
            handle.write(data)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    done = subprocess.run([sys.executable, "-m", "lossctl", "predict", str(fifo), DRUG_TEST],
                          capture_output=True, text=True, timeout=60, check=False)
    feeder.join(timeout=10)
    expected = subprocess.run([sys.executable, "-m", "lossctl", "predict", model, DRUG_TEST],
                              capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected.stdout


def test_a_saved_model_loads_and_predicts_as_before(model: str) -> None:
    saved = modelfile.load(model)
    assert saved.loss == "keras.sparse_categorical_crossentropy"
    assert saved.model.hidden == (16, 32)
    with pytest.raises(DataError, match="not a lossctl model file"):
        modelfile.load(DRUG_TEST)
