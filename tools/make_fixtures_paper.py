"""Write tests/fixtures/paper_losses.json: reference values for the `paper.*` losses.

Run it from the repository root with the reference env (it needs scipy and properscoring, which
lossctl itself does not):

    python tools/make_fixtures_paper.py

Where a maintained implementation exists, it gives each row's value: scipy's
`spatial.distance.jensenshannon` (squared: scipy returns the distance, the square root of the
divergence) and properscoring's `crps_gaussian` (whose `grad=True` also gives d CRPS / d mu, stored
as the gradient). sMAPE, wMAPE and the quantile loss have none, so their values come from the cited
formulas in exact rational arithmetic (`fractions.Fraction` of the float64 inputs, rounded once at
the end). The reductions are exact too: `sum` adds the rows' values (times the sample weights),
`mean` divides by the number of rows (by the summed weights; wMAPE: by the summed |y_true|).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import properscoring
import scipy
from scipy.spatial.distance import jensenshannon

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "paper_losses.json"
CASES: list[dict] = []


def _exact_abs(x: Fraction) -> Fraction:
    return -x if x < 0 else x


def smape_rows(y, f) -> list[Fraction]:
    rows = []
    for yr, fr in zip(y, f, strict=True):
        terms = []
        for a, b in zip(map(Fraction, yr), map(Fraction, fr), strict=True):
            scale = _exact_abs(a) + _exact_abs(b)
            terms.append(Fraction(0) if scale == 0 else _exact_abs(a - b) / scale)
        rows.append(200 * sum(terms) / len(terms))
    return rows


def wmape_rows(y, f) -> tuple[list[Fraction], list[Fraction]]:
    """Each row's 100 sum |y - f| and its sum |y| (the share of the divisor)."""
    errors = [100 * sum(_exact_abs(Fraction(a) - Fraction(b)) for a, b in zip(yr, fr, strict=True))
              for yr, fr in zip(y, f, strict=True)]
    return errors, [sum(_exact_abs(Fraction(a)) for a in yr) for yr in y]


def quantile_rows(y, f, levels) -> list[Fraction]:
    rows = []
    for yr, fr in zip(y, f, strict=True):
        terms = []
        for q, b in zip(map(Fraction, levels), map(Fraction, fr), strict=True):
            u = Fraction(yr[0]) - b
            terms.append(max(q * u, (q - 1) * u))
        rows.append(sum(terms) / len(terms))
    return rows


def jsd_rows(p, q, base) -> list[Fraction]:
    return [Fraction(float(jensenshannon(np.asarray(a), np.asarray(b), base=base)) ** 2)
            for a, b in zip(p, q, strict=True)]


def add(tag: str, loss: str, inputs: dict, rows: list[Fraction], params: dict | None = None,
        shares: list[Fraction] | None = None, row_grads: list | None = None, weights=None) -> None:
    """One case per reduction, from exact per-row values (and per-row d value / d y_pred)."""
    n = len(rows)
    w = [Fraction(1)] * n if weights is None else [Fraction(v) for v in weights]
    divisor = sum(wi * si for wi, si in zip(w, shares, strict=True)) if shares else sum(w)
    for reduction in ("none", "sum", "mean"):
        if reduction == "none":
            value = [float(wi * r) for wi, r in zip(w, rows, strict=True)]
            scale = w
        else:
            total = sum(wi * r for wi, r in zip(w, rows, strict=True))
            value = float(total) if reduction == "sum" else float(total / divisor)
            scale = w if reduction == "sum" else [wi / divisor for wi in w]
        grad = None
        if row_grads is not None:
            grad = [[float(s * Fraction(g)) for g in gr] for s, gr in zip(scale, row_grads, strict=True)]
        CASES.append({
            "id": f"paper-{loss}-{tag}-{reduction}" + ("-sw" if weights is not None else ""),
            "loss": f"paper.{loss}",
            "params": params or {},
            "inputs": inputs,
            "sample_weight": weights,
            "reduction": reduction,
            "value": value,
            "grad": grad,
        })


def both(tag, loss, inputs, rows, weights, **kw) -> None:
    add(tag, loss, inputs, rows, **kw)
    add(tag, loss, inputs, rows, weights=weights, **kw)


def crps(y, mu, std) -> tuple[list[Fraction], list[list[float]]]:
    """Each row's mean CRPS over its columns, and d(row) / d mu per column (properscoring)."""
    y, mu, std = (np.asarray(a, dtype=np.float64) for a in (y, mu, std))
    values, grads = properscoring.crps_gaussian(y, mu, std, grad=True)
    k = y.shape[1]
    rows = [sum(Fraction(float(v)) for v in row) / k for row in values]
    return rows, [[float(Fraction(float(g)) / k) for g in row] for row in grads[0]]


def build() -> None:
    rng = np.random.default_rng(20261127)
    w4 = [0.5, 2.0, 1.0, 3.0]

    # sMAPE (M4): horizons as columns, a zero forecast of a zero, a zero y, negative values.
    y = [[100.0, 110.0, 120.0], [5.0, 0.0, 0.0], [-2.0, 3.5, 1e-9], [7.25, 7.25, 7.25]]
    f = [[90.0, 121.5, 118.0], [4.0, 0.0, 3.0], [2.0, 3.0, 0.0], [7.25, 7.0, 8.0]]
    both("4x3", "smape", {"y_true": y, "y_pred": f}, smape_rows(y, f), w4)
    y1 = np.round(rng.uniform(1, 50, (5, 1)), 3).tolist()
    f1 = np.round(rng.uniform(1, 50, (5, 1)), 3).tolist()
    add("5x1", "smape", {"y_true": y1, "y_pred": f1}, smape_rows(y1, f1))
    add("perfect", "smape", {"y_true": y[:1], "y_pred": y[:1]}, smape_rows(y[:1], y[:1]))

    # wMAPE: a ratio of sums; a row of zero y_true still counts its errors.
    errors, shares = wmape_rows(y, f)
    both("4x3", "wmape", {"y_true": y, "y_pred": f}, errors, w4, shares=shares)
    errors1, shares1 = wmape_rows(y1, f1)
    add("5x1", "wmape", {"y_true": y1, "y_pred": f1}, errors1, shares=shares1)
    y0, f0 = [[0.0, 0.0], [2.0, 4.0]], [[1.0, 0.0], [2.0, 3.0]]
    errors0, shares0 = wmape_rows(y0, f0)
    add("zero-row", "wmape", {"y_true": y0, "y_pred": f0}, errors0, shares=shares0)

    # Jensen-Shannon: identical rows (0), disjoint supports (log 2), zeros, unnormalised rows.
    p = [[0.5, 0.5, 0.0], [0.1, 0.2, 0.7], [1.0, 0.0, 0.0], [2.0, 1.0, 1.0], [0.2, 0.3, 0.5]]
    q = [[0.25, 0.25, 0.5], [0.1, 0.3, 0.6], [0.0, 0.5, 0.5], [1.0, 1.0, 2.0], [0.2, 0.3, 0.5]]
    both("5x3", "jensen_shannon", {"y_true": p, "y_pred": q}, jsd_rows(p, q, None), [*w4, 1.5])
    add("5x3-base2", "jensen_shannon", {"y_true": p, "y_pred": q}, jsd_rows(p, q, 2.0),
        params={"base": "2"})
    pr = rng.dirichlet(np.ones(4), 3).tolist()
    qr = rng.dirichlet(np.ones(4), 3).tolist()
    add("random", "jensen_shannon", {"y_true": pr, "y_pred": qr}, jsd_rows(pr, qr, None))

    # CRPS of a normal forecast: z near 0, in the tails, a tiny std, one std column for two outputs.
    yc = [[0.0], [1.5], [-3.0], [10.0], [0.3]]
    mc = [[0.2], [0.5], [3.0], [0.0], [0.3]]
    sc = [[1.0], [0.5], [0.25], [2.0], [1e-3]]
    rows, grads = crps(yc, mc, sc)
    both("5x1", "crps_gaussian", {"y_true": yc, "y_pred": mc, "std": sc}, rows, [*w4, 0.25],
         row_grads=grads)
    y2 = np.round(rng.normal(size=(3, 2)), 4).tolist()
    m2 = np.round(rng.normal(size=(3, 2)), 4).tolist()
    s2 = np.round(rng.uniform(0.2, 2.0, (3, 1)), 4).tolist()
    rows2, grads2 = crps(y2, m2, np.repeat(np.asarray(s2), 2, axis=1))
    add("3x2-onestd", "crps_gaussian", {"y_true": y2, "y_pred": m2, "std": s2}, rows2,
        row_grads=grads2)

    # Quantile loss: three levels; a forecast hitting y exactly; one level.
    levels = [0.1, 0.5, 0.9]
    yq = [[10.0], [12.0], [7.5], [-1.0]]
    fq = [[8.0, 10.5, 13.0], [9.0, 11.0, 12.5], [7.5, 7.5, 7.5], [-3.0, 0.25, 2.0]]
    both("4x3", "quantile_loss", {"y_true": yq, "y_pred": fq}, quantile_rows(yq, fq, levels), w4,
         params={"quantiles": "0.1,0.5,0.9"})
    add("one-level", "quantile_loss", {"y_true": yq, "y_pred": [r[:1] for r in fq]},
        quantile_rows(yq, [r[:1] for r in fq], [0.25]), params={"quantiles": "0.25"})


def main() -> None:
    build()
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    doc = {
        "generator": "tools/make_fixtures_paper.py",
        "scipy": scipy.__version__,
        "properscoring": getattr(properscoring, "__version__", "unknown"),
        "cases": CASES,
    }
    OUT.write_text(json.dumps(doc, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {len(CASES)} cases to {OUT}")


if __name__ == "__main__":
    main()
