"""Print the README's table of losses from the registry; `--write` puts it into README.md.

    python tools/loss_table.py --write

The table sits between the markers `<!-- losses:start -->` and `<!-- losses:end -->`;
tests/test_docs.py fails when it is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lossctl.losses import REGISTRY, Loss

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- losses:start -->", "<!-- losses:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _row(loss: Loss) -> str:
    aliases = ", ".join(f"`{a}`" for a in loss.aliases)
    inputs = ", ".join(f"{i.role}?" if i.optional else i.role for i in loss.inputs)
    params = ", ".join(
        f"{p.name}={','.join(map(str, p.default)) if isinstance(p.default, tuple) else p.default}"
        for p in loss.params
    )
    return f"| `{loss.qualified_name}` | {aliases} | {inputs} | {_cell(params)} | {_cell(loss.summary)} |"


def table() -> str:
    lines = ["| loss | aliases | inputs (? = optional) | parameters (defaults) | what it measures |",
             "| --- | --- | --- | --- | --- |"]
    lines += [_row(loss) for loss in REGISTRY]
    return "\n".join(lines)


def section() -> str:
    return f"{START}\n{table()}\n{END}"


def main() -> None:
    if "--write" in sys.argv[1:]:
        text = README.read_text()
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        README.write_text(head + section() + tail)
    else:
        print(table())


if __name__ == "__main__":
    main()
