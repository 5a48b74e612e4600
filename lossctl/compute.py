"""`lossctl compute` as a library: losses of CSV columns, streamed block by block.

    input(s) -> io Table blocks (joined with a --labels table) -> per-loss inputs by role
             -> loss values -> reduction

Reductions other than `none` keep only running sums (`reduction.Partial`), so memory is bounded
by one block whatever the file's length; `none` yields its rows as they are computed. Losses whose
value depends on the whole batch (`Loss.batchwise`) and gradients read every row first.
`Computation.partials()` and `finish()` are the engines' contract (`lossctl.engine`): the local
engine runs both here; the dask engine runs `partials()` of each part on a worker, described by a
`Query` (plain data), and adds them with `combine`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from lossctl.errors import DataError, InputValueError, UsageError
from lossctl.evaluate.groups import GroupSums, Key, sort_key
from lossctl.evaluate.plan import Plan
from lossctl.evaluate.tallies import GroupTallies, Tallied, check_ci_method, tally_interval, tally_value
from lossctl.io.block import Block, NanPolicy, Table
from lossctl.io.chunks import map_ahead
from lossctl.io.columns import bind_roles, parse_spec
from lossctl.io.join import join_by_key, join_by_position
from lossctl.losses import get_loss
from lossctl.losses.evaluate import as_inputs, batch_value, check_gradient, loss_values
from lossctl.losses.reduction import (
    Partial,
    check_reduction,
    check_sample_weights,
    finish,
    partial,
    reduce,
    row_partial,
    upstream,
)
from lossctl.losses.registry import Loss
from lossctl.losses.tally import Labels
from lossctl.threads import worker_count


@dataclass
class Job:
    """One loss to compute: the loss, its parsed parameters and its columns by role."""

    loss: Loss
    params: dict[str, Any]
    reduction: str
    columns: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Query:
    """What `compute` is asked for, as plain data: the dask engine sends it to the workers, which
    build the same `Computation` on each part of the input."""

    losses: tuple[tuple[str, Mapping[str, str]], ...]  # qualified names, each with its -p texts
    reduction: str | None = None  # None: each family's default
    specs: Mapping[str, str] = field(default_factory=dict)  # role -> --true/--pred/--col spec
    weights: str | None = None
    nan: NanPolicy = "error"
    delimiter: str | None = None  # of CSV input; None: by name, else sniffed
    key: str | None = None  # --on: the labels' rows joined by this column
    plan: Plan = field(default_factory=Plan)  # --by, --ci, --bootstrap, --seed

    def computation(self, table: Table, labels: Table | None = None) -> Computation:
        losses = [(get_loss(name), given) for name, given in self.losses]
        return Computation(table, losses, self.reduction, self.specs, self.weights, labels, self.nan,
                           self.key, self.plan)


@dataclass
class Result:
    """A reduced loss value (or, for `none` on a batch-wise loss, its single value); an array of
    one value per output column for a metric asked for them (scikit-learn's raw_values)."""

    loss: Loss
    params: dict[str, Any]
    reduction: str
    value: float | np.ndarray
    rows: int
    group: Key | None = None  # with --by: the group's values (None: all rows)
    ci: tuple[float, float] | None = None  # with --ci (arrays for a value per class or output)
    ci_method: str | None = None  # how `ci` was found: "bootstrap", "delong"


@dataclass
class Gradient:
    """d(reduced loss)/d(y_pred), one row per input row, and the y_pred columns it is taken in;
    `rows`: where the rows come from (their part files and lines), for an input of several parts."""

    values: np.ndarray
    columns: list[str]
    rows: Block | None = None


class Computation:
    """Losses of one input table (and, optionally, a second table holding y_true, row by row)."""

    def __init__(
        self,
        table: Table,
        losses: Sequence[tuple[Loss, Mapping[str, str]]],
        reduction: str | None = None,
        specs: Mapping[str, str] | None = None,
        weights: str | None = None,
        labels: Table | None = None,
        nan: str = "error",
        key: str | None = None,
        plan: Plan | None = None,
    ) -> None:
        self.table, self.labels, self.reduction, self.nan = table, labels, reduction, nan
        self.key = key  # join the labels' rows by this column, not by position
        if key is not None and labels is None:
            raise UsageError("--on joins the --labels file by a key column: give --labels too")
        self.plan = plan or Plan()
        self._read: tuple[np.ndarray, list[np.ndarray]] | None = None  # rows whole_batch() read
        specs = dict(specs or {})
        # No reduction given: each loss takes its family's default.
        self.jobs = [
            Job(loss, loss.resolve_params(given), reduction or loss.family.default_reduction)
            for loss, given in losses
        ]
        for job in self.jobs:
            check_reduction(job.loss, job.reduction)
            if weights:
                check_sample_weights(job.loss)
            self._bind(job, specs)
        self.weight_column = None
        if weights:
            chosen = parse_spec(weights, table.header, "weights")
            if len(chosen) != 1:
                raise UsageError("--weights takes one column")
            self.weight_column = chosen[0]
        self.plan.check([job.loss for job in self.jobs], table.header, table.name, reduction)
        for job in self.jobs:
            if job.loss.tally is not None and self.plan.level is not None:
                check_ci_method(job.loss, job.params, self.plan.ci_method)

    def _bind(self, job: Job, specs: dict[str, str]) -> None:
        # An optional input also given as a constant (-p var=0.5) is not looked for in the CSV.
        constant = {i.role for i in job.loss.inputs if i.optional and job.params.get(i.role) is not None}
        both = sorted(constant & set(specs))
        if both:
            raise UsageError(
                f"{job.loss.qualified_name}: give {both[0]} as a column (--col) or as -p {both[0]}=..., "
                "not both"
            )
        roles = [(i.role, i.optional) for i in job.loss.inputs if i.role not in constant]
        wide = job.loss.class_index_target or job.loss.output_activation == "softmax"
        if self.labels is not None:
            main_roles = [r for r in roles if r[0] != "y_true"]
            main_specs = {k: v for k, v in specs.items() if k != "y_true"}
            job.columns = bind_roles(main_roles, self.table.header, main_specs, self.table.name, wide,
                                     job.loss.qualified_name)
            label_header = [c for c in self.labels.header if c != self.key]
            if "y_true" in specs or len(label_header) > 1:
                job.columns |= {
                    f"labels:{k}": v
                    for k, v in bind_roles(
                        [("y_true", False)], label_header, {k: v for k, v in specs.items()
                                                            if k == "y_true"}, self.labels.name
                    ).items()
                }
            else:
                job.columns["labels:y_true"] = list(label_header)
        else:
            job.columns = bind_roles(roles, self.table.header, specs, self.table.name, wide,
                                     job.loss.qualified_name)

    # -- reading ----------------------------------------------------------------------------

    @staticmethod
    def _label_roles(job: Job) -> tuple[str, ...]:
        """The roles of a tallied metric whose columns hold class labels (numbers or text)."""
        return job.loss.tally.label_roles if job.loss.tally is not None else ()

    def cell_columns(self) -> list[str]:
        """The columns of `table` read as labels, cell by cell (numbers or text), not as numbers."""
        return list(dict.fromkeys(c for job in self.jobs for role, cols in job.columns.items()
                                  if role in self._label_roles(job) for c in cols))

    def _main_columns(self) -> list[str]:
        names = [c for job in self.jobs for role, cols in job.columns.items()
                 if not role.startswith("labels:") and role not in self._label_roles(job) for c in cols]
        if self.weight_column:
            names.append(self.weight_column)
        return list(dict.fromkeys(names))

    def _label_columns(self) -> list[str]:
        return list(dict.fromkeys(c for job in self.jobs for role, cols in job.columns.items()
                                  if role.startswith("labels:") for c in cols))

    def _blocks(self) -> Iterator[tuple[Block, dict[str, np.ndarray], Block | None]]:
        """Each block of rows as (block, column name -> values, labels block)."""
        main = self._main_columns()
        # --by columns and class labels: as text, or as codes (keys)
        keys = list(dict.fromkeys([*self.plan.by, *self.cell_columns()]))
        if self.labels is None:
            for block in self.table.blocks(main, nan=self.nan, keys=keys):
                yield block, self.columns_of(block, main), None
            return
        label_names = self._label_columns()
        if self.key is None:
            pairs = join_by_position(self.table, self.labels, main, label_names, self.nan, keys)
        else:
            pairs = join_by_key(self.table, self.labels, self.key, main, label_names, self.nan, keys)
        for block, labels in pairs:
            columns = self.columns_of(block, main)
            columns |= {f"labels:{n}": labels.data[:, j] for j, n in enumerate(label_names)}
            yield block, columns, labels

    def columns_of(self, block: Block, names: Sequence[str]) -> dict[str, Any]:
        """A block's columns by name (`names`: its numeric columns' order), its text columns, and
        the cells of label columns under `cells:NAME`. A --by column that a loss also reads as
        numbers (--by y_true) stays numbers for the loss."""
        columns = block.text | {name: block.data[:, j] for j, name in enumerate(names)}
        return columns | {f"cells:{c}": block.text[c] for c in self.cell_columns() if c in block.text}

    def read_columns(self) -> list[str]:
        """The numeric columns of `table` that the losses and --weights read (`compare` reads them)."""
        return self._main_columns()

    def block_values(self, block: Block, names: Sequence[str]) -> tuple[dict[str, np.ndarray], list]:
        """A block's columns by name (`names`: its numeric columns' order; its text columns) and
        each job's unreduced values (None for a tallied metric)."""
        columns = self.columns_of(block, names)
        return columns, [None if job.loss.tally is not None else self._values(job, columns, block, None)[1]
                         for job in self.jobs]

    def _arrays(self, job: Job, columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        arrays = {}
        for role, cols in job.columns.items():
            prefix = "labels:" if role.startswith("labels:") else ""
            arrays[role.removeprefix("labels:")] = np.column_stack([columns[prefix + c] for c in cols])
        return as_inputs(job.loss, arrays)

    def tally_inputs(self, job: Job, columns: Mapping[str, Any], block: Block,
                     labels: Block | None = None) -> dict[str, Any]:
        """A tallied metric's inputs: its label roles as `Labels`, the others as float64 (n, k)."""
        inputs: dict[str, Any] = {}
        for role, cols in job.columns.items():
            name = role.removeprefix("labels:")
            prefix = "labels:" if role.startswith("labels:") else ""
            if name in self._label_roles(job):
                try:
                    inputs[name] = Labels.of([columns[f"{prefix or 'cells:'}{c}"] for c in cols])
                except DataError as error:
                    source = (self.labels if prefix and self.labels else self.table).name
                    raise DataError(f"{source}: {name} ({', '.join(cols)}): {error} "
                                    f"({job.loss.qualified_name})") from None
            else:
                inputs[name] = np.column_stack([columns[prefix + c] for c in cols])
        widths = {role: len(cols) for role, cols in job.columns.items()}
        pred = widths.get("y_pred")
        for spec in job.loss.inputs:
            width = widths.get(spec.role, widths.get(f"labels:{spec.role}"))
            if width is None:
                continue
            if spec.width == "one" and width != 1 or spec.width == "like_pred" and pred and width != pred:
                want = "one column" if spec.width == "one" else f"as many columns as y_pred ({pred})"
                raise DataError(f"{self.table.name}: {job.loss.qualified_name}: {spec.role} takes {want}, "
                                f"got {width}")
        return inputs

    def _tally(self, job: Job, inputs: dict[str, Any], weights: np.ndarray | None, rows: np.ndarray | None,
               slot: np.ndarray | None, slots: int, block: Block, labels: Block | None):
        """The tally of some rows of a block (None: all), their errors naming the file and line."""
        metric = job.loss.tally
        assert metric is not None
        if rows is not None:
            inputs = take_rows(inputs, rows)
            weights = None if weights is None else weights[rows]
        try:
            with np.errstate(all="ignore"):
                return metric.tally(inputs, job.params, weights, slot, slots)
        except InputValueError as error:
            if rows is not None and error.row is not None:
                error.row = int(rows[error.row])
            raise self._explain(error, job, block, labels) from None
        except DataError as error:
            raise DataError(f"{self.table.name}: {error} ({job.loss.qualified_name})") from None

    def _weights(self, columns: Mapping[str, np.ndarray]) -> np.ndarray | None:
        return columns[self.weight_column] if self.weight_column else None

    def _explain(self, error: InputValueError, job: Job, block: Block, labels: Block | None) -> DataError:
        """Turn a loss's array position into the file, line and column of the input."""
        role = error.role or "y_pred"
        in_labels = f"labels:{role}" in job.columns
        key = f"labels:{role}" if in_labels else role
        rows = labels if in_labels and labels is not None else block
        source = (self.labels if in_labels else self.table).name
        where = []
        if error.row is not None:  # the part file the row is in, when the input has several
            source = rows.source_of(error.row)
            where.append(f"{rows.where} {rows.line_of(error.row)}")
        cols = job.columns.get(key)
        if cols and error.column is not None and error.column < len(cols):
            where.append(f"column {cols[error.column]}")
        prefix = f"{source}: " + (", ".join(where) + ": " if where else "")
        return DataError(f"{prefix}{error.message} ({job.loss.qualified_name})")

    def _values(self, job: Job, columns, block: Block, labels: Block | None):
        try:
            inputs = self._arrays(job, columns)
            return inputs, loss_values(job.loss, inputs, job.params)
        except InputValueError as error:
            raise self._explain(error, job, block, labels) from None
        except DataError as error:  # a column count the loss cannot take
            raise DataError(f"{self.table.name}: {error}") from None

    # -- results ----------------------------------------------------------------------------

    def reduced(self) -> list[Result]:
        """Every job's reduced value, streaming: memory is a few blocks."""
        return self.finish(self.partials())

    def partials(self) -> list:
        """Per job, the partial sums of every row (`Partial`), in file order, with --by or --ci
        paired with its sums per group and bucket (`GroupSums`); a batch-wise loss keeps its inputs
        instead. The partials of several inputs (the parts of one) add up with `combine`."""
        if self.reduction == "none":
            raise UsageError("reduction none gives rows: use rows()")

        def block_sums(item) -> list:
            block, columns, labels = item
            weights = self._weights(columns)
            index = self.plan.index(block, columns) if self.plan.active else None
            out: list = []
            for job in self.jobs:
                if job.loss.tally is not None:  # tallied: per group and bucket with --by, --ci
                    inputs = self.tally_inputs(job, columns, block, labels)
                    if index is None:
                        tally = self._tally(job, inputs, weights, None, None, 1, block, labels)
                        out.append(Tallied(tally, np.array([len(block)])))
                    else:
                        def tally_of(rows, slot, slots, job=job, inputs=inputs):
                            return self._tally(job, inputs, weights, rows, slot, slots, block, labels)

                        out.append(GroupTallies.of_block(index, tally_of))
                    continue
                if job.loss.batchwise:  # they keep their inputs, and where their rows are for errors
                    out.append([(self._arrays(job, columns), weights, _lines_only(block),
                                 _lines_only(labels))])
                    continue
                lv = self._values(job, columns, block, labels)[1]
                out.append(partial(job.loss, lv, weights))
                if index is not None:  # --by, --ci: per group and bucket too
                    out[-1] = (out[-1], GroupSums.of_block(index, row_partial(job.loss, lv, weights)))
            return out

        sums = [self._nothing_yet(job) for job in self.jobs]
        for per_job in map_ahead(block_sums, self._blocks(), self.workers()):
            sums = combine(sums, per_job)  # added in file order: the same sums every run
            self._check_size(sums)
        return sums

    def _nothing_yet(self, job: Job) -> list | tuple[Partial, GroupSums] | Partial:
        """A job's partials before its first row."""
        if job.loss.tally is not None:
            return None  # its first block's tally
        if job.loss.batchwise:
            return []  # the inputs of its blocks
        return (Partial(), GroupSums([], Partial())) if self.plan.active else Partial()

    def _check_size(self, sums: list) -> None:
        if self.plan.active:
            for job, part in zip(self.jobs, sums, strict=True):
                if isinstance(part, GroupTallies):
                    self.plan.check_size(len(part.groups), self.table.name)
                elif not job.loss.batchwise and part is not None:
                    self.plan.check_size(len(part[1].keys), self.table.name)

    def finish(self, sums: list) -> list[Result]:
        """The results of `partials()` (or of several inputs' partials, combined)."""
        self._check_size(sums)
        results = []
        for job, part in zip(self.jobs, sums, strict=True):
            if job.loss.tally is not None:
                overall = self._tallied(job, part)
                value, rows = self._tally_value(job, overall, strict=True), int(overall.rows.sum())
            elif job.loss.batchwise:
                value = self._whole_batch(job, part, job.reduction)
                value = float(value) if np.ndim(value) == 0 else value
                rows = sum(len(w[0]["y_pred"]) for w in part)
            else:
                overall = part[0] if self.plan.active else part
                value, rows = finish(job.loss, overall, job.reduction), overall.rows
            results.append(Result(job.loss, job.params, job.reduction, value, rows))
        if self.plan.active:
            return self._evaluated(results, [part if isinstance(part, GroupTallies) else part[1]
                                             for part in sums])
        return results

    def _tallied(self, job: Job, part: Tallied | GroupTallies | None) -> Tallied:
        if part is None or isinstance(part, GroupTallies) and not part.groups:
            raise DataError(f"{self.table.name}: no rows to compute {job.loss.qualified_name} of")
        return part.overall() if isinstance(part, GroupTallies) else part

    def _tally_value(self, job: Job, tallied: Tallied, strict: bool) -> float | np.ndarray:
        assert job.loss.tally is not None
        try:
            return tally_value(job.loss.tally, job.params, tallied, strict)
        except DataError as error:  # about the rows as a whole: say which input and loss
            raise DataError(f"{self.table.name}: {error} ({job.loss.qualified_name})") from None

    def _tally_estimates(self, job: Job, result: Result, part: GroupTallies) -> tuple[list[Result], Result]:
        """--by and --ci of a tallied metric: each group's result (NaN where the metric is undefined
        on the group's rows), then the overall one with its interval."""
        plan = self.plan

        def interval(tallied: Tallied, value: float | np.ndarray) -> dict:
            if plan.level is None:
                return {}
            ci, method = tally_interval(job.loss, job.params, tallied, plan.level, plan.seed,
                                        plan.replicates, plan.ci_method, self.weight_column is not None,
                                        np.ndim(value) == 0)
            return {"ci": ci, "ci_method": method}

        groups = []
        if plan.by:
            for key in sorted(part.groups, key=sort_key):
                tallied = part.groups[key]
                value = self._tally_value(job, tallied, strict=False)
                groups.append(Result(job.loss, job.params, job.reduction, value, int(tallied.rows.sum()), key,
                                     **interval(tallied, value)))
        return groups, replace(result, **interval(part.overall(), result.value))

    def _evaluated(self, overall: list[Result], groups: list[GroupSums | GroupTallies]) -> list[Result]:
        """--by and --ci: the groups' results in sorted key order, loss by loss, then the overall
        ones (today's values, with their intervals)."""
        per_group, last = [], []
        for job, result, sums in zip(self.jobs, overall, groups, strict=True):
            if isinstance(sums, GroupTallies):
                in_groups, total_result = self._tally_estimates(job, result, sums)
                per_group.extend(in_groups)
                last.append(total_result)
                continue
            *estimates, total = self.plan.estimates(result.loss, result.reduction, sums)
            per_group.extend(Result(result.loss, result.params, result.reduction, e.value, e.rows,
                                    e.key, e.ci, "bootstrap" if e.ci else None) for e in estimates)
            last.append(replace(result, ci=total.ci, ci_method="bootstrap" if total.ci else None))
        per_group.sort(key=lambda r: sort_key(r.group))  # stable: the losses' order within a group
        return per_group + last

    @property
    def several_files(self) -> bool:
        """Whether the input is read from several files: its lines restart in each, so per-row
        output names each row's file."""
        return len(self.table.paths) > 1

    def workers(self) -> int:
        """Threads for the blocks' losses and their per-row text (numpy and Arrow release the GIL):
        large inputs only."""
        return worker_count() if self.table.large else 1

    def _whole_batch(self, job: Job, parts: list, reduction: str) -> float | np.ndarray:
        inputs = {role: np.concatenate([p[0][role] for p in parts]) for role in parts[0][0]}
        weights = None if parts[0][1] is None else np.concatenate([p[1] for p in parts])
        try:
            return batch_value(job.loss, inputs, job.params, reduction, weights)
        except InputValueError as error:
            labels = Block.concat([p[3] for p in parts]) if parts[0][3] is not None else None
            raise self._explain(error, job, Block.concat([p[2] for p in parts]), labels) from None
        except DataError as error:  # about the batch as a whole: say which input and loss
            raise DataError(f"{self.table.name}: {error} ({job.loss.qualified_name})") from None

    def whole_batch(self) -> list[Result] | None:
        """For reduction `none` with a batch-wise loss (Keras dice, tversky, circle), which reads
        every row first: the results when each loss gives one value for the whole batch (dice or
        tversky with axis=None and no sample weights, as Keras returns it), else None, and
        `rows()` then yields the per-row values from the rows read here. None, reading nothing,
        when no loss is batch-wise."""
        if not any(job.loss.batchwise for job in self.jobs):
            return None
        rows, values = self._row_values(self._whole(), shaped=False)
        whole = [job.loss.qualified_name for job, v in zip(self.jobs, values, strict=True) if v.ndim == 0]
        n = len(rows)
        if len(whole) == len(self.jobs):
            return [Result(job.loss, job.params, "none", float(v), n)
                    for job, v in zip(self.jobs, values, strict=True)]
        if whole:
            raise UsageError(
                f"reduction none: {', '.join(whole)} gives one value for the whole batch and the "
                "other losses one per row; ask for them separately"
            )
        self._read = (rows, [v.reshape(n, -1) for v in values])
        return None

    def rows(self) -> Iterator[tuple[Block, list[np.ndarray]]]:
        """For reduction `none`, block by block: where the rows come from (a Block of their lines
        and part files, without data), and per job a (rows, width)
        array of their values (width 1 but for losses that keep a value per column). With a
        batch-wise loss, call `whole_batch()` first: its rows come as one block."""
        if any(job.loss.batchwise for job in self.jobs):  # their rows' values need every row first
            if self._read is None and self.whole_batch() is not None:
                raise UsageError("reduction none: one value for the whole batch; use whole_batch()")
            yield self._read
        else:
            yield from map_ahead(self._row_values, self._blocks(), self.workers())

    def _row_values(self, item, shaped: bool = True) -> tuple[Block, list[np.ndarray]]:
        """Where a block's rows come from and each job's `none` values, as (rows, width) arrays
        when `shaped`."""
        block, columns, labels = item
        weights = self._weights(columns)
        per_job = []
        for job in self.jobs:
            _, lv = self._values(job, columns, block, labels)
            values = np.asarray(reduce(job.loss, lv, "none", weights))
            per_job.append(values.reshape(len(block), -1) if shaped else values)
        return _lines_only(block), per_job

    def _whole(self) -> tuple[Block, dict[str, np.ndarray], Block | None]:
        """Every row as one block: (the block, column name -> values, the labels' block)."""
        blocks = list(self._blocks())
        columns = {name: np.concatenate([b[1][name] for b in blocks]) for name in blocks[0][1]}
        block = Block.concat([b[0] for b in blocks])
        labels = Block.concat([b[2] for b in blocks]) if blocks[0][2] is not None else None
        return block, columns, labels

    def gradient(self) -> Gradient:
        """d(reduced loss)/d(y_pred) for the single job, one row per input row (reads all rows)."""
        if len(self.jobs) != 1:
            raise UsageError("--grad takes one loss")
        job = self.jobs[0]
        check_gradient(job.loss)
        block, columns, labels = self._whole()
        inputs, lv = self._values(job, columns, block, labels)
        weights = self._weights(columns)
        with np.errstate(all="ignore"):
            values = job.loss.grad(inputs, job.params, upstream(job.loss, lv, job.reduction, weights))
        return Gradient(values, job.columns["y_pred"], _lines_only(block) if self.several_files else None)


def take_rows(inputs: dict[str, Any], rows: np.ndarray | None) -> dict[str, Any]:
    """A tallied metric's inputs of some rows (None: all)."""
    if rows is None:
        return inputs
    return {k: v.take(rows) if isinstance(v, Labels) else v[rows] for k, v in inputs.items()}


def combine(*parts: list) -> list:
    """Per job, the sums of several `Computation.partials()`, added in the order given."""
    first, *rest = parts
    for other in rest:
        first = [_add(a, b) for a, b in zip(first, other, strict=True)]
    return first


def _add(a, b):
    """Partials added, a batch-wise loss's inputs joined, (Partial, GroupSums) pairs member by member;
    None (a tallied metric before its first rows) adds nothing."""
    if a is None or b is None:
        return b if a is None else a
    if isinstance(a, tuple):
        return tuple(x + y for x, y in zip(a, b, strict=True))
    return a + b


def _lines_only(block: Block | None) -> Block | None:
    """`block` without its data: where its rows come from, for an error's line numbers."""
    return None if block is None else replace(block, data=np.empty((len(block), 0)), text={})
