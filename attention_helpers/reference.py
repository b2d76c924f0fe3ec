"""Attention in plain NumPy: the reference every layer of the package is tested against.

Shapes follow the notebooks: queries `(..., Tq, d)`, keys `(..., Tk, d)`, values `(..., Tk, dv)`.
"""

from __future__ import annotations

import numpy as np

from attention_helpers._validation import as_array, check_one_of


def softmax(scores, axis=-1):
    """Numerically stable softmax: subtract the max before exponentiating."""
    scores = np.asarray(scores, dtype=np.float64)
    shifted = scores - np.max(scores, axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / np.sum(exp, axis=axis, keepdims=True)


def masked_softmax(scores, mask, axis=-1):
    """Softmax where `mask == False` entries get exactly zero weight.

    A row whose entries are all masked gets all-zero weights instead of NaN.
    """
    scores = np.asarray(scores, dtype=np.float64)
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), scores.shape)
    filled = np.where(mask, scores, -np.inf)
    row_max = np.max(filled, axis=axis, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    exp = np.where(mask, np.exp(filled - row_max), 0.0)
    total = np.sum(exp, axis=axis, keepdims=True)
    return np.divide(exp, total, out=np.zeros_like(exp), where=total > 0)


def dot_scores(queries, keys):
    """Luong dot-product scores `q . k`, shape `(..., Tq, Tk)`."""
    return np.matmul(queries, np.swapaxes(keys, -1, -2))


def scaled_dot_scores(queries, keys):
    """Dot-product scores divided by sqrt(d), as in the Transformer."""
    return dot_scores(queries, keys) / np.sqrt(np.shape(queries)[-1])


def additive_scores(queries, keys, w_query, w_key, v):
    """Bahdanau (additive) scores `v . tanh(W_q q + W_k k)`, shape `(..., Tq, Tk)`.

    `w_query` is `(d_q, units)`, `w_key` is `(d_k, units)` and `v` is `(units,)`.
    """
    projected_q = np.matmul(queries, w_query)[..., :, None, :]  # (..., Tq, 1, units)
    projected_k = np.matmul(keys, w_key)[..., None, :, :]  # (..., 1, Tk, units)
    return np.tanh(projected_q + projected_k) @ v


SCORES = {"dot": dot_scores, "scaled_dot": scaled_dot_scores}


def attention(queries, keys, values, score="dot", mask=None):
    """Soft dictionary lookup: score every key against every query, softmax, weight the values.

    Args:
        queries: `(..., Tq, d)`.
        keys: `(..., Tk, d)`.
        values: `(..., Tk, dv)`.
        score: "dot" or "scaled_dot".
        mask: optional boolean array broadcastable to `(..., Tq, Tk)`; False means "do not look".

    Returns:
        `(output, weights)`: `output` is `(..., Tq, dv)`, `weights` is `(..., Tq, Tk)` and sums to 1
        over keys (to 0 for a query that may look at nothing).
    """
    check_one_of("score", score, set(SCORES))
    queries = as_array("queries", queries, min_ndim=2)
    keys = as_array("keys", keys, min_ndim=2)
    values = as_array("values", values, min_ndim=2)
    if queries.shape[-1] != keys.shape[-1]:
        raise ValueError(
            "`queries` and `keys` must have the same last dimension. "
            f"Received: queries.shape={queries.shape}, keys.shape={keys.shape}"
        )
    if keys.shape[-2] != values.shape[-2]:
        raise ValueError(
            "`keys` and `values` must have the same number of steps (axis -2). "
            f"Received: keys.shape={keys.shape}, values.shape={values.shape}"
        )
    scores = SCORES[score](queries, keys)
    weights = softmax(scores) if mask is None else masked_softmax(scores, mask)
    return weights @ values, weights
