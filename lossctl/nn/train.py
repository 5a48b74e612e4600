"""Training: `fit(...)` yields one EpochRecord per epoch; rendering them is the caller's job.

The loss is the registry's, called the way `lossctl compute` calls it (`loss.value`, the `mean`
reduction, `reduction.upstream`, `loss.grad`, or the loss's one-pass `value_and_grad` where it
has one), in the network's dtype. A crossentropy after its own softmax or sigmoid is computed
from the logits with from_logits=True, as Keras does (`Loss.trains_on_logits`). As in Keras, a
record's training loss and metrics are the mean over the epoch's batches of each batch's value,
taken from the step's own forward pass (weighted by the batch's rows, without class weights); the
validation loss and metrics are exactly what `lossctl compute` prints for the model's
predictions at the end of that epoch (in float64, on the whole split after the epoch's last step).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from lossctl.errors import TrainingDiverged, UsageError
from lossctl.evaluate.groups import BlockIndex, GroupSums, block_index
from lossctl.losses.evaluate import as_inputs
from lossctl.losses.reduction import Partial, finish, partial, reduce, reduce_with_upstream, row_partial
from lossctl.losses.registry import Loss
from lossctl.nn import targets
from lossctl.nn.blas import blas_threads, get_threads, train_threads, warm_up
from lossctl.nn.data import Dataset
from lossctl.nn.model import MLP, check_memory
from lossctl.nn.optimizers import Optimizer, make_optimizer
from lossctl.nn.parallel import MAX_SHARDS, ShardedSteps, Workers
from lossctl.nn.schedules import Schedule
from lossctl.threads import worker_count

ACCURACY_NAMES = ("accuracy", "acc")
# Rows per forward pass when predicting: for 20 -> 64 -> 64 -> 5 in float32, one pass over 8192
# rows took 5.3 ms, four over 2048 rows 4.0 ms (one thread of a 2-core x86 machine).
PREDICT_BATCH = 2048


class StopFlag(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class EpochRecord:
    """One epoch: 1-based number, losses, metrics (`accuracy`, `val_accuracy`, ...), lr, time."""

    epoch: int
    loss: float
    val_loss: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    lr: float = 0.0
    seconds: float = 0.0
    best: bool = False  # the monitored loss (val_loss, else loss) is the best so far
    stopped_early: bool = False  # early stopping ended training after this epoch

    def row(self) -> dict[str, Any]:
        """The history CSV row (Keras CSVLogger names: epoch, loss, val_loss, accuracy, ...)."""
        out: dict[str, Any] = {"epoch": self.epoch, "loss": self.loss}
        if self.val_loss is not None:
            out["val_loss"] = self.val_loss
        out.update(self.metrics)
        out["lr"] = self.lr
        out["seconds"] = round(self.seconds, 4)
        return out


@dataclass
class History:
    """A training run as `fit` fills it: its records, the best epoch by the monitored loss
    (val_loss, or the training loss without a validation split), how it ended, and whose weights
    the model holds at the end (Keras's `History` and `EarlyStopping(restore_best_weights)`)."""

    records: list[EpochRecord] = field(default_factory=list)
    monitor: str = "loss"  # "val_loss" when there is a validation split
    best_epoch: int | None = None
    best_loss: float | None = None
    stopped_early: bool = False  # --patience ended training
    interrupted: bool = False  # the caller's stop flag (Ctrl-C) ended training
    # The epoch whose weights the model holds at the end: the best one, or the last one (with
    # restore_best=False); None when no epoch was completed.
    weights_epoch: int | None = None

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's loss, val_loss and metrics, by name (empty before the first epoch)."""
        if not self.records:
            return {}
        last = self.records[-1]
        return {"loss": last.loss} | ({"val_loss": last.val_loss} if last.val_loss is not None else {}) \
            | last.metrics

    def add(self, record: EpochRecord, monitored: float) -> None:
        self.records.append(record)
        if record.best:
            self.best_epoch, self.best_loss = record.epoch, monitored


@dataclass(frozen=True)
class Metric:
    """A per-epoch metric: accuracy, or any loss of the registry (default parameters)."""

    name: str
    loss: Loss | None = None  # None: accuracy


DEFAULT_METRICS = {"regression": "mae", "binary": "accuracy", "multiclass": "accuracy"}


def resolve_metrics(names: Sequence[str] | None, task: str) -> list[Metric]:
    """Metric names -> Metrics (None: the task's default, accuracy or mae); accuracy needs a
    classification task."""
    from lossctl.losses import get_loss

    out: list[Metric] = []
    for name in [DEFAULT_METRICS[task]] if names is None else names:
        if name in ACCURACY_NAMES:
            if task == "regression":
                raise UsageError("metric accuracy needs a classification target, not regression")
            out.append(Metric("accuracy"))
        else:
            loss = get_loss(name)
            if loss.metric is not None:
                raise UsageError(
                    f"metric {loss.qualified_name} is computed over a whole set, not batch by batch: "
                    "run lossctl compute on what lossctl predict writes"
                )
            if any(not i.optional and i.role not in ("y_true", "y_pred") for i in loss.inputs):
                raise UsageError(f"metric {loss.qualified_name} needs inputs other than y_true and y_pred")
            out.append(Metric(name, loss))
    return out


def check_trainable(loss: Loss) -> None:
    if not loss.trainable and loss.grad is None:
        raise UsageError(f"{loss.qualified_name} cannot be trained on: it has no gradient (a metric "
                         "for lossctl compute)")
    if not loss.trainable:  # it has a gradient, but not for the network's outputs and targets
        raise UsageError(f"{loss.qualified_name} cannot be trained on: the network's output and "
                         "targets are not the inputs it takes (its gradient is for compute --grad "
                         "and descend)")
    extra = [i.role for i in loss.inputs if not i.optional and i.role not in ("y_true", "y_pred")]
    if extra:
        raise UsageError(
            f"{loss.qualified_name} needs input(s) {', '.join(extra)}; the trainer gives a loss "
            "only y_true and y_pred"
        )


def predict_raw(model: MLP, x: np.ndarray, workers: Workers | None = None) -> np.ndarray:
    """The network output (after its output activation) for every row, in batches of
    PREDICT_BATCH rows shared among `workers` (default: threads on the cores, each product on one
    BLAS thread, as in training; the numbers are the same on any number of threads).

    The result is Fortran-ordered (as the softmax output is): the losses' and metrics' reductions
    over the few columns of each row are faster on it.
    """
    threads = train_threads()
    if workers is None and len(x) > PREDICT_BATCH:
        with blas_threads(threads), workers_for(model, threads) as own:
            return _predict(model, x, own)
    with blas_threads(threads):
        return _predict(model, x, workers or Workers(1))


def _predict(model: MLP, x: np.ndarray, workers: Workers) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        if len(x) <= PREDICT_BATCH:
            return model.forward(x, for_backward=False)
        out = np.empty((len(x), model.n_out), model.dtype, order="F")

        def batch(start: int) -> Callable[[], None]:
            def run() -> None:
                out[start:start + PREDICT_BATCH] = model.forward(x[start:start + PREDICT_BATCH],
                                                                 for_backward=False)
            return run

        workers.run([batch(i) for i in range(0, len(x), PREDICT_BATCH)])
        return out


def workers_for(model: MLP, threads: int | None) -> Workers:
    """Threads on the cores for `model`'s passes, when each product runs on one BLAS thread
    (`threads`, see blas.train_threads); else the calling thread alone, since several threads
    each calling a multi-threaded BLAS would fight over the cores. Every thread's OpenBLAS buffer
    is warmed up first (blas.warm_up)."""
    widest = max(model.n_in, *model.hidden, model.n_out)
    warm_up(threads, widest, model.dtype)
    with blas_threads(threads):
        one_blas_thread = get_threads() == 1
    return Workers(worker_count(at_most=MAX_SHARDS) if one_blas_thread else 1,
                   initializer=lambda: warm_up(threads, widest, model.dtype))


def loss_and_grad(
    loss: Loss, params: Mapping[str, Any], y_true: np.ndarray, y_pred: np.ndarray,
    row_weight: np.ndarray | None = None, dtype: np.dtype | type = np.float64,
) -> tuple[float, np.ndarray]:
    """The mean-reduced loss and d(loss)/d(y_pred), rows weighted by `row_weight` if given;
    computed in `dtype` (the trainer's steps use the network's dtype)."""
    inputs = as_inputs(loss, {"y_true": y_true, "y_pred": y_pred}, dtype)
    with np.errstate(all="ignore"):
        return _loss_and_grad(loss, params, inputs, row_weight)


def _loss_and_grad(
    loss: Loss, params: Mapping[str, Any], inputs: dict[str, np.ndarray],
    row_weight: np.ndarray | None,
) -> tuple[float, np.ndarray]:
    """loss_and_grad on inputs already checked by `as_inputs` (the training step)."""
    if loss.value_and_grad is not None:
        lv, d = loss.value_and_grad(inputs, params)
    else:
        lv, d = loss.value(inputs, params), None
    value, up = reduce_with_upstream(loss, lv, "mean")
    value = float(value)
    if row_weight is not None and up.ndim:
        up = up * row_weight.reshape(len(row_weight), *([1] * (up.ndim - 1)))
    if d is None:
        return value, loss.grad(inputs, params, up)
    d *= up[:, None]
    return value, d


def on_logits(model: MLP, loss: Loss, params: Mapping[str, Any]) -> bool:
    """Whether training steps compute `loss` from the logits: a loss Keras computes that way, on
    the output of its own activation, without from_logits already set."""
    return (loss.trains_on_logits and not params.get("from_logits")
            and model.output_activation.name == loss.output_activation
            and not model.has_output_transform)


def loss_value(loss: Loss, params: Mapping[str, Any], y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The mean-reduced loss, as `lossctl compute` gives it."""
    inputs = as_inputs(loss, {"y_true": y_true, "y_pred": y_pred})
    with np.errstate(all="ignore"):
        return float(reduce(loss, loss.value(inputs, params), "mean"))


def balanced_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """scikit-learn's class_weight="balanced": n / (k * count(class)) for each row's class."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    per_class = np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)
    return per_class[y]


def scores(
    model: MLP, loss: Loss, params: Mapping[str, Any], metrics: Sequence[Metric], task: str,
    n_classes: int, x: np.ndarray, y: np.ndarray, prefix: str = "", workers: Workers | None = None,
) -> tuple[float, dict[str, float]]:
    """Loss and metrics of the model on (x, y)."""
    scoring = Scoring(loss, params, metrics, task, n_classes, model.output_activation.name, prefix)
    scoring.add(predict_raw(model, x, workers), y)
    return scoring.result()


class Scoring:
    """A model's loss and metrics on rows given a block at a time (network outputs and targets):
    running sums, reduced as `lossctl compute` reduces (`mean`); accuracy as a count."""

    def __init__(self, loss: Loss, params: Mapping[str, Any], metrics: Sequence[Metric], task: str,
                 n_classes: int, activation: str, prefix: str = "") -> None:
        self.task, self.n_classes, self.activation, self.prefix = task, n_classes, activation, prefix
        self.loss = _MeanOf(loss, loss.resolve_params({}) | dict(params))
        self.metrics = [(m, None if m.loss is None else _MeanOf(m.loss, m.loss.resolve_params({})))
                        for m in metrics]
        self.correct = self.rows = 0
        self.correct_by = GroupSums([], Partial())

    def add(self, out: np.ndarray, y: np.ndarray, keys: Sequence[np.ndarray] | None = None) -> None:
        """A block's outputs and targets; `keys`, the values of its rows' groups (evaluate --by):
        each score keeps partial sums per group too (`by_group`)."""
        index = None if keys is None else block_index(keys, None, 1)
        self.loss.add(targets.y_true(self.loss.loss, self.task, self.n_classes, y, out.shape[1]), out,
                      index)
        self.rows += len(y)
        if any(mean is None for _, mean in self.metrics):  # accuracy
            correct = targets.predicted_index(out, self.activation) == y
            self.correct += int(np.count_nonzero(correct))
            if index is not None:
                self.correct_by = self.correct_by + GroupSums.of_block(
                    index, Partial(correct.astype(np.float64), 1, 1))
        for _, mean in self.metrics:
            if mean is not None:
                arrays = targets.metric_inputs(mean.loss, self.task, y, out, self.activation)
                mean.add(arrays["y_true"], arrays["y_pred"], index)

    def result(self) -> tuple[float, dict[str, float]]:
        found = {self.prefix + m.name: (self.correct / self.rows if mean is None else mean.value())
                 for m, mean in self.metrics}
        return self.loss.value(), found

    def by_group(self) -> tuple[list[tuple], dict[str, np.ndarray], np.ndarray]:
        """Per group of the `keys` given to `add`: the groups in sorted order, each score's value
        per group in that order (as `result` names them, the loss first), and each group's rows."""
        groups = self.loss.groups
        order = groups.order()
        found = {self.loss.loss.qualified_name: self.loss.group_values()[order]}
        for m, mean in self.metrics:
            if mean is None:
                part = self.correct_by.per_group()
                found[self.prefix + m.name] = (part.total / part.rows)[order]
            else:
                found[self.prefix + m.name] = mean.group_values()[order]
        return [groups.keys[g] for g in order], found, groups.per_group().rows[order]


class _MeanOf:
    """The mean-reduced value of a loss over blocks of rows: partial sums added in order (a loss
    that needs the whole batch at once keeps its inputs)."""

    def __init__(self, loss: Loss, params: Mapping[str, Any]) -> None:
        self.loss, self.params = loss, params
        self.sums, self.kept = Partial(), []
        self.groups = GroupSums([], Partial())  # evaluate --by

    def add(self, y_true: np.ndarray, y_pred: np.ndarray, index: BlockIndex | None = None) -> None:
        inputs = as_inputs(self.loss, {"y_true": y_true, "y_pred": y_pred})
        if self.loss.batchwise:
            self.kept.append(inputs)
            return
        with np.errstate(all="ignore"):
            lv = self.loss.value(inputs, self.params)
        self.sums = self.sums + partial(self.loss, lv)
        if index is not None:
            self.groups = self.groups + GroupSums.of_block(index, row_partial(self.loss, lv))

    def group_values(self) -> np.ndarray:
        """The mean per group, in the groups' order of first appearance."""
        return np.atleast_1d(finish(self.loss, self.groups.per_group(), "mean"))

    def value(self) -> float:
        if not self.loss.batchwise:
            return finish(self.loss, self.sums, "mean")
        inputs = {role: np.concatenate([k[role] for k in self.kept]) for role in self.kept[0]}
        with np.errstate(all="ignore"):
            return float(reduce(self.loss, self.loss.value(inputs, self.params), "mean"))


def build_model(
    data: Dataset, loss: Loss, params: Mapping[str, Any], hidden: Sequence[int],
    activation: str = "relu", seed: int = 0, dtype: str = "float32", batch_size: int = 32,
) -> MLP:
    """The network for `data` and `loss`: width and output activation follow the loss; for
    regression the output transform standardizes the target with the training split's statistics.
    A network that would not fit in memory when trained on `batch_size` rows is refused first."""
    check_trainable(loss)
    if data.prep.task == "regression" and loss.class_index_target:
        raise UsageError(
            f"{loss.qualified_name} takes class indices, but the target {data.prep.target} is "
            "numbers to predict (regression): choose a regression loss, or --task multiclass if "
            "they are classes"
        )
    width = targets.output_width(loss, data.prep.task, data.n_classes)
    n_rows = len(data.x_train) + (0 if data.x_val is None else len(data.x_val))
    check_memory(f"{data.source}: {data.prep.n_inputs} inputs", data.prep.n_inputs, hidden, width,
                 dtype, min(max(batch_size, PREDICT_BATCH), n_rows))
    out_act = targets.output_activation(loss, params)
    scale, shift = targets.output_transform(data.prep.task, out_act, data.y_train)
    return MLP(data.prep.n_inputs, hidden, width, activation, out_act, seed=seed, dtype=dtype,
               output_scale=scale, output_shift=shift)


def fit(
    model: MLP, loss: Loss, params: Mapping[str, Any], data: Dataset, *,
    optimizer: str | Optimizer = "adam", lr: float | None = None,
    weight_decay: float | None = None, schedule: str = "constant", epochs: int = 30,
    batch_size: int = 32, patience: int | None = None, metrics: Sequence[Metric] = (),
    class_weight: str | None = None, seed: int = 0, stop: StopFlag | None = None,
    progress: Callable[[int, int], None] | None = None, restore_best: bool = True,
    history: History | None = None,
) -> Iterator[EpochRecord]:
    """Train `model` in place, yielding one EpochRecord per epoch and adding it to `history`.

    The monitored loss is val_loss (the training loss when there is no validation split). However
    training ends (after the last epoch, by early stopping when `patience` epochs brought no better
    monitored loss, or by a `stop` flag the caller sets, Ctrl-C, checked after every batch), the
    model ends with the weights of its best epoch, as Keras's restore_best_weights; with
    `restore_best=False`, with those of its last completed epoch. `progress(done, total)` is called
    after each batch. A NaN or infinite loss raises TrainingDiverged at once.
    """
    check_trainable(loss)
    params = loss.resolve_params({}) | dict(params)
    task, k = data.prep.task, data.n_classes
    opt = optimizer if isinstance(optimizer, Optimizer) else make_optimizer(
        optimizer, [model.flat], lr, weight_decay)
    # the model's own optimizer steps on the flat buffer; one given over per-layer arrays gets them
    on_flat = len(opt.params) == 1 and opt.params[0] is model.flat
    grads = [model.flat_grad] if on_flat else model.gradients()
    sched = Schedule(schedule, opt.lr, epochs)
    width, dtype = model.n_out, model.dtype
    x_train = np.asarray(data.x_train, dtype=dtype)
    y_train = targets.y_true(loss, task, k, data.y_train, width)
    y_step = y_train.astype(dtype)  # the steps compute the loss in the network's dtype
    x_val = None if data.x_val is None else np.asarray(data.x_val, dtype=dtype)
    weights = None
    if class_weight == "balanced":
        if task == "regression":
            raise UsageError("--class-weight balanced needs a classification target")
        weights = balanced_weights(data.y_train, k).astype(dtype)
    elif class_weight not in (None, "none"):
        raise UsageError(f"unknown class weight {class_weight!r} (valid: none, balanced)")
    rng = np.random.default_rng([seed, 1])
    n = len(x_train)
    n_batches = max(1, -(-n // batch_size))
    history = History() if history is None else history
    history.monitor = "loss" if data.x_val is None else "val_loss"
    best, wait = np.inf, 0
    kept = None  # (epoch, weights) to end with: the best epoch's, or the last one's

    # Keras's way with a crossentropy after its own activation: the steps compute the loss from the
    # logits (from_logits=True) and metrics treat them as a linear output's
    logits = on_logits(model, loss, params)
    step_params = params | {"from_logits": True} if logits else params
    activation = "linear" if logits else model.output_activation.name
    y_index = np.asarray(data.y_train)
    metric_params = [m.loss.resolve_params({}) if m.loss is not None else None for m in metrics]
    threads = train_threads()
    workers = workers_for(model, threads)
    steps = ShardedSteps(model, workers)
    # the inputs' roles and widths are checked once, on the first batch; steps reuse the check
    as_inputs(loss, {"y_true": y_step[:1], "y_pred": np.zeros((1, width), dtype)}, dtype)

    with workers:  # its threads end with training, however it ends
        for epoch in range(epochs):
            started = time.perf_counter()
            opt.lr = sched.lr(epoch)
            order = rng.permutation(n)
            interrupted = False
            loss_sum, metric_sums, seen = 0.0, [0.0] * len(metrics), 0
            with np.errstate(all="ignore"), blas_threads(threads):
                for b in range(n_batches):
                    rows = order[b * batch_size:(b + 1) * batch_size]
                    out = steps.forward(x_train, rows, logits)
                    value, grad = _loss_and_grad(
                        loss, step_params, {"y_true": y_step.take(rows, axis=0), "y_pred": out},
                        None if weights is None else weights.take(rows))
                    seen += len(rows)
                    loss_sum += value * len(rows)
                    if metrics:
                        _add_batch_metrics(metric_sums, metrics, metric_params, task, activation,
                                           y_index.take(rows), out)
                    if not (math.isfinite(value) and np.isfinite(grad).all()):
                        what = "loss" if not math.isfinite(value) else "gradient"
                        raise TrainingDiverged(
                            f"training diverged: the {what} became "
                            f"{value if what == 'loss' else 'nan/inf'} in epoch {epoch + 1}, batch "
                            f"{b + 1} at learning rate {opt.lr:g}; try a smaller learning rate "
                            f"(e.g. --lr {opt.lr / 10:g})"
                        )
                    steps.backward(grad)
                    opt.update(grads)
                    if progress is not None:
                        progress(b + 1, n_batches)
                    if stop is not None and stop.is_set():
                        interrupted = True
                        break
            if interrupted:  # mid-epoch: the weights of a completed epoch, if there is one
                history.interrupted = True
                _end_with(model, kept, history, None)
                return
            train_loss = loss_sum / seen
            found = {m.name: total / seen for m, total in zip(metrics, metric_sums, strict=True)}
            val_loss = None
            if x_val is not None:
                with blas_threads(threads):
                    val_loss, val_found = scores(model, loss, params, metrics, task, k, x_val,
                                                 data.y_val, prefix="val_", workers=workers)
                found = _interleave(found, val_found)
            monitored = val_loss if val_loss is not None else train_loss
            sched.observe(monitored)
            improved = monitored < best
            if improved:
                best, wait = monitored, 0
            else:
                wait += 1
            if improved if restore_best else stop is not None:  # (the last: for a stop mid-epoch)
                kept = (epoch + 1, model.get_weights())
            stopping = patience is not None and wait >= patience
            history.stopped_early = stopping
            last = epoch + 1 == epochs
            if stopping or last:
                _end_with(model, kept if restore_best else None, history, epoch + 1)
            record = EpochRecord(epoch + 1, train_loss, val_loss, found, opt.lr,
                                 time.perf_counter() - started, improved, stopping)
            history.add(record, monitored)
            yield record
            if stopping or last:
                return
            if stop is not None and stop.is_set():
                history.interrupted = True
                _end_with(model, kept if restore_best else None, history, epoch + 1)
                return


def _end_with(model: MLP, kept: tuple[int, list[np.ndarray]] | None, history: History,
              current: int | None) -> None:
    """Give `model` the `kept` weights if any, else keep its own (those of epoch `current`), and
    say in `history` whose they are."""
    if kept is not None:
        model.set_weights(kept[1])
    history.weights_epoch = kept[0] if kept is not None else current


def _add_batch_metrics(
    sums: list[float], metrics: Sequence[Metric], metric_params: Sequence[Mapping[str, Any] | None],
    task: str, activation: str, y: np.ndarray, out: np.ndarray,
) -> None:
    """Add one batch's metrics, times its rows, to `sums` (the epoch's running totals)."""
    for i, metric in enumerate(metrics):
        if metric.loss is None:
            sums[i] += float(np.count_nonzero(targets.predicted_index(out, activation) == y))
        else:
            arrays = targets.metric_inputs(metric.loss, task, y, out, activation)
            sums[i] += loss_value(metric.loss, metric_params[i], arrays["y_true"], arrays["y_pred"]) * len(y)


def _interleave(train: dict[str, float], val: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in train.items():
        out[name] = value
        out["val_" + name] = val["val_" + name]
    return out
