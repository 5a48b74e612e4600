"""Binding CSV columns to a loss's input roles: from flags, or found by their common names.

A role binds to one or more columns. A spec is a comma-separated list of names or globs
(`y_pred`, `p_0,p_1,p_2`, `'p_*'`). Without a spec, a role is found by name: one column with a
common name (`label`, `prediction`, ...), or a numbered family (`y_pred_0..k`, `p_0..k`). Anything
ambiguous fails with the candidates listed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence

from lossctl.errors import UsageError

# Names a role is known by (any case), in order of preference; then numbered families `prefix_<i>`.
# `train` finds its target column by the y_true names too.
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "y_true": ("y_true", "true", "label", "labels", "target", "y", "actual", "truth", "class"),
    "y_pred": ("y_pred", "pred", "prediction", "predictions", "predicted", "score", "prob",
               "probability", "logit", "logits", "output"),
}
ROLE_FAMILIES: dict[str, tuple[str, ...]] = {
    "y_true": ("y_true", "true", "label", "target", "t", "y"),
    "y_pred": ("y_pred", "pred", "p", "prob", "logit", "score"),
}


def parse_spec(spec: str, header: Sequence[str], role: str) -> list[str]:
    """Columns named by a spec: comma-separated names or globs, in header order for a glob."""
    chosen: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if any(ch in part for ch in "*?["):
            matches = [name for name in header if fnmatch.fnmatchcase(name, part)]
            if not matches:
                raise UsageError(f"{role}: no column matches {part!r} (columns: {_listing(header)})")
            chosen.extend(matches)
        elif part in header:
            chosen.append(part)
        else:
            raise UsageError(f"{role}: no column {part!r} (columns: {_listing(header)})")
    if not chosen:
        raise UsageError(f"{role}: empty column list")
    return chosen


def find_role(
    role: str, header: Sequence[str], taken: set[str] = frozenset(), wide: bool = False
) -> list[str] | None:
    """The columns a role is found by name, None if none, UsageError if ambiguous.

    `wide`: the loss wants several columns here (class probabilities), so a numbered family wins
    over a single named column (as in `predict`'s output: a y_pred label and p_0..p_k).
    """
    free = [name for name in header if name not in taken]
    folded = {name.casefold(): name for name in free}
    names = ROLE_NAMES.get(role, (role,))
    exact = [folded[n] for n in names if n in folded]
    families = {}
    for prefix in ROLE_FAMILIES.get(role, (role,)):
        members = _numbered(prefix, free)
        if members:
            families[prefix] = members
    candidates = [[name] for name in exact] + list(families.values())
    if wide and len(families) == 1:
        candidates = list(families.values())
    if not candidates:
        return None
    if len(candidates) > 1:
        shown = ", ".join(",".join(c) if len(c) < 4 else f"{c[0]}..{c[-1]}" for c in candidates)
        flag = {"y_true": "--true", "y_pred": "--pred"}.get(role, f"--col {role}=")
        raise UsageError(f"{role} is ambiguous: columns {shown} all fit; choose with {flag}")
    return candidates[0]


def _numbered(prefix: str, names: Sequence[str]) -> list[str]:
    """Columns `prefix_0, prefix_1, ...` (or without the underscore), in numeric order from 0."""
    found = {}
    for name in names:  # string tests, not a regular expression: none is compiled at start-up
        if not name.lower().startswith(prefix.lower()):
            continue
        digits = name[len(prefix):]
        digits = digits[1:] if digits.startswith("_") else digits
        if digits.isdecimal():
            found[int(digits)] = name
    if not found or sorted(found) != list(range(len(found))):
        return []
    return [found[i] for i in range(len(found))]


def bind_roles(
    roles: Sequence[tuple[str, bool]],
    header: Sequence[str],
    specs: Mapping[str, str],
    source: str,
    wide_pred: bool = False,
    owner: str = "",
) -> dict[str, list[str]]:
    """Columns for each (role, optional) pair: from `specs` where given, else found by name.

    Columns bound by a spec are not considered when finding other roles by name. `owner` names
    the loss in the errors about its roles (several losses may be computed at once).
    """
    bound: dict[str, list[str]] = {}
    known = [role for role, _ in roles]
    for role in specs:
        if role not in known:
            raise UsageError(f"{owner or 'this loss'} takes no {role!r} input (inputs: {', '.join(known)})")
    for role, _ in roles:
        if role in specs:
            bound[role] = parse_spec(specs[role], header, role)
    taken = {c for cols in bound.values() for c in cols}
    for role, optional in roles:
        if role in bound:
            continue
        try:
            found = find_role(role, header, taken, wide=wide_pred and role == "y_pred")
        except UsageError as why:  # ambiguous: say for which loss
            raise UsageError(f"{owner}: {why}" if owner else str(why)) from None
        if found is None:
            if optional:
                continue
            flag = {"y_true": "--true COLS", "y_pred": "--pred COLS"}.get(role, f"--col {role}=COLS")
            raise UsageError(
                f"{source}: cannot tell which column is {role} (columns: {_listing(header)}); "
                f"name it with {flag}"
            )
        bound[role] = found
        taken.update(found)
    return bound


def _listing(header: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(header[:limit])
    return shown + (f", ... ({len(header)} in all)" if len(header) > limit else "")
