"""Start-up: whole lossctl processes against `python -c 'import numpy'` (target: within 2x)."""

from __future__ import annotations

import sys

from harness import Contender, Outcome, run_interleaved
from inputs import Config, small_csv
from report import Table, mib, ratio, rounds, seconds, spread, verdict

TARGET = 2.0


def run(config: Config) -> list[Table]:
    small = str(small_csv(config))
    reference = Contender("`python -c 'import numpy'`", [config.python, "-c", "import numpy"])
    contenders = [
        reference,
        Contender("`python -c pass`", [config.python, "-c", "pass"]),
        Contender(
            "`lossctl compute --loss mse small.csv`", [*config.lossctl, "compute", "--loss", "mse", small]
        ),
        Contender("`lossctl --help`", [*config.lossctl, "--help"]),
        Contender("`lossctl list`", [*config.lossctl, "list"]),
    ]
    print(f"startup: {config.startup_repeats} rounds", file=sys.stderr, flush=True)
    outcomes = run_interleaved(contenders, config.startup_repeats, warmup=True)
    table = Table(
        "Start-up (whole processes)",
        ["command", "wall median", "min – max", "peak RSS", "vs import numpy", "target", "status"],
        notes=[f"{rounds(config.startup_repeats)} after one warm-up round; small.csv has 4 rows."],
    )
    base = outcomes[0].stats()
    for outcome in outcomes:
        table.rows.append(_row(outcome, base.median if base else None, outcome.contender is reference))
    return [table]


def _row(outcome: Outcome, base: float | None, is_reference: bool) -> list[str]:
    label = outcome.contender.label
    if not outcome.ok:
        return [label, f"failed: {outcome.error}", "", "", "", "", ""]
    wall, rss = outcome.stats(), outcome.stats("rss_mib")
    share = wall.median / base if base else None
    is_lossctl = label.startswith("`lossctl")
    target = f"≤ {TARGET:g}x" if is_lossctl else ("reference" if is_reference else "")
    passed = (share is not None and share <= TARGET) if is_lossctl else None
    return [label, seconds(wall.median), spread(wall), mib(rss.high), ratio(share), target, verdict(passed)]
