"""Saving and loading a trained model: an .npz of weights plus JSON metadata, without pickle.

Arrays `W0, b0, W1, b1, ...` hold the layers; `lossctl_meta` holds one JSON string with the
architecture, activations, output transform (`output_scale`, `output_shift`; files without
them load as the identity), loss and its parameters, the preprocessing (feature columns, their
statistics and levels, target, task, class labels) and the lossctl version. A file is written to
a temporary file in the same directory and moved into place with `os.replace`, so a crash or
Ctrl-C never leaves a half-written model and an existing file is only replaced by a whole one.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from lossctl import __version__
from lossctl.errors import DataError
from lossctl.io.atomic import write_atomic
from lossctl.nn.data import Preprocessor
from lossctl.nn.model import MLP

FORMAT = "lossctl-mlp"
FORMAT_VERSION = 1
META_KEY = "lossctl_meta"


@dataclass
class SavedModel:
    model: MLP
    prep: Preprocessor
    loss: str  # qualified name
    params: dict[str, Any]
    meta: dict[str, Any]


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def save(path: str, model: MLP, prep: Preprocessor, loss: str, params: dict[str, Any],
         extra: dict[str, Any] | None = None) -> None:
    """Write the model atomically to `path`."""
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "lossctl_version": __version__,
        "architecture": {
            "n_inputs": model.n_in, "hidden": list(model.hidden), "n_outputs": model.n_out,
            "activation": model.activation.name,
            "output_activation": model.output_activation.name, "dtype": model.dtype.name,
            "output_scale": model.output_scale, "output_shift": model.output_shift,
        },
        "loss": {"name": loss, "params": {k: _jsonable(v) for k, v in params.items()}},
        "preprocessing": prep.to_dict(),
        "input_names": prep.input_names,
        **(extra or {}),
    }
    arrays: dict[str, np.ndarray] = {META_KEY: np.array(json.dumps(meta))}
    for i, layer in enumerate(model.layers):
        arrays[f"W{i}"], arrays[f"b{i}"] = layer.W, layer.b
    write_atomic(path, lambda handle: np.savez(handle, **arrays))


def load(path: str) -> SavedModel:
    """Read a model written by `save`; anything else is a DataError naming the file."""
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, not a model file")
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
                raise DataError(f"{path}: not a lossctl model file (not an .npz archive)")
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a model file") from None
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as error:
        raise DataError(f"{path}: not a lossctl model file ({_reason(error)})") from None
    try:
        meta = json.loads(str(arrays[META_KEY]))
        if meta.get("format") != FORMAT:
            raise ValueError("no lossctl metadata")
        if meta.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"format version {meta['format_version']} is newer than this lossctl")
        arch = meta["architecture"]
        model = MLP(arch["n_inputs"], arch["hidden"], arch["n_outputs"], arch["activation"],
                    arch["output_activation"], dtype=arch["dtype"],
                    output_scale=arch.get("output_scale", 1.0),
                    output_shift=arch.get("output_shift", 0.0))
        model.set_weights([arrays[f"{kind}{i}"] for i in range(len(model.layers))
                           for kind in ("W", "b")])
        prep = Preprocessor.from_dict(meta["preprocessing"])
        if prep.n_inputs != model.n_in:
            raise ValueError("preprocessing does not match the first layer")
        params = {k: tuple(v) if isinstance(v, list) else v
                  for k, v in meta["loss"]["params"].items()}
        return SavedModel(model, prep, meta["loss"]["name"], params, meta)
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: not a lossctl model file ({_reason(error)})") from None


def _reason(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return f"missing {error.args[0]}"
    if isinstance(error, zipfile.BadZipFile):
        return "not an .npz archive"
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
