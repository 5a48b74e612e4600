"""Markdown output: tables with notes, number formatting, and a description of the machine."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
from dataclasses import dataclass, field

from harness import Stats

PACKAGES = ("lossctl", "numpy", "pandas", "pyarrow", "torch", "scikit-learn")


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        if self.rows:
            lines.append("| " + " | ".join(self.headers) + " |")
            lines.append("|" + "|".join(" --- " for _ in self.headers) + "|")
            lines += ["| " + " | ".join(row) + " |" for row in self.rows]
            lines.append("")
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 1000:.0f} ms" if value >= 0.01 else f"{value * 1000:.2f} ms"
    return f"{value:.2f} s"


def spread(stats: Stats | None) -> str:
    return "—" if stats is None else f"{seconds(stats.low)} – {seconds(stats.high)}"


def mib(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} MiB"


def ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def rounds(count: int) -> str:
    return "one round" if count == 1 else f"{count} interleaved rounds"


def verdict(passed: bool | None) -> str:
    return "—" if passed is None else ("ok" if passed else "**miss**")


def machine(python: str) -> str:
    """CPU, cores, RAM, OS, Python, package versions and BLAS, as a Markdown list."""
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        "\n".join(
            [
                f"- CPU: {_cpu_model()}, {os.cpu_count()} logical cores; RAM {_ram_gib():.1f} GiB",
                f"- OS: {platform.platform()}; Python {platform.python_version()} ({python})",
                f"- {versions}",
                f"- BLAS: {_blas(python)}",
                f"- load average (1, 5, 15 min): {load}",
            ]
        )
        + "\n"
    )


def runner_rss_note() -> str:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"Peak RSS is each child's `ru_maxrss` (`os.wait4`); it cannot read below the runner's own "
        f"peak, {own:.0f} MiB, which Linux carries over into children."
    )


def _version(name: str) -> str:
    from importlib import metadata  # imported late: it is large, and the runner should stay small

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _ram_gib() -> float:
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def _blas(python: str) -> str:
    """numpy's BLAS, asked of a child process (importing numpy here would raise every child's RSS)."""
    code = (
        "import json, numpy\n"
        "blas = numpy.show_config(mode='dicts')['Build Dependencies']['blas']\n"
        "print(json.dumps([blas.get('name'), blas.get('version')]))\n"
    )
    try:
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=True)
        name, version = json.loads(done.stdout)
        return f"{name} {version}"
    except (subprocess.SubprocessError, ValueError, OSError):
        return "unknown"
