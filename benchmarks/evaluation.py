"""`compute --by` and `compute --ci` on large files: what a breakdown and an interval cost.

Targets (issue 17): `--by` at most 1.3x the same `compute` without it, `--ci` (Poisson bootstrap,
1000 replicates) at most 3x; the pandas `groupby` script a user would write is the outside reference.
The file: region (20 words), y_true, y_pred.
"""

from __future__ import annotations

import sys

from harness import Contender, Outcome, run_interleaved
from inputs import Config, NoRoom, data_file, expected_value, script
from report import Table, mib, ratio, rounds, seconds, spread, verdict
from throughput import rows_label

HEADERS = ["rows", "contender", "wall median", "min – max", "peak RSS", "vs compute", "target", "status"]
TARGETS = {"lossctl --by region": 1.3, "lossctl --ci 0.95": 3.0}


def _last_value(column: int):
    """The overall value from the last line of a CSV output (`column`: its position)."""
    def parse(stdout: str) -> dict[str, float]:
        return {"value": float(stdout.strip().splitlines()[-1].split(",")[column])}
    return parse


def run(config: Config) -> list[Table]:
    table = Table("Evaluation: `compute --by` and `--ci` against plain `compute` (issue 17)", HEADERS)
    table.notes.append(
        f"Reference: `lossctl compute --loss mse` on the same file; targets: --by ≤ 1.3x, --ci (1000 "
        f"Poisson replicates) ≤ 3x. {rounds(config.repeats).capitalize()}.")
    for rows in config.sizes:
        try:
            path = data_file(config, "groups", rows)
        except NoRoom as error:
            table.notes.append(f"{rows_label(rows)} rows skipped: {error}.")
            continue
        base = [*config.lossctl, "compute", "--loss", "mse", str(path)]
        contenders = [
            Contender("lossctl compute", base, parse=_last_value(0)),
            Contender("lossctl --by region", [*base, "--by", "region", "-f", "csv"], parse=_last_value(3)),
            Contender("lossctl --ci 0.95", [*base, "--ci", "0.95", "-f", "csv"], parse=_last_value(2)),
            Contender("pandas groupby", [config.python, script("groupby_pandas.py"), str(path), "region"],
                      parse=_last_value(1)),
        ]
        print(f"evaluation: {rows_label(rows)} rows", file=sys.stderr, flush=True)
        table.rows += _rows(rows, run_interleaved(contenders, config.repeats), expected_value(path))
    return [table]


def _rows(rows: int, outcomes: list[Outcome], expected: float) -> list[list[str]]:
    base = outcomes[0].stats()
    out = []
    for outcome in outcomes:
        label = outcome.contender.label
        if not outcome.ok:
            out.append([rows_label(rows), label, f"failed: {outcome.error}", *[""] * 5])
            continue
        wall = outcome.stats()
        share = wall.median / base.median if base else None
        value = outcome.samples[0].values.get("value")
        value_ok = value is not None and abs(value - expected) <= 1e-9 * abs(expected)
        limit = TARGETS.get(label)
        status = ""
        if limit is not None:
            status = verdict(share is not None and share <= limit and value_ok)
        elif not value_ok:
            status = "**value**"
        out.append([rows_label(rows), label, seconds(wall.median), spread(wall),
                    mib(outcome.stats("rss_mib").high), ratio(share),
                    f"≤ {limit}x" if limit else ("reference" if outcome is outcomes[0] else ""), status])
    return out
