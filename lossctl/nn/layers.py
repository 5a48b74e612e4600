"""A fully connected layer with its own weights, gradients and initialisation."""

from __future__ import annotations

import numpy as np

# x1 @ g over many columns (a large batch) is up to 2.7x slower in OpenBLAS than the same product
# over blocks of columns added up, when both of its sides are wider than a few rows (measured on
# one thread of a 2-core x86 machine: 64x64 over 4096 rows 2.4 ms whole, 0.86 ms in blocks of 512).
TN_CHUNK = 512
TN_CHUNK_MIN_WIDTH = 16


def _chunked_product(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """out = a @ b, summed over blocks of TN_CHUNK of the inner dimension."""
    np.matmul(a[:, :TN_CHUNK], b[:TN_CHUNK], out=out)
    part = np.empty_like(out)
    for start in range(TN_CHUNK, a.shape[1], TN_CHUNK):
        np.matmul(a[:, start:start + TN_CHUNK], b[start:start + TN_CHUNK], out=part)
        out += part


def with_ones_row(x: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """x1 for a first layer: the rows of x (n, n_in) as columns, then a row of ones; (n_in + 1, n)."""
    n, n_in = x.shape
    x1 = np.empty((n_in + 1, n), dtype)
    x1[:n_in] = x.T
    x1[n_in] = 1
    return x1


class Dense:
    """y = x @ W + b, with W of shape (n_in, n_out).

    W and b are one block, `Wb` of shape (n_in + 1, n_out): W = Wb[:n_in], b = Wb[n_in], and the
    layer's products take the bias as the weight of one more input that is always 1 (a broadcast
    bias add and a separate bias gradient cost about as much as the product of a 64-wide layer at
    batch 256). Activations are stored transposed, one column per row of the batch, so that the
    row of ones below them is contiguous like the rest: `forward(x1)` takes x1 of shape
    (n_in + 1, n), last row 1, and returns z.T = Wb.T @ x1, shape (n_out, n); `backward(x1, g)`
    takes the same x1 and d(loss)/d(z.T), shape (n_out, n), fills dWb = x1 @ g.T (dW and db in one
    product) and returns d(loss)/d(x.T) = W @ g, shape (n_in, n). The layer keeps no state between
    the two: the model's tape does, so passes over several shards of a batch can run side by side.

    Weights start Glorot uniform (limit sqrt(6 / (n_in + n_out)), Keras's default), drawn from a
    seeded numpy Generator; biases start at zero.
    """

    def __init__(
        self, n_in: int, n_out: int, rng: np.random.Generator, dtype: np.dtype | type = np.float32
    ) -> None:
        self.n_in, self.n_out = n_in, n_out
        limit = np.sqrt(6.0 / (n_in + n_out))
        self.Wb = np.zeros((n_in + 1, n_out), dtype=dtype)
        self.Wb[:n_in] = rng.uniform(-limit, limit, size=(n_in, n_out))
        self.dWb = np.zeros_like(self.Wb)

    def use_buffers(self, Wb: np.ndarray, dWb: np.ndarray) -> None:
        """Move the weights into `Wb` and keep the gradients in `dWb` (views of flat buffers)."""
        Wb[...] = self.Wb
        self.Wb, self.dWb = Wb, dWb

    @property
    def W(self) -> np.ndarray:
        return self.Wb[:self.n_in]

    @property
    def b(self) -> np.ndarray:
        return self.Wb[self.n_in]

    @property
    def dW(self) -> np.ndarray:
        return self.dWb[:self.n_in]

    @property
    def db(self) -> np.ndarray:
        return self.dWb[self.n_in]

    def forward(self, x1: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """z.T for x1 (n_in + 1, n), written into `out` (n_out, n) if given."""
        return np.matmul(self.Wb.T, x1, out=out)

    def backward(
        self, x1: np.ndarray, grad_out: np.ndarray, dWb: np.ndarray | None = None,
        input_grad: bool = True,
    ) -> np.ndarray | None:
        """Write d(loss)/d(Wb) for the forward input x1 into `dWb` (default: the layer's own,
        a view of a flat buffer: written in place); return d(loss)/d(x.T), or None when
        `input_grad` is False (the first layer of a network, whose input is the data)."""
        dWb = self.dWb if dWb is None else dWb
        g = grad_out.T
        if x1.shape[1] > TN_CHUNK and min(self.n_in, self.n_out) >= TN_CHUNK_MIN_WIDTH:
            _chunked_product(x1, g, dWb)
        else:
            np.matmul(x1, g, out=dWb)
        return self.W @ grad_out if input_grad else None

    def parameters(self) -> list[np.ndarray]:
        return [self.W, self.b]

    def gradients(self) -> list[np.ndarray]:
        return [self.dW, self.db]

    @property
    def n_params(self) -> int:
        return self.Wb.size

    def __repr__(self) -> str:
        return f"Dense({self.n_in} -> {self.n_out})"
