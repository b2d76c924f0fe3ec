import tracemalloc

import numpy as np
import pytest

from attention_helpers import reference


def test_softmax_is_stable_and_normalised():
    scores = np.array([[1000.0, 1001.0, 999.0], [0.0, 0.0, 0.0]])
    weights = reference.softmax(scores)
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
    np.testing.assert_allclose(weights[1], 1 / 3)
    e = np.exp([0.0, 1.0, -1.0])
    np.testing.assert_allclose(weights[0], e / e.sum())


def test_masked_softmax_gives_exact_zeros_and_no_nan():
    scores = np.array([[3.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
    mask = np.array([[True, False, True], [False, False, False]])
    weights = reference.masked_softmax(scores, mask)
    assert weights[0, 1] == 0.0
    np.testing.assert_allclose(weights[0, [0, 2]], reference.softmax(np.array([3.0, 2.0])))
    np.testing.assert_array_equal(weights[1], 0.0)


def test_attention_matches_hand_computation():
    q = np.array([[1.0, 0.0]])
    k = np.array([[1.0, 0.0], [0.0, 1.0]])
    v = np.array([[10.0], [20.0]])
    out, w = reference.attention(q, k, v, score="dot")
    expected_w = np.exp([1.0, 0.0]) / np.exp([1.0, 0.0]).sum()
    np.testing.assert_allclose(w[0], expected_w)
    np.testing.assert_allclose(out[0, 0], expected_w @ [10.0, 20.0])
    _, w_scaled = reference.attention(q, k, v, score="scaled_dot")
    e = np.exp(np.array([1.0, 0.0]) / np.sqrt(2))
    np.testing.assert_allclose(w_scaled[0], e / e.sum())


def test_additive_scores_shape_and_value():
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    wq, wk, v = rng.normal(size=(4, 6)), rng.normal(size=(4, 6)), rng.normal(size=6)
    scores = reference.additive_scores(q, k, wq, wk, v)
    assert scores.shape == (3, 5)
    assert np.isclose(scores[1, 2], np.tanh(q[1] @ wq + k[2] @ wk) @ v)


def test_attention_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"same last dimension.*queries.shape=\(1, 3\), keys.shape=\(2, 2\)"):
        reference.attention(np.ones((1, 3)), np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"same number of steps"):
        reference.attention(np.ones((1, 2)), np.ones((2, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"Expected one of \['dot', 'scaled_dot'\]. Received: score='cosine'"):
        reference.attention(np.ones((1, 2)), np.ones((2, 2)), np.ones((2, 2)), score="cosine")


def test_online_softmax_equals_softmax_where_naive_exp_overflows_and_with_minus_inf():
    with np.errstate(over="ignore"):
        assert np.isinf(np.exp(np.float64(1001.0)))  # the naive exp overflows on these scores
    scores = np.array([[1000.0, 1001.0, 999.0], [0.0, -np.inf, 2.0], [-np.inf, 5.0, -np.inf]])
    weights = reference.online_softmax(scores)
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights, reference.softmax(scores), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(weights[np.isinf(scores)], 0.0)
    np.testing.assert_array_equal(weights[2], [0.0, 1.0, 0.0])
    random_scores = np.random.default_rng(0).normal(size=(2, 5, 9)) * 50
    for axis in (0, 1, 2, -1):
        np.testing.assert_allclose(
            reference.online_softmax(random_scores, axis=axis), reference.softmax(random_scores, axis=axis), rtol=1e-12
        )


def test_online_softmax_update_by_hand_on_two_blocks():
    first, second = np.array([1.0, 3.0]), np.array([5.0, 2.0, 4.0])
    m, s = reference.online_softmax_update(-np.inf, 0.0, first)
    assert m == 3.0
    assert np.isclose(s, np.exp(1.0 - 3.0) + np.exp(0.0))
    m, s = reference.online_softmax_update(m, s, second)
    # The maximum rises from 3 to 5, so the first block's sum is rescaled by exp(3 - 5).
    assert m == 5.0
    assert np.isclose(s, (np.exp(-2.0) + 1.0) * np.exp(3.0 - 5.0) + np.exp(0.0) + np.exp(-3.0) + np.exp(-1.0))
    everything = np.concatenate([first, second])
    np.testing.assert_allclose(np.exp(everything - m) / s, reference.softmax(everything))
    # Rows of a batch are independent; a block of nothing but -inf changes nothing.
    m_rows, s_rows = reference.online_softmax_update(
        np.array([-np.inf, 5.0]), np.array([0.0, s]), np.full((2, 2), -np.inf)
    )
    np.testing.assert_array_equal(m_rows, [-np.inf, 5.0])
    np.testing.assert_array_equal(s_rows, [0.0, s])


def _causal(steps_q, steps_k):
    """Query i sees keys j <= i + Tk - Tq: the last query sees every key."""
    return np.tril(np.ones((steps_q, steps_k), bool), k=steps_k - steps_q)


FLASH_CASES = [  # (batch axes, Tq, Tk, d, dv)
    ((), 10, 10, 4, 4),
    ((2,), 11, 11, 8, 5),  # T not divisible by 3 or 7
    ((2, 3), 6, 13, 4, 3),  # batch and head axes, Tq < Tk
    ((1,), 9, 5, 4, 6),  # Tq > Tk: with causal, the first queries see no key
]


@pytest.mark.parametrize("case", FLASH_CASES)
@pytest.mark.parametrize("block_size", [1, 3, 7, 64])
@pytest.mark.parametrize("masking", ["none", "causal", "padding", "both"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_flash_attention_equals_naive_attention(case, block_size, masking, dtype):
    batch, steps_q, steps_k, dim, dim_v = case
    rng = np.random.default_rng(steps_q * 100 + steps_k + block_size)
    q = (rng.normal(size=(*batch, steps_q, dim)) * 3).astype(dtype)
    k = (rng.normal(size=(*batch, steps_k, dim)) * 3).astype(dtype)
    v = rng.normal(size=(*batch, steps_k, dim_v)).astype(dtype)
    padding = None
    if masking in ("padding", "both"):
        padding = rng.random((*batch, 1, steps_k)) > 0.3  # (..., 1, Tk): keys each sequence may use
    causal = masking in ("causal", "both")
    naive_mask = padding
    if causal:
        naive_mask = _causal(steps_q, steps_k) if padding is None else padding & _causal(steps_q, steps_k)
    want, _ = reference.attention(q, k, v, score="scaled_dot", mask=naive_mask)
    got = reference.flash_attention(q, k, v, block_size, mask=padding, causal=causal)
    assert got.shape == want.shape
    assert got.dtype == dtype
    tolerance = 1e-6 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


def test_flash_attention_gives_zeros_to_a_query_that_sees_no_key():
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(7, 4)), rng.normal(size=(9, 4)), rng.normal(size=(9, 3))
    mask = rng.random((7, 9)) > 0.4
    mask[2] = False  # query 2 may look at nothing
    mask[5, :6] = False  # query 5 sees nothing in the first two blocks of 3
    out, m, row_sum = reference.flash_attention(q, k, v, 3, mask=mask, return_stats=True)
    want, weights = reference.attention(q, k, v, score="scaled_dot", mask=mask)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out[2], 0.0)
    np.testing.assert_array_equal(weights[2], 0.0)
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-6)
    assert m[2] == -np.inf and row_sum[2] == 0.0
    # The statistics are the row maximum and the softmax denominator of the visible scores.
    scores = np.where(mask, reference.scaled_dot_scores(q, k), -np.inf)
    visible = np.arange(7) != 2
    np.testing.assert_allclose(m[visible], scores[visible].max(axis=-1))
    np.testing.assert_allclose(row_sum[visible], np.exp(scores[visible] - m[visible, None]).sum(axis=-1))
    # Causal with more queries than keys: the first Tq - Tk queries see nothing.
    causal_out = reference.flash_attention(q, k[:4], v[:4], 2, causal=True)
    np.testing.assert_array_equal(causal_out[:3], 0.0)
    np.testing.assert_allclose(causal_out, reference.attention(q, k[:4], v[:4], "scaled_dot", _causal(7, 4))[0])


def _peak_bytes(function):
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_flash_attention_largest_temporary_is_queries_times_block_not_queries_times_keys():
    steps, block_size, dim = 1024, 64, 32
    rng = np.random.default_rng(2)
    q, k, v = rng.normal(size=(3, steps, dim))
    naive = _peak_bytes(lambda: reference.attention(q, k, v, score="scaled_dot"))
    flash = _peak_bytes(lambda: reference.flash_attention(q, k, v, block_size))
    assert naive >= steps * steps * 8  # it holds at least the (T, T) float64 scores
    assert flash < naive / 4, f"flash_attention peak {flash} bytes, attention peak {naive} bytes"
    assert flash < 8 * steps * block_size * 8  # a few (T, block) float64 arrays, whatever T is


def test_flash_attention_rejects_bad_arguments():
    q, k, v = np.ones((4, 2)), np.ones((5, 2)), np.ones((5, 3))
    with pytest.raises(ValueError, match=r"`block_size` must be >= 1. Received: block_size=0"):
        reference.flash_attention(q, k, v, 0)
    with pytest.raises(TypeError, match=r"`block_size` must be an integer. Received: block_size=2.5"):
        reference.flash_attention(q, k, v, 2.5)
    with pytest.raises(ValueError, match=r"same last dimension. Received: q.shape=\(4, 3\), k.shape=\(5, 2\)"):
        reference.flash_attention(np.ones((4, 3)), k, v, 2)
    with pytest.raises(ValueError, match=r"same number of steps.*k.shape=\(5, 2\), v.shape=\(6, 3\)"):
        reference.flash_attention(q, k, np.ones((6, 3)), 2)
    with pytest.raises(ValueError, match=r"batch\) axes.*q.shape=\(2, 4, 2\), k.shape=\(3, 5, 2\)"):
        reference.flash_attention(np.ones((2, 4, 2)), np.ones((3, 5, 2)), np.ones((3, 5, 3)), 2)
    with pytest.raises(
        ValueError, match=r"`mask` must broadcast to \(..., Tq, Tk\) = \(4, 5\). Received: mask.shape=\(5, 4\)"
    ):
        reference.flash_attention(q, k, v, 2, mask=np.ones((5, 4), bool))
    with pytest.raises(ValueError, match=r"`q` must have rank >= 2"):
        reference.flash_attention(np.ones(2), k, v, 2)
    with pytest.raises(TypeError, match=r"`causal` must be True or False"):
        reference.flash_attention(q, k, v, 2, causal="yes")
