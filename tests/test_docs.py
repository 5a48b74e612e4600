"""The README is the contract with users: its examples run as written, and every loss is in it."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def console_examples() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every `$ lossctl ...` line of the README's console blocks."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.DOTALL):
        command, output = None, []
        for line in block.splitlines() + ["$ "]:
            if line.startswith("$ "):
                if command is not None and "lossctl" in command.split("#")[0]:
                    examples.append((command, output))
                command, output = re.sub(r"\s{2,}#.*$", "", line[2:]).strip(), []
            else:
                output.append(line)
    return [(c, o) for c, o in examples if not c.startswith(("pip ", "python -m pytest"))]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A scratch folder with sample_data/ in it: the README's examples write model files."""
    path = tmp_path_factory.mktemp("readme")
    (path / "sample_data").symlink_to(ROOT / "sample_data")
    return path


# The examples run in README order (later ones use the model an earlier one saved).
@pytest.mark.parametrize(("command", "expected"), console_examples(), ids=lambda v: str(v)[:60])
def test_readme_example_runs_as_written(command: str, expected: list[str], workdir: Path) -> None:
    shell = re.sub(r"(^|\|\s*)lossctl ", rf"\1{sys.executable} -m lossctl ", command)
    done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], cwd=workdir, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    if expected:
        assert_same_text(done.stdout.splitlines(), expected)


# A number as the README prints one: an optional sign, digits, an optional fraction and exponent.
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:inf|nan)\b")
RTOL = 1e-12  # numpy's log/exp may differ in the last bit between CPUs (AVX-512 or not)


def same_line(actual: str, expected: str, rtol: float = RTOL) -> bool:
    """Text equal, and each number equal to `rtol` (integers and other text exactly)."""
    a_numbers, e_numbers = NUMBER.findall(actual), NUMBER.findall(expected)
    if NUMBER.sub("#", actual) != NUMBER.sub("#", expected) or len(a_numbers) != len(e_numbers):
        return False
    for a, e in zip(a_numbers, e_numbers, strict=True):
        if a == e:
            continue
        if not any(c in e for c in ".eEn"):  # an integer (a count, an epoch): exact
            return False
        if not math.isclose(float(a), float(e), rel_tol=rtol, abs_tol=0.0):
            return False
    return True


def assert_same_text(actual: list[str], expected: list[str]) -> None:
    assert len(actual) == len(expected), f"{len(actual)} lines, the README shows {len(expected)}"
    for a, e in zip(actual, expected, strict=True):
        assert same_line(a, e), f"printed {a!r}, the README shows {e!r}"


@pytest.mark.parametrize(
    ("actual", "expected", "same"),
    [
        ("0.40047756659712536", "0.4004775665971253", True),  # one ulp: AVX-512's log1p
        ("0.4004775665971254", "0.4004775665971253", True),
        ("0.4004775665", "0.4004775665971253", False),  # rounded: not the promised digits
        ("72.375", "72.375", True),
        ("72.376", "72.375", False),
        ("8", "9", False),
        ("keras.huber,mean,5.6875,8", "keras.huber,mean,5.6875,8", True),
        ("keras.huber,sum,5.6875,8", "keras.huber,mean,5.6875,8", False),
        ("1.0,2.0", "1.0", False),
        ("loss 1e-07", "loss 1.0000000000000001e-07", True),
    ],
)
def test_numbers_compare_with_a_tolerance_text_exactly(actual: str, expected: str, same: bool) -> None:
    assert same_line(actual, expected) is same


def test_every_loss_and_command_is_documented() -> None:
    from lossctl.cli import app
    from lossctl.losses import REGISTRY

    missing = [loss.qualified_name for loss in REGISTRY if f"`{loss.qualified_name}`" not in README]
    assert not missing, f"README's loss table lacks {missing}"
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert all(f"lossctl {name}" in README for name in commands)


def test_readme_loss_table_is_current() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from loss_table import section
    finally:
        sys.path.pop(0)
    assert section() in README, "run: python tools/loss_table.py --write"
