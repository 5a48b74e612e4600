"""The README is the contract with users: its examples run as written, and every loss is in it."""

from __future__ import annotations

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
        assert done.stdout.splitlines() == expected


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
