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
