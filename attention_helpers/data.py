"""Seeded toy data sets for the notebooks. Nothing is downloaded: every array is generated here.

Same arguments and the same `seed` give the same arrays on every machine
(`numpy.random.default_rng`).
"""

from __future__ import annotations

import numpy as np

from attention_helpers._validation import check_index, check_int, check_seed


def dense_task(n, dims=32, target_index=1, seed=None):
    """The "only v[1] matters" task of keras-attention-mechanism (its `get_data`).

    Each sample is a vector of `dims` values drawn from N(0, 1); the binary label is copied
    into position `target_index`, so that one input alone decides the label and every other
    input is noise.

    Args:
        n: number of samples (>= 1).
        dims: vector length (>= 2).
        target_index: the position that carries the label, in [0, dims - 1].
        seed: None or a non-negative int.

    Returns:
        `(x, y)`: float32 `x` of shape `(n, dims)` and float32 `y` of shape `(n, 1)` in {0, 1},
        with `x[:, target_index] == y[:, 0]`.

    Example:
        >>> x, y = dense_task(4, seed=0)
        >>> x.shape, y.shape
        ((4, 32), (4, 1))
    """
    n = check_int("n", n, minimum=1)
    dims = check_int("dims", dims, minimum=2)
    target_index = check_index("target_index", target_index, dims, "dims")
    rng = np.random.default_rng(check_seed(seed))
    x = rng.standard_normal((n, dims)).astype(np.float32)
    y = rng.integers(0, 2, size=(n, 1)).astype(np.float32)
    x[:, target_index] = y[:, 0]
    return x, y
