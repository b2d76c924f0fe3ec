"""Attention in plain NumPy: the reference every layer of the package is tested against.

Shapes follow the notebooks: queries `(..., Tq, d)`, keys `(..., Tk, d)`, values `(..., Tk, dv)`.
`online_softmax` and `flash_attention` compute the same results as `softmax` and `attention` in
one pass over the scores, the way FlashAttention does on a GPU.
"""

from __future__ import annotations

import numpy as np

from attention_helpers._validation import as_array, check_bool, check_int, check_one_of


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


def online_softmax_update(m, s, block):
    """Fold one new block of scores into a running maximum `m` and running sum `s`.

    `s` is the sum of `exp(x - m)` over the scores seen so far. When the block raises the maximum
    from `m` to `m_new`, every old term is rescaled by `exp(m - m_new)`:

        m_new = max(m, max(block))
        s_new = s * exp(m - m_new) + sum(exp(block - m_new))

    Start from `m = -inf`, `s = 0`. While every score seen is -inf, `m_new` stays -inf and `s_new` 0.

    Args:
        m: running maximum, shape `(...)`.
        s: running sum, shape `(...)`.
        block: new scores, shape `(..., B)`; the block runs along the last axis.

    Returns:
        `(m_new, s_new)`, both of shape `(...)`.

    References:
        Maxim Milakov, Natalia Gimelshein, "Online normalizer calculation for softmax",
        https://arxiv.org/abs/1805.02867
    """
    block = np.asarray(block, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    s = np.asarray(s, dtype=np.float64)
    m_new = np.maximum(m, np.max(block, axis=-1, initial=-np.inf))
    shift = np.where(np.isfinite(m_new), m_new, 0.0)  # nothing but -inf yet: exp(-inf - 0) = 0, not NaN
    s_new = s * np.exp(m - shift) + np.sum(np.exp(block - shift[..., None]), axis=-1)
    return m_new, s_new


def online_softmax(scores, axis=-1):
    """Softmax in one pass over the scores to normalise, then one pass for the outputs.

    `softmax` reads the scores three times (maximum, sum, outputs). Here one walk along `axis`
    keeps a running maximum `m` and running sum `s`, one score at a time with
    `online_softmax_update`; then `exp(x - m) / s`. Returns what `softmax` returns, and never
    exponentiates a positive number, so scores such as 1000 and 1001 do not overflow.

    Args:
        scores: array of scores.
        axis: the axis to normalise over.

    Returns:
        Weights of the shape of `scores`, summing to 1 along `axis`.

    References:
        Maxim Milakov, Natalia Gimelshein, "Online normalizer calculation for softmax",
        https://arxiv.org/abs/1805.02867
    """
    scores = np.moveaxis(np.asarray(scores, dtype=np.float64), axis, -1)  # (..., n)
    m = np.full(scores.shape[:-1], -np.inf)
    s = np.zeros(scores.shape[:-1])
    for j in range(scores.shape[-1]):  # the one pass that normalises
        m, s = online_softmax_update(m, s, scores[..., j : j + 1])
    return np.moveaxis(np.exp(scores - m[..., None]) / s[..., None], -1, axis)


def _float_array(name, value):
    """`value` as an array of rank >= 2: float32 stays float32, anything else becomes float64."""
    array = as_array(name, value, min_ndim=2, dtype=None)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be array-like of numbers. Received: {name} of dtype {array.dtype}")
    return array.astype(array.dtype if array.dtype == np.float32 else np.float64, copy=False)


def flash_attention(q, k, v, block_size, mask=None, causal=False, return_stats=False):
    """Exact scaled dot-product attention over blocks of keys, never holding the `(Tq, Tk)` scores.

    For each block of `block_size` keys and values, the scores of every query against that block
    update a running maximum `m`, a running sum `row_sum` (ℓ in the paper) and an output
    accumulator `o`; whatever was accumulated under the old maximum is rescaled by
    `exp(m_old - m_new)`:

        s = q k_blockᵀ / sqrt(d)                          (..., Tq, block)
        m_new = max(m, rowmax(s))
        p = exp(s - m_new)                                 masked keys give exactly 0
        row_sum = row_sum * exp(m - m_new) + rowsum(p)
        o = o * exp(m - m_new) + p v_block                 (..., Tq, dv)

    and at the end `output = o / row_sum`. The result equals
    `attention(q, k, v, score="scaled_dot", mask=...)[0]`, but the largest temporary is
    `(..., Tq, block_size)`. A query that may look at no key gets zeros, as `masked_softmax`
    gives it all-zero weights. On a GPU the same loop runs in one fused kernel whose blocks stay
    in on-chip memory; NumPy shows the arithmetic, not that speed.

    Args:
        q: queries `(..., Tq, d)`.
        k: keys `(..., Tk, d)`.
        v: values `(..., Tk, dv)`.
        block_size: keys per block, a positive integer; it need not divide Tk.
        mask: optional boolean array broadcastable to `(..., Tq, Tk)`; False means "do not look".
        causal: if True, query i may look at keys j <= i + Tk - Tq (the last query sees every key,
            as in decoding with a cache), combined with `mask` if both are given.
        return_stats: if True, also return the final `m` and `row_sum`, each `(..., Tq)`.

    Returns:
        `output` `(..., Tq, dv)`, or `(output, m, row_sum)`; `m + log(row_sum)` is the log of each
        row's softmax denominator (`m = -inf`, `row_sum = 0` for a query that sees no key). float32 when
        q, k and v are all float32, else float64.

    Example:
        >>> import numpy as np
        >>> from attention_helpers import reference
        >>> q, k, v = np.random.default_rng(0).normal(size=(3, 10, 4))
        >>> out = reference.flash_attention(q, k, v, block_size=3, causal=True)
        >>> want, _ = reference.attention(q, k, v, score="scaled_dot", mask=np.tril(np.ones((10, 10), bool)))
        >>> bool(np.allclose(out, want))
        True

    References:
        Tri Dao, Daniel Y. Fu, Stefano Ermon, Atri Rudra, Christopher Ré, "FlashAttention: Fast and
        Memory-Efficient Exact Attention with IO-Awareness", https://arxiv.org/abs/2205.14135
    """
    block_size = check_int("block_size", block_size, minimum=1)
    causal = check_bool("causal", causal)
    return_stats = check_bool("return_stats", return_stats)
    q, k, v = _float_array("q", q), _float_array("k", k), _float_array("v", v)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"`q` and `k` must have the same last dimension. Received: q.shape={q.shape}, k.shape={k.shape}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"`k` and `v` must have the same number of steps (axis -2). Received: k.shape={k.shape}, v.shape={v.shape}"
        )
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError as error:
        raise ValueError(
            "The leading (batch) axes of `q`, `k` and `v` must broadcast together. "
            f"Received: q.shape={q.shape}, k.shape={k.shape}, v.shape={v.shape}"
        ) from error
    steps_q, steps_k, dv = q.shape[-2], k.shape[-2], v.shape[-1]
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        try:
            mask = np.broadcast_to(mask, (*batch, steps_q, steps_k))  # a view: no (Tq, Tk) copy
        except ValueError as error:
            raise ValueError(
                f"`mask` must broadcast to (..., Tq, Tk) = {(*batch, steps_q, steps_k)}. "
                f"Received: mask.shape={mask.shape}, q.shape={q.shape}, k.shape={k.shape}"
            ) from error
    dtype = np.result_type(q, k, v)
    scale = 1.0 / np.sqrt(q.shape[-1])
    last_visible = np.arange(steps_q)[:, None] + (steps_k - steps_q)  # (Tq, 1): the last key query i sees

    m = np.full((*batch, steps_q), -np.inf, dtype=dtype)  # running maximum of each query's scores
    row_sum = np.zeros((*batch, steps_q), dtype=dtype)  # running sum of exp(score - m)
    o = np.zeros((*batch, steps_q, dv), dtype=dtype)  # running sum of exp(score - m) * value
    for start in range(0, steps_k, block_size):
        stop = min(start + block_size, steps_k)
        scores = q @ np.swapaxes(k[..., start:stop, :], -1, -2)  # (..., Tq, block)
        scores *= scale
        visible = None if mask is None else mask[..., :, start:stop]  # (..., Tq, block)
        if causal:
            in_past = np.arange(start, stop)[None, :] <= last_visible  # (Tq, block)
            visible = in_past if visible is None else visible & in_past
        if visible is not None:
            scores = np.where(visible, scores, -np.inf)
        m_new = np.maximum(m, np.max(scores, axis=-1))
        shift = np.where(np.isfinite(m_new), m_new, 0.0)  # a query that has seen no key yet: 0, not NaN
        rescale = np.exp(m - shift)  # (..., Tq): exp(m_old - m_new), 0 while m_old = -inf
        p = np.exp(scores - shift[..., None], out=scores)  # (..., Tq, block), in place
        row_sum = row_sum * rescale + np.sum(p, axis=-1)
        o = o * rescale[..., None] + p @ v[..., start:stop, :]  # (..., Tq, dv)
        m = m_new
    output = np.divide(o, row_sum[..., None], out=np.zeros_like(o), where=row_sum[..., None] > 0)
    if return_stats:
        return output, m, row_sum
    return output
