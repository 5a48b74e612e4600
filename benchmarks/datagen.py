"""Generate the benchmark inputs (run as a child process by run.py, so the runner stays small).

    python datagen.py mse ROWS OUT.csv           y_true,y_pred
    python datagen.py scce ROWS OUT.csv          label,p_0..p_9 (probabilities summing to ~1)
    python datagen.py parquet ROWS OUT.parquet   y_true,y_pred as float64 columns
    python datagen.py parts ROWS OUT_DIR         the same in PARTS Parquet files of ROWS / PARTS rows
    python datagen.py mlp ROWS TRAIN.csv VAL.csv x0..x19,label from a random teacher network, 80/20
    python datagen.py features ROWS OUT.csv      x0..x19,label of the same kind, one file (tiled)

Large files repeat one formatted block of up to 1e6 rows, so 5e7 rows take seconds. Values are
integers divided by 1e6 (or 1e5), so the CSV text is exact and every reader gets the same doubles.
Each file is written to a temporary name and renamed when complete; `OUT.json` next to it holds the
expected loss, computed here in float64 over the exact rows.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

BLOCK_ROWS = 1_000_000
SEED = 0
CLASSES = 10  # probability columns of the scce file
REGIONS = 20  # distinct values of the groups file's region column
MLP_FEATURES, MLP_CLASSES, MLP_TEACHER = 20, 5, 32


def _block_counts(rows: int) -> tuple[int, int, int]:
    """(block rows, full blocks, rows of the last partial block)."""
    block = min(rows, BLOCK_ROWS)
    return block, rows // block, rows % block


def _write_tiled(path: str, header: str, lines: list[str], rows: int) -> None:
    block, full, rest = _block_counts(rows)
    text = ("\n".join(lines) + "\n").encode()
    with open(path + ".tmp", "wb") as out:
        out.write((header + "\n").encode())
        for _ in range(full):
            out.write(text)
        if rest:
            out.write(("\n".join(lines[:rest]) + "\n").encode())
    os.replace(path + ".tmp", path)


def _tiled_mean(per_row: np.ndarray, rows: int) -> float:
    block, full, rest = _block_counts(rows)
    return float((per_row.sum() * full + per_row[:rest].sum()) / rows)


def _write_expected(path: str, loss: str, value: float) -> None:
    with open(path + ".json", "w") as out:
        json.dump({"loss": loss, "value": value}, out)


def _mse_block(rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    true_int = np.round(rng.normal(0, 1, rows) * 1e6).astype(np.int64)
    pred_int = true_int + np.round(rng.normal(0, 0.5, rows) * 1e6).astype(np.int64)
    return true_int, pred_int, true_int / 1e6, pred_int / 1e6


def _micro(value: int) -> str:
    """An integer count of millionths as exact decimal text."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 1_000_000)
    return f"{sign}{whole}.{frac:06d}"


def mse(rows: int, path: str) -> None:
    block, _, _ = _block_counts(rows)
    true_int, pred_int, y_true, y_pred = _mse_block(block)
    lines = [f"{_micro(t)},{_micro(p)}" for t, p in zip(true_int.tolist(), pred_int.tolist(), strict=True)]
    _write_tiled(path, "y_true,y_pred", lines, rows)
    _write_expected(path, "mse", _tiled_mean((y_pred - y_true) ** 2, rows))


def groups(rows: int, path: str) -> None:
    """The mse file with a region column in front: 20 words, drawn at random per row."""
    block, _, _ = _block_counts(rows)
    true_int, pred_int, y_true, y_pred = _mse_block(block)
    regions = np.random.default_rng(SEED + 1).integers(0, REGIONS, block)
    lines = [f"r{g:02d},{_micro(t)},{_micro(p)}"
             for g, t, p in zip(regions.tolist(), true_int.tolist(), pred_int.tolist(), strict=True)]
    _write_tiled(path, "region,y_true,y_pred", lines, rows)
    _write_expected(path, "mse", _tiled_mean((y_pred - y_true) ** 2, rows))


def scce(rows: int, path: str) -> None:
    block, _, _ = _block_counts(rows)
    rng = np.random.default_rng(SEED)
    logits = rng.normal(0, 2, (block, CLASSES))
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    micro = np.round(probs * 1e6).astype(np.int64)
    labels = rng.integers(0, CLASSES, block)
    rows_text = (",".join(map(_micro, row)) for row in micro.tolist())
    lines = [f"{lab},{text}" for lab, text in zip(labels.tolist(), rows_text, strict=True)]
    header = "label," + ",".join(f"p_{k}" for k in range(CLASSES))
    _write_tiled(path, header, lines, rows)
    # Keras: normalise the probabilities, clip to [1e-7, 1 - 1e-7], then -log of the true class.
    p = micro / 1e6
    p = np.clip(p / p.sum(axis=1, keepdims=True), 1e-7, 1 - 1e-7)
    per_row = -np.log(p[np.arange(block), labels])
    _write_expected(path, "sparse_categorical_crossentropy", _tiled_mean(per_row, rows))


def parquet(rows: int, path: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    block, full, rest = _block_counts(rows)
    _, _, y_true, y_pred = _mse_block(block)
    table = pa.table({"y_true": y_true, "y_pred": y_pred})
    with pq.ParquetWriter(path + ".tmp", table.schema) as writer:
        for _ in range(full):
            writer.write_table(table)
        if rest:
            writer.write_table(table.slice(0, rest))
    os.replace(path + ".tmp", path)
    _write_expected(path, "mse", _tiled_mean((y_pred - y_true) ** 2, rows))


PARTS = 8


def parts(rows: int, path: str) -> None:
    """PARTS Parquet files part-0.parquet ... in the folder `path`, each of rows / PARTS rows."""
    import shutil

    each = rows // PARTS
    if each * PARTS != rows:
        raise SystemExit(f"parts: {rows} rows do not split into {PARTS} equal parts")
    shutil.rmtree(path + ".tmp", ignore_errors=True)
    os.makedirs(path + ".tmp")
    for k in range(PARTS):
        parquet(each, os.path.join(path + ".tmp", f"part-{k}.parquet"))
        os.remove(os.path.join(path + ".tmp", f"part-{k}.parquet.json"))
    os.replace(path + ".tmp", path)
    _, _, y_true, y_pred = _mse_block(min(each, BLOCK_ROWS))
    _write_expected(path, "mse", _tiled_mean((y_pred - y_true) ** 2, each))


def _teacher_lines(rows: int) -> tuple[str, list[str]]:
    """Header and rows: features N(0, 1); the label is the argmax of a random tanh teacher network's
    outputs."""
    rng = np.random.default_rng(SEED)
    x = np.round(rng.normal(0, 1, (rows, MLP_FEATURES)) * 1e5) / 1e5
    w1 = rng.normal(0, 1 / np.sqrt(MLP_FEATURES), (MLP_FEATURES, MLP_TEACHER))
    w2 = rng.normal(0, 1 / np.sqrt(MLP_TEACHER), (MLP_TEACHER, MLP_CLASSES))
    labels = np.argmax(np.tanh(x @ w1) @ w2, axis=1)
    header = ",".join(f"x{j}" for j in range(MLP_FEATURES)) + ",label"
    rows_text = (",".join(f"{v:.5f}" for v in row) for row in x.tolist())
    return header, [f"{text},{lab}" for text, lab in zip(rows_text, labels.tolist(), strict=True)]


def mlp(rows: int, train_path: str, val_path: str) -> None:
    header, lines = _teacher_lines(rows)
    cut = rows * 4 // 5
    _write_tiled(val_path, header, lines[cut:], rows - cut)
    _write_tiled(train_path, header, lines[:cut], cut)


def features(rows: int, path: str) -> None:
    """The mlp rows, one file of any length: a block of up to 100,000 rows repeated."""
    header, lines = _teacher_lines(min(rows, 100_000))
    block = len(lines)
    text = ("\n".join(lines) + "\n").encode()
    with open(path + ".tmp", "wb") as out:
        out.write((header + "\n").encode())
        for _ in range(rows // block):
            out.write(text)
        if rows % block:
            out.write(("\n".join(lines[: rows % block]) + "\n").encode())
    os.replace(path + ".tmp", path)
    _write_expected(path, "rows", float(rows))


def main(argv: list[str]) -> None:
    kind, rows, *paths = argv
    makers = {"mse": mse, "groups": groups, "scce": scce, "parquet": parquet, "parts": parts, "mlp": mlp,
              "features": features}
    makers[kind](int(float(rows)), *paths)


if __name__ == "__main__":
    main(sys.argv[1:])
