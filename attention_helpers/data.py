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


def sequence_task(n, steps=20, dims=2, target_step=10, seed=None):
    """The recurrent version of the task (the seed's `get_data_recurrent`).

    Every value is drawn from N(0, 1), then the binary label is written into every dimension at
    `target_step`: only that step carries information.

    Args:
        n: number of sequences (>= 1).
        steps: sequence length (>= 2).
        dims: values per step (>= 1).
        target_step: the step that carries the label, in [0, steps - 1].
        seed: None or a non-negative int.

    Returns:
        `(x, y)`: float32 `x` of shape `(n, steps, dims)` and float32 `y` of shape `(n, 1)`, with
        `x[:, target_step, :] == y`.
    """
    n = check_int("n", n, minimum=1)
    steps = check_int("steps", steps, minimum=2)
    dims = check_int("dims", dims, minimum=1)
    target_step = check_index("target_step", target_step, steps, "steps")
    rng = np.random.default_rng(check_seed(seed))
    x = rng.standard_normal((n, steps, dims)).astype(np.float32)
    y = rng.integers(0, 2, size=(n, 1)).astype(np.float32)
    x[:, target_step, :] = y
    return x, y


def multi_signal_task(n, steps=20, dims=2, target_steps=(5, 15), seed=None):
    """A sequence task where each dimension carries its own signal at its own step.

    Dimension `d` holds a signal `s_d ~ N(0, 1)` at step `target_steps[d]`; everything else is
    N(0, 1) noise. The label is 1 when the signals sum to more than 0. Each signal alone predicts
    the label only partly (about 75% for two dimensions); both together predict it exactly. So one
    attention vector shared by all dimensions, which cannot look at step 5 in dimension 0 and at
    step 15 in dimension 1 at the same time, loses accuracy that one vector per dimension keeps.

    Args:
        n: number of sequences (>= 1).
        steps: sequence length (>= 2).
        dims: number of dimensions (>= 1).
        target_steps: one step per dimension (`len(target_steps) == dims`).
        seed: None or a non-negative int.

    Returns:
        `(x, y)`: float32 `x` `(n, steps, dims)` and float32 `y` `(n, 1)` in {0, 1}, with
        `y == (sum_d x[:, target_steps[d], d] > 0)`.
    """
    n = check_int("n", n, minimum=1)
    steps = check_int("steps", steps, minimum=2)
    dims = check_int("dims", dims, minimum=1)
    if isinstance(target_steps, (str, bytes)) or not hasattr(target_steps, "__len__") or len(target_steps) == 0:
        raise TypeError(
            f"`target_steps` must be a non-empty sequence of step indices, one per dimension. "
            f"Received: target_steps={target_steps!r}"
        )
    if len(target_steps) != dims:
        raise ValueError(
            f"`target_steps` must have one step per dimension ({dims}, from dims={dims}). "
            f"Received: target_steps={tuple(target_steps)} ({len(target_steps)} steps)"
        )
    target_steps = tuple(check_index(f"target_steps[{d}]", step, steps, "steps") for d, step in enumerate(target_steps))
    rng = np.random.default_rng(check_seed(seed))
    x = rng.standard_normal((n, steps, dims)).astype(np.float32)
    signals = x[:, list(target_steps), list(range(dims))]  # (n, dims): the value each dimension plants
    y = (signals.sum(axis=1, keepdims=True) > 0).astype(np.float32)
    return x, y
