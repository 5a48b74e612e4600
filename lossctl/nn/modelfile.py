"""Saving and loading a trained model: an .npz of weights plus JSON metadata, without pickle.

Arrays `W0, b0, W1, b1, ...` hold the layers; `lossctl_meta` holds one JSON string with the
architecture, activations, output transform (`output_scale`, `output_shift`; files without
them load as the identity), loss and its parameters, the preprocessing (feature columns, their
statistics and levels, target, task, class labels) and the lossctl version. A file is written
through `lossctl.io.atomic` (whole or not at all). Loading checks the file before it reads any
array (see `load`).
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from lossctl import __version__
from lossctl.errors import DataError, UsageError
from lossctl.io.atomic import Output, write_atomic
from lossctl.losses.registry import Loss
from lossctl.nn.activations import ACTIVATIONS
from lossctl.nn.data import TASKS, Preprocessor
from lossctl.nn.model import MLP, check_memory
from lossctl.nn.targets import output_width

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


def save(path: str | Output, model: MLP, prep: Preprocessor, loss: str, params: dict[str, Any],
         extra: dict[str, Any] | None = None) -> None:
    """Write the model to `path` atomically, or to an `Output` opened before (then committed)."""
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


class _Bad(Exception):
    """What is wrong with a model file; load() adds the file's name."""


def load(path: str) -> SavedModel:
    """Read a model written by `save`; anything else is a DataError naming the file.

    The file is opened once (a FIFO works) and checked before any array is read: its metadata
    must describe a network this lossctl can run, every array's header must declare the shape
    and dtype that network has, and the arrays must be stored whole in the file, so a small file
    cannot make lossctl allocate much more than its own size (no zip bomb, no tampered shape).
    """
    try:
        with _open_once(path) as (handle, size), zipfile.ZipFile(handle) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            meta = _metadata(archive, infos, size)
            arch, shapes = _architecture(meta)
            loss, params = _loss(meta)
            prep = _preprocessing(meta, arch, loss)
            dtype = np.dtype(arch["dtype"])
            headers = {name: _array_header(archive, infos, size, name, shape, dtype)
                       for name, shape in shapes.items()}
            stored = sum(infos[f"{name}.npy"].compress_size for name in [META_KEY, *shapes])
            if stored > size:
                raise _Bad(f"its arrays claim {stored:,} bytes, more than the file's {size:,}")
            check_memory(f"{path}: the model", arch["n_inputs"], arch["hidden"],
                         arch["n_outputs"], arch["dtype"], PREDICT_ROWS)
            arrays = [_read_array(archive, headers[name]) for name in shapes]
    except UsageError as error:  # the network would not fit in memory: a fault of the file
        raise DataError(str(error)) from None
    except _Bad as error:
        raise DataError(f"{path}: not a lossctl model file ({error})") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a model file") from None
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, NotImplementedError,
            RuntimeError) as error:  # a damaged archive, as zipfile or numpy find it
        raise DataError(f"{path}: not a lossctl model file ({_reason(error)})") from None
    model = MLP(arch["n_inputs"], arch["hidden"], arch["n_outputs"], arch["activation"],
                arch["output_activation"], dtype=arch["dtype"], output_scale=arch["output_scale"],
                output_shift=arch["output_shift"])
    model.set_weights(arrays)
    return SavedModel(model, prep, loss.qualified_name, params, meta)


# The most a model read from a pipe may hold (a file's own size bounds a regular file's), and the
# most its metadata may hold: the JSON of the architecture and the category levels of its inputs.
MAX_PIPED_BYTES = 256 << 20
MAX_META_BYTES = 16 << 20
PREDICT_ROWS = 2048  # rows per forward pass of predict (nn.train.PREDICT_BATCH)


@contextmanager
def _open_once(path: str) -> Iterator[tuple[BinaryIO, int]]:
    """The file as a seekable binary stream and its size, opened once: a regular file as it is,
    anything else (a FIFO, a device) read into memory, at most MAX_PIPED_BYTES of it."""
    with open(path, "rb") as handle:
        if handle.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise _Bad("not an .npz archive")
        info = os.fstat(handle.fileno())
        if stat.S_ISREG(info.st_mode):
            handle.seek(0)
            yield handle, info.st_size
            return
        data = io.BytesIO()
        data.write(b"PK\x03\x04")
        while chunk := handle.read(1 << 20):
            data.write(chunk)
            if data.tell() > MAX_PIPED_BYTES:
                raise _Bad(f"more than {MAX_PIPED_BYTES >> 20} MiB from a pipe or device")
    yield data, data.tell()


def _entry(infos: dict[str, zipfile.ZipInfo], name: str, size: int) -> zipfile.ZipInfo:
    """The archive's entry for array `name`, stored uncompressed (as `save` writes it) within
    the file's size."""
    info = infos.get(f"{name}.npy")
    if info is None:
        raise _Bad(f"missing {name}")
    if info.compress_type != zipfile.ZIP_STORED:
        raise _Bad(f"{name} is compressed; lossctl writes model arrays uncompressed")
    if info.file_size != info.compress_size or info.header_offset + info.compress_size > size:
        raise _Bad(f"{name} claims {info.file_size:,} bytes, more than the file holds")
    return info


def _header(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype, int]:
    """An .npy entry's declared shape and dtype, and the size of its data."""
    with archive.open(info) as entry:
        version = np.lib.format.read_magic(entry)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(entry)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(entry)
        else:
            raise _Bad(f"{info.filename}: .npy format version {version} is not one numpy writes here")
        return shape, dtype, info.file_size - entry.tell()


def _metadata(archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], size: int) -> dict:
    info = _entry(infos, META_KEY, size)
    if info.file_size > MAX_META_BYTES:
        raise _Bad(f"its metadata claims {info.file_size:,} bytes")
    shape, dtype, data = _header(archive, info)
    if shape != () or dtype.kind != "U" or dtype.itemsize != data:
        raise _Bad(f"its metadata is a {dtype} array of shape {shape}, not one string")
    with archive.open(info) as entry:
        text = str(np.lib.format.read_array(entry, allow_pickle=False))
    try:
        meta = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise _Bad(f"its metadata is not JSON: {_reason(error)}") from None
    meta = _field({"meta": meta}, "meta", dict, "its metadata")
    if meta.get("format") != FORMAT:
        raise _Bad("no lossctl metadata")
    version = _field(meta, "format_version", int, "format_version", default=0)
    if version > FORMAT_VERSION:
        raise _Bad(f"format version {version} is newer than this lossctl")
    return meta


def _field(obj: dict, key: str, kind: type | tuple[type, ...], where: str, default: Any = None) -> Any:
    """obj[key], which must be of `kind` (a bool is not a number); `default` when absent, if given."""
    if key not in obj and default is not None:
        return default
    if key not in obj:
        raise _Bad(f"missing {where}")
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
        raise _Bad(f"{where} is {json.dumps(value)[:40]}, not {names}")
    return value


_KIND_NAMES = {dict: "an object", list: "a list", str: "text", int: "an integer", float: "a number",
               bool: "true or false"}


def _number(obj: dict, key: str, where: str, default: float) -> float:
    value = float(_field(obj, key, (int, float), where, default=default))
    if not np.isfinite(value):
        raise _Bad(f"{where} is {value}")
    return value


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Bad(f"{where} is {json.dumps(value)[:40]}, not a positive integer")
    return value


def _architecture(meta: dict) -> tuple[dict[str, Any], dict[str, tuple[int, ...]]]:
    """The checked architecture, and the shape of each weight array it needs, in layer order."""
    given = _field(meta, "architecture", dict, "architecture")
    hidden = [_count(h, "a hidden width")
              for h in _field(given, "hidden", list, "architecture.hidden")]
    arch = {
        "n_inputs": _count(_field(given, "n_inputs", int, "architecture.n_inputs"), "n_inputs"),
        "hidden": hidden,
        "n_outputs": _count(_field(given, "n_outputs", int, "architecture.n_outputs"), "n_outputs"),
        "activation": _field(given, "activation", str, "architecture.activation"),
        "output_activation": _field(given, "output_activation", str, "architecture.output_activation"),
        "dtype": _field(given, "dtype", str, "architecture.dtype"),
        "output_scale": _number(given, "output_scale", "architecture.output_scale", 1.0),
        "output_shift": _number(given, "output_shift", "architecture.output_shift", 0.0),
    }
    for key in ("activation", "output_activation"):
        if arch[key] not in ACTIVATIONS:
            raise _Bad(f"unknown {key.replace('_', ' ')} {arch[key]!r}")
    if arch["dtype"] not in ("float32", "float64"):
        raise _Bad(f"dtype {arch['dtype']!r} is not float32 or float64")
    sizes = [arch["n_inputs"], *hidden, arch["n_outputs"]]
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        shapes[f"W{i}"], shapes[f"b{i}"] = (a, b), (b,)
    return arch, shapes


def _loss(meta: dict) -> tuple[Loss, dict[str, Any]]:
    """The model's loss and its parameters, checked as `-p` values would be."""
    from lossctl.losses import get_loss

    given = _field(meta, "loss", dict, "loss")
    name = _field(given, "name", str, "loss.name")
    saved = _field(given, "params", dict, "loss.params")
    try:
        loss = get_loss(name)
        params = {key: loss.resolve_params({key: _param_text(value)})[key]
                  for key, value in saved.items()}
    except UsageError as error:
        raise _Bad(f"loss {name!r}: {error}") from None
    return loss, params


def _param_text(value: Any) -> str:
    """A saved parameter value as the text `-p` would take."""
    if value is None:
        return "none"
    if isinstance(value, list):
        return ",".join(_param_text(v) for v in value)
    if isinstance(value, bool | int | float | str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    raise UsageError(f"{json.dumps(value)[:40]} is not a parameter value")


def _preprocessing(meta: dict, arch: dict[str, Any], loss: Loss) -> Preprocessor:
    """The checked preprocessing: its inputs fill the first layer, its classes the last."""
    given = _field(meta, "preprocessing", dict, "preprocessing")
    task = _field(given, "task", str, "preprocessing.task")
    if task not in TASKS:
        raise _Bad(f"unknown task {task!r} (valid: {', '.join(TASKS)})")
    target = _field(given, "target", str, "preprocessing.target")
    classes = _field(given, "classes", list, "preprocessing.classes")
    if not all(isinstance(c, str) for c in classes) or len(set(classes)) != len(classes):
        raise _Bad("preprocessing.classes is not a list of distinct labels")
    if (task == "regression") != (len(classes) == 0) or len(classes) == 1:
        raise _Bad(f"{len(classes)} class(es) for a {task} task")
    features = []
    for f in _field(given, "features", list, "preprocessing.features"):
        f = _field({"f": f}, "f", dict, "a feature")
        name = _field(f, "name", str, "a feature's name")
        kind = _field(f, "kind", str, f"feature {name!r}: kind")
        levels = _field(f, "levels", list, f"feature {name!r}: levels")
        if kind not in ("numeric", "categorical") or not all(isinstance(v, str) for v in levels):
            raise _Bad(f"feature {name!r} is not a numeric or categorical column")
        features.append({"name": name, "kind": kind, "levels": levels,
                         "mean": _number(f, "mean", f"feature {name!r}: mean", 0.0),
                         "std": _number(f, "std", f"feature {name!r}: std", 1.0)})
    prep = Preprocessor.from_dict({"task": task, "target": target, "classes": classes,
                                   "features": features})
    if prep.n_inputs != arch["n_inputs"]:
        raise _Bad(f"its features make {prep.n_inputs} inputs, the first layer takes "
                   f"{arch['n_inputs']}")
    width = output_width(loss, task, len(classes))
    if width != arch["n_outputs"]:
        raise _Bad(f"a {task} model with {loss.qualified_name} has {width} output(s), "
                   f"its last layer {arch['n_outputs']}")
    return prep


def _array_header(archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], size: int,
                  name: str, shape: tuple[int, ...], dtype: np.dtype) -> zipfile.ZipInfo:
    """Check array `name`'s entry and .npy header against the shape and dtype the network needs."""
    info = _entry(infos, name, size)
    found, found_dtype, data = _header(archive, info)
    if found != shape:
        raise _Bad(f"{name} has shape {found}, the network needs {shape}")
    if found_dtype.kind != "f" or found_dtype.itemsize != dtype.itemsize:
        raise _Bad(f"{name} is {found_dtype}, the network is {dtype}")
    if data != math.prod(shape) * dtype.itemsize:
        raise _Bad(f"{name} holds {data:,} bytes of data, its shape {shape} needs "
                   f"{math.prod(shape) * dtype.itemsize:,}")
    return info


def _read_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    with archive.open(info) as entry:
        return np.lib.format.read_array(entry, allow_pickle=False)
def _reason(error: BaseException) -> str:
    if isinstance(error, zipfile.BadZipFile):
        return "not an .npz archive"
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
