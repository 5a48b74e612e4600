"""A multi-layer perceptron: Dense layers with one hidden activation and one output activation."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lossctl.errors import UsageError
from lossctl.nn.activations import Activation, get_activation
from lossctl.nn.layers import Dense, with_ones_row

ALIGN = 16  # each parameter starts on a multiple of 16 elements (64 bytes in float32) of the buffer


def _aligned(size: int) -> int:
    return -(-size // ALIGN) * ALIGN


@dataclass
class Tape:
    """What a forward pass keeps for its backward pass: each layer's input x1 (transposed, with
    its row of ones, see Dense) and, per layer, (z, a), transposed but for the last; (slope, a)
    for an activation with forward_slope, (None, a) for one with forward_inplace."""

    logits: bool  # the pass stopped before the output activation
    inputs: list[np.ndarray] = field(default_factory=list)
    cache: list[tuple[np.ndarray | None, np.ndarray]] = field(default_factory=list)


class MLP:
    """n_in -> hidden... -> n_out, then a fixed output transform.

    `forward(x)` returns the loss's y_pred: the output after the output activation, mapped by
    `y_pred = out * output_scale + output_shift` (identity by default; for regression the
    trainer sets the std and mean of the training targets, so the network learns a standardized
    target while y_pred stays in the target's units). It keeps what `backward` needs;
    `backward(grad_y_pred)` fills every layer's gradients (through the transform: d/d(out) =
    output_scale * d/d(y_pred)). The transform is not trained.

    Every layer starts Glorot uniform, biases at zero, from the seed: Keras's Dense default, and
    the range scikit-learn's MLP draws from. On the 100k-row benchmark job (20 -> 64 relu -> 64
    relu -> 5, Adam, batch 256, 5 epochs) it reached a val accuracy of 0.842, He uniform 0.836.

    All parameters live in one contiguous buffer, `flat`, and all gradients in `flat_grad`; each
    layer's `Wb` and `dWb` (W with b as its last row, see Dense) are views into them (each
    starting on a 64-byte boundary, the gaps zero), so an optimizer can update the whole network
    with a few vectorized operations on `flat` and `flat_grad`. Weights are only ever written in
    place, which keeps the views valid.
    """

    def __init__(
        self, n_in: int, hidden: Sequence[int], n_out: int, activation: str = "relu",
        output_activation: str = "linear", seed: int = 0, dtype: str = "float32",
        output_scale: float = 1.0, output_shift: float = 0.0,
    ) -> None:
        self.n_in, self.hidden, self.n_out = n_in, tuple(hidden), n_out
        self.output_scale, self.output_shift = float(output_scale), float(output_shift)
        self.dtype = np.dtype(dtype)
        self.activation: Activation = get_activation(activation)
        self.output_activation: Activation = get_activation(output_activation)
        rng = np.random.default_rng(seed)
        sizes = [n_in, *self.hidden, n_out]
        self.layers = [Dense(a, b, rng, dtype=self.dtype)
                       for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
        self.flat, self.flat_grad = self._flatten()
        self._tape: Tape | None = None  # the last forward pass kept for backward

    def _flatten(self) -> tuple[np.ndarray, np.ndarray]:
        """Move every layer's Wb and dWb into two flat buffers, leaving views behind."""
        total = sum(_aligned(layer.Wb.size) for layer in self.layers)
        flat, flat_grad = np.zeros(total, self.dtype), np.zeros(total, self.dtype)
        offset = 0
        self._layout: list[tuple[int, int, tuple[int, ...]]] = []  # (start, size, shape) per layer
        for layer in self.layers:
            size, shape = layer.Wb.size, layer.Wb.shape
            layer.use_buffers(flat[offset:offset + size].reshape(shape),
                              flat_grad[offset:offset + size].reshape(shape))
            self._layout.append((offset, size, shape))
            offset += _aligned(size)
        return flat, flat_grad

    def forward(self, x: np.ndarray, logits: bool = False, for_backward: bool = True) -> np.ndarray:
        """y_pred for inputs x of shape (n, n_in); with `logits`, the last layer's output before
        the output activation (for a loss computed from logits; `backward` then takes the
        gradient with respect to them). The pass's tape is kept for `backward`; without
        `for_backward` (predictions) nothing is kept, and a later `backward` still goes with the
        last forward pass that had it.
        """
        out, tape = self.forward_tape(x, logits, for_backward)
        if for_backward:
            self._tape = tape
        return out

    def backward(self, grad_y_pred: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Back-propagate d(loss)/d(y_pred) (d(loss)/d(logits) after `forward(x, logits=True)`)
        through the last forward pass, into the layers' gradients (`flat_grad`); returns
        d(loss)/d(x) (None if not `input_grad`: the trainer needs only the parameters')."""
        assert self._tape is not None, "backward before forward"
        return self.backward_tape(self._tape, grad_y_pred, input_grad=input_grad)

    def forward_tape(
        self, x: np.ndarray, logits: bool = False, for_backward: bool = True
    ) -> tuple[np.ndarray, Tape]:
        """`forward`, returning its tape instead of keeping it (the model is not written: passes
        over different rows may run in different threads).

        The layers work on transposed activations (see Dense); the result is the (n, n_out)
        Fortran-ordered view of the last one, whose short rows numpy reduces fast.
        """
        x1 = with_ones_row(np.asarray(x), self.dtype)
        n = x1.shape[1]
        tape = Tape(logits)
        last = len(self.layers) - 1
        hidden = self.activation
        for i, layer in enumerate(self.layers):
            if for_backward:
                tape.inputs.append(x1)
            if i == last:
                z = layer.forward(x1).T
                a = z if logits else self.output_activation.forward(z)
                tape.cache.append((z, a))
                break
            nxt = np.empty((layer.n_out + 1, n), self.dtype)  # the next layer's x1
            nxt[-1] = 1
            if not for_backward:
                if hidden.forward_inplace is not None:
                    hidden.forward_inplace(layer.forward(x1, out=nxt[:-1]))
                else:
                    nxt[:-1] = hidden.forward(layer.forward(x1))
            elif hidden.forward_slope is not None:  # backward needs only the slope: z becomes a
                z = layer.forward(x1, out=nxt[:-1])
                tape.cache.append((hidden.forward_slope(z), z))
            elif hidden.forward_inplace is not None:  # z is not needed by backward: reuse it
                z = layer.forward(x1, out=nxt[:-1])
                tape.cache.append((None, hidden.forward_inplace(z)))
            else:
                z = layer.forward(x1)
                nxt[:-1] = hidden.forward(z)
                tape.cache.append((z, nxt[:-1]))
            x1 = nxt
        if self.has_output_transform and not logits:
            a = a * self.dtype.type(self.output_scale) + self.dtype.type(self.output_shift)
        return a, tape

    def backward_tape(
        self, tape: Tape, grad_y_pred: np.ndarray, grads: Sequence[np.ndarray] | None = None,
        input_grad: bool = True,
    ) -> np.ndarray | None:
        """`backward` through the pass that made `tape`, writing each layer's gradient into
        `grads` (one array shaped like the layer's Wb each, see `gradient_buffer`; default: the
        layers' own, in `flat_grad`)."""
        g = np.asarray(grad_y_pred, dtype=self.dtype)
        if self.has_output_transform and not tape.logits:
            g = g * self.dtype.type(self.output_scale)
        last = len(self.layers) - 1
        hidden = self.activation
        z, a = tape.cache[last]
        if not tape.logits:
            g = self.output_activation.backward(z, a, g)
        g = g.T  # transposed from here on, as the layers work
        for i in range(last, -1, -1):
            if i < last:
                z, a = tape.cache[i]
                if hidden.forward_slope is not None:  # z holds the slope; g is this model's own
                    g = np.multiply(g, z, out=g)       # array (from the layer above): overwrite it
                elif z is None:  # g is this model's own array (from the layer above): overwrite it
                    g = hidden.backward_inplace(a, g)
                else:
                    g = hidden.backward(z, a, g)
            g = self.layers[i].backward(tape.inputs[i], g, None if grads is None else grads[i],
                                        input_grad=input_grad or i > 0)
        return None if g is None else g.T

    def gradient_buffer(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """A zeroed flat array laid out like `flat_grad`, and its views shaped like each layer's
        Wb (for `backward_tape`): one shard's gradients, to be added into `flat_grad`."""
        flat = np.zeros_like(self.flat_grad)
        return flat, [flat[start:start + size].reshape(shape) for start, size, shape in self._layout]

    def parameters(self) -> list[np.ndarray]:
        return [p for layer in self.layers for p in layer.parameters()]

    def gradients(self) -> list[np.ndarray]:
        return [g for layer in self.layers for g in layer.gradients()]

    def get_weights(self) -> list[np.ndarray]:
        return [p.copy() for p in self.parameters()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        params = self.parameters()
        if len(weights) != len(params):
            raise ValueError(f"expected {len(params)} arrays, got {len(weights)}")
        for p, w in zip(params, weights, strict=True):
            if p.shape != w.shape:
                raise ValueError(f"weight of shape {w.shape} for a parameter of shape {p.shape}")
            p[...] = w

    @property
    def has_output_transform(self) -> bool:
        return (self.output_scale, self.output_shift) != (1.0, 0.0)

    @property
    def n_params(self) -> int:
        return sum(layer.n_params for layer in self.layers)

    def __repr__(self) -> str:
        parts = [str(self.n_in)]
        parts += [f"{h} {self.activation.name}" for h in self.hidden]
        parts.append(f"{self.n_out} {self.output_activation.name}")
        if self.has_output_transform:
            parts[-1] += f" * {self.output_scale:.4g} + {self.output_shift:.4g}"
        return f"MLP({' -> '.join(parts)}; {self.n_params} parameters, {self.dtype})"


# What training holds per parameter, in units of the network's dtype: the weights and their
# gradients, the optimizer's state and scratch (Adam: 4), a gradient buffer per shard (up to 4),
# and 2 more for the float64 draw of the initial weights. Per activation of one row: its value,
# its slope or input, and its gradient, and once more for the layer in flight.
_COPIES_PER_PARAMETER = 12
_COPIES_PER_ACTIVATION = 4


def parameter_count(n_in: int, hidden: Sequence[int], n_out: int) -> int:
    sizes = [n_in, *hidden, n_out]
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def memory_needed(n_in: int, hidden: Sequence[int], n_out: int, dtype: str, rows: int) -> int:
    """An upper estimate, in bytes, of what training such a network on batches of `rows` rows
    (or predicting with it) takes beyond its data."""
    itemsize = np.dtype(dtype).itemsize
    widths = n_in + 1 + sum(h + 1 for h in hidden) + n_out
    return itemsize * (_COPIES_PER_PARAMETER * parameter_count(n_in, hidden, n_out)
                       + _COPIES_PER_ACTIVATION * rows * widths)


def available_memory() -> int | None:
    """Bytes this process can still take: the kernel's MemAvailable, or less under a cgroup's
    limit (a container); the machine's memory where those are unknown; None if nothing is."""
    found: list[int] = []
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as limit, \
                open("/sys/fs/cgroup/memory.current") as used:
            found.append(int(limit.read()) - int(used.read()))
    except (OSError, ValueError):  # no cgroup v2, or "max" (no limit)
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, OSError, ValueError):
            return None
    return max(min(found), 0)


def check_memory(what: str, n_in: int, hidden: Sequence[int], n_out: int, dtype: str,
                 rows: int) -> None:
    """Refuse, before anything is allocated, a network that would not fit in memory: a
    UsageError starting with `what` (where the network comes from) and saying its size."""
    need = memory_needed(n_in, hidden, n_out, dtype, rows)
    have = available_memory()
    if have is not None and need > have:
        count = parameter_count(n_in, hidden, n_out)
        batches = f", batches of {rows:,} rows" if rows > 1 else ""
        raise UsageError(
            f"{what}: the network needs about {_size(need)} of memory ({count:,} parameters in "
            f"{dtype}{batches}), more than the {_size(have)} available"
        )


def _size(n: float) -> str:
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    for unit in units[:-1]:
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:,.0f} {units[-1]}"
