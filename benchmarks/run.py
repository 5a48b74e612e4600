"""Benchmarks of lossctl against numpy, pandas, scikit-learn and PyTorch (issue 4).

    python benchmarks/run.py                      # everything, the full sizes (takes a while)
    python benchmarks/run.py --quick              # small sizes, 2 rounds: a smoke run
    python benchmarks/run.py --only startup,training --repeats 3 --output results.md

Every contender runs as a child process of the same interpreter (sys.executable), interleaved: each
round runs every contender once, in an order rotated by one per round. The Markdown report (tables
with medians, min – max, ratios against the targets, and the machine) goes to stdout; progress goes
to stderr. torch, scikit-learn, DuckDB and polars are optional: their rows are skipped with a note.

This process imports only the standard library: Linux starts each child's peak RSS at its parent's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cluster
import evaluation
import output
import startup
import throughput
import training
from inputs import HERE, Config
from report import Table, machine, runner_rss_note

SECTIONS: dict[str, Callable[[Config], list[Table]]] = {
    "startup": startup.run,
    "throughput": throughput.run,
    "training": training.run,
    "cluster": cluster.run,
    "evaluation": evaluation.run,
    "output": output.run,
}


THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _threads() -> str:
    chosen = [f"{name}={os.environ[name]}" for name in THREAD_VARS if name in os.environ]
    return ", ".join(chosen) if chosen else "each library's default"


def lossctl_command() -> tuple[str, ...]:
    """The console script next to this interpreter, else `python -m lossctl`."""
    script = Path(sys.executable).parent / "lossctl"
    return (str(script),) if script.exists() else (sys.executable, "-m", "lossctl")


def compile_lossctl(python: str) -> str:
    """Byte-compile the lossctl package, as `pip install` does, so start-up is measured as users see it.

    Without this, an editable install under PYTHONDONTWRITEBYTECODE=1 recompiles every module on
    every run.
    """
    code = "import compileall, lossctl; compileall.compile_dir(lossctl.__path__[0], quiet=1)"
    done = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return "lossctl byte-compiled before timing." if done.returncode == 0 else "Byte-compiling failed."


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and 2 rounds, for a smoke run")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma list of: " + ", ".join(SECTIONS))
    parser.add_argument("--repeats", type=int, help="interleaved rounds per comparison (default 5; quick 2)")
    parser.add_argument("--sizes", help="CSV row counts for throughput (default 1e6,1e7,5e7; quick 2e5,1e6)")
    parser.add_argument("--cluster-rows", help="rows in --only cluster's 8 parts (default 5e7; quick 2e6)")
    parser.add_argument("--epochs", type=int, help="epochs of the timed training runs (default 5; quick 2)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=HERE / ".data",
        help="where generated inputs are kept and reused (default benchmarks/.data)",
    )
    parser.add_argument("--output", type=Path, help="also write the Markdown report to this file")
    parser.add_argument("--threads", type=int, help="BLAS/OpenMP threads for every child (default: theirs)")
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(sorted(unknown))}")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def make_config(args: argparse.Namespace) -> Config:
    quick = args.quick
    repeats = args.repeats or (2 if quick else 5)
    sizes = args.sizes or ("2e5,1e6" if quick else "1e6,1e7,5e7")
    return Config(
        python=sys.executable,
        lossctl=lossctl_command(),
        data_dir=args.data_dir,
        repeats=repeats,
        startup_repeats=repeats * 3,
        sizes=tuple(sorted(int(float(n)) for n in sizes.split(","))),
        scce_rows=100_000 if quick else 1_000_000,
        parquet_max_rows=10_000_000,
        train_rows=10_000 if quick else 100_000,
        epochs=args.epochs or (2 if quick else 5),
        big_batch=4096,
        small_train_rows=2_000 if quick else 5_000,
        small_epochs=10 if quick else 50,
        cluster_rows=int(float(args.cluster_rows or (2e6 if quick else 5e7))),
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = make_config(args)
    if args.threads:
        for name in THREAD_VARS:
            os.environ[name] = str(args.threads)  # children inherit it; torch follows OMP_NUM_THREADS
    compiled = compile_lossctl(config.python)
    started = time.perf_counter()
    tables = [table for name in args.only.split(",") for table in SECTIONS[name](config)]
    minutes = (time.perf_counter() - started) / 60
    rss_note = runner_rss_note()  # before machine(), which imports more
    parts = [
        "## lossctl benchmarks",
        "",
        machine(config.python),
        *(t.markdown() for t in tables),
        f"{rss_note} {compiled} Threads: {_threads()}. Lossctl ran as `{' '.join(config.lossctl)}`; "
        f"total {minutes:.1f} min.\n",
    ]
    report = "\n".join(parts)
    print(report)
    if args.output:
        args.output.write_text(report)


if __name__ == "__main__":
    main()
