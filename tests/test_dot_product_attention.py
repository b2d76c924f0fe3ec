import keras
import numpy as np
import pytest

from attention_helpers import reference
from attention_helpers.layers import DotProductAttention, causal_mask
from tests.layer_testing import random_array, run_layer_test, to_numpy


def test_layer_contract(tmp_path):
    run_layer_test(DotProductAttention, {}, [(2, 3, 4), (2, 5, 4)], (2, 3, 4), 0, tmp_path)
    run_layer_test(
        DotProductAttention,
        {"use_scale": True},
        [(2, 3, 4), (2, 5, 6), (2, 5, 4)],
        [(2, 3, 6), (2, 3, 5)],
        1,
        tmp_path,
        call_kwargs={"return_attention_scores": True},
    )


def test_matches_numpy_reference():
    q, v, k = random_array((2, 3, 4), 1), random_array((2, 5, 6), 2), random_array((2, 5, 4), 3)
    output, weights = DotProductAttention()([q, v, k], return_attention_scores=True)
    want_output, want_weights = reference.attention(q, k, v, score="dot")
    np.testing.assert_allclose(weights, want_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(output, want_output, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("trial", range(12))
def test_equals_keras_attention_over_random_shapes_masks_scale_and_causal(trial):
    rng = np.random.default_rng(trial)
    batch, tq, tv, dim, dv = (int(n) for n in rng.integers(1, 7, size=5))
    use_scale, causal = bool(rng.integers(2)), bool(rng.integers(2))
    with_key, with_masks = bool(rng.integers(2)), bool(rng.integers(2))
    if causal:
        tv = tq  # decoder self-attention shape
    if not with_key:
        dv = dim  # the value is the key, so it needs the query's width
    q, v = random_array((batch, tq, dim), trial), random_array((batch, tv, dv), trial + 100)
    inputs = [q, v, random_array((batch, tv, dim), trial + 200)] if with_key else [q, v]
    mask = None
    if with_masks:
        q_mask = rng.random((batch, tq)) > 0.3
        v_mask = rng.random((batch, tv)) > 0.3
        v_mask[:, 0] = True  # every query keeps at least one key (see the layer docstring)
        mask = [q_mask, v_mask]
    ours = DotProductAttention(use_scale=use_scale)
    theirs = keras.layers.Attention(use_scale=use_scale)
    kwargs = {"mask": mask, "return_attention_scores": True, "use_causal_mask": causal}
    out_a, w_a = ours(inputs, **kwargs)
    out_b, w_b = theirs(inputs, **kwargs)
    if use_scale:  # same scale in both, not the initial 1
        ours.scale.assign(1.7)
        theirs.scale.assign(1.7)
        out_a, w_a = ours(inputs, **kwargs)
        out_b, w_b = theirs(inputs, **kwargs)
    np.testing.assert_allclose(to_numpy(w_a), to_numpy(w_b), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(out_a), to_numpy(out_b), rtol=1e-5, atol=1e-5)


def test_causal_mask_gives_exact_zeros_above_the_diagonal():
    x = random_array((2, 6, 4))
    _, weights = DotProductAttention()([x, x], return_attention_scores=True, use_causal_mask=True)
    weights = to_numpy(weights)
    assert np.all(weights[:, np.triu_indices(6, k=1)[0], np.triu_indices(6, k=1)[1]] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-5)
    assert weights[0, 0, 0] == pytest.approx(1.0)
    np.testing.assert_array_equal(to_numpy(causal_mask(2, 3))[0], [[True, False, False], [True, True, False]])


def test_masked_values_get_zero_weight_and_cannot_change_the_output():
    q, v = random_array((2, 3, 4)), random_array((2, 5, 4), 1)
    v_mask = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1]], bool)
    layer = DotProductAttention()
    out, weights = layer([q, v], mask=[None, v_mask], return_attention_scores=True)
    assert np.all(to_numpy(weights)[~v_mask[:, None, :].repeat(3, axis=1)] == 0.0)
    changed = v.copy()
    changed[~v_mask] = 1e4
    # Keys are the values here, so only the unmasked ones may matter.
    np.testing.assert_allclose(to_numpy(layer([q, changed], mask=[None, v_mask])), to_numpy(out), rtol=1e-6)


def test_fully_masked_query_gets_zero_weights_not_nan():
    q, v = random_array((1, 2, 3)), random_array((1, 4, 3))
    _, weights = DotProductAttention()([q, v], mask=[None, np.zeros((1, 4), bool)], return_attention_scores=True)
    np.testing.assert_array_equal(to_numpy(weights), 0.0)


def test_query_mask_zeroes_outputs_and_is_passed_on():
    q, v = random_array((1, 3, 4)), random_array((1, 5, 4))
    q_mask = np.array([[True, False, True]])
    layer = DotProductAttention()
    out = to_numpy(layer([q, v], mask=[q_mask, None]))
    np.testing.assert_array_equal(out[0, 1], 0.0)
    np.testing.assert_array_equal(to_numpy(layer.compute_mask([q, v], [q_mask, None])), q_mask)


def test_use_scale_multiplies_the_scores():
    q, v = random_array((1, 2, 3)), random_array((1, 4, 3))
    layer = DotProductAttention(use_scale=True)
    layer([q, v])
    layer.scale.assign(3.0)
    _, weights = layer([q, v], return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(weights), reference.softmax(3.0 * (q @ v.transpose(0, 2, 1))), rtol=1e-5)


def test_mixed_precision_is_finite(mixed_precision):
    q, v = random_array((2, 8, 16)) * 30, random_array((2, 8, 16)) * 30  # scores far beyond float16's range
    out, weights = DotProductAttention()(
        [q, v], return_attention_scores=True, use_causal_mask=True, mask=[None, np.ones((2, 8), bool)]
    )
    assert out.dtype == "float16"
    assert np.all(np.isfinite(to_numpy(out))) and np.all(np.isfinite(to_numpy(weights)))


@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_per_layer_mixed_precision_keeps_float16_with_dropout(dropout):
    assert keras.config.dtype_policy().name == "float32"  # only the layer is mixed
    q = random_array((2, 4, 3))
    layer = DotProductAttention(dropout=dropout, seed=1, dtype="mixed_float16")
    out, weights = layer([q, q], return_attention_scores=True, training=True)
    assert out.dtype == "float16" and weights.dtype == "float16"
    if dropout:
        assert layer.dropout_layer.dtype_policy.name == "mixed_float16"
        assert np.any(to_numpy(weights) == 0.0)  # dropout did run
    assert np.all(np.isfinite(to_numpy(out)))


def test_dropout_only_in_training():
    q = random_array((1, 4, 3))
    layer = DotProductAttention(dropout=0.5, seed=1)
    _, inference = layer([q, q], return_attention_scores=True)
    _, train = layer([q, q], return_attention_scores=True, training=True)
    np.testing.assert_allclose(to_numpy(inference).sum(-1), 1.0, rtol=1e-5)
    assert np.any(to_numpy(train) == 0.0)


def test_rejects_bad_inputs():
    with pytest.raises(
        ValueError, match=r"same number of features.*query.shape=\(None, 3, 4\), key.shape=\(None, 5, 6\)"
    ):
        DotProductAttention()([keras.Input((3, 4)), keras.Input((5, 6))])
    with pytest.raises(ValueError, match=r"same number of steps.*key.shape=\(None, 4, 4\), value.shape=\(None, 5, 6\)"):
        DotProductAttention()([keras.Input((3, 4)), keras.Input((5, 6)), keras.Input((4, 4))])
    with pytest.raises(ValueError, match=r"expects `query` of rank 3.*Received: query.shape=\(None, 4\)"):
        DotProductAttention()([keras.Input((4,)), keras.Input((5, 4))])
    with pytest.raises(ValueError, match=r"expects `inputs` to be a list \[query, value\]"):
        DotProductAttention()(keras.Input((3, 4)))
    with pytest.raises(
        ValueError,
        match=r"expects `value_mask` of shape \(batch, steps\) = \(1, 5\).*Received: value_mask.shape=\(1, 4\)",
    ):
        DotProductAttention()([random_array((1, 3, 4)), random_array((1, 5, 4))], mask=[None, np.ones((1, 4), bool)])
    with pytest.raises(ValueError, match=r"`dropout` must be a number in \[0, 1\). Received: dropout=1.5"):
        DotProductAttention(dropout=1.5)
    with pytest.raises(TypeError, match=r"`seed` must be an integer. Received: seed=1.5"):
        DotProductAttention(seed=1.5)  # refused even without dropout, where Keras would never see it
    with pytest.raises(TypeError, match=r"`seed` must be an integer. Received: seed=True"):
        DotProductAttention(dropout=0.1, seed=True)
    with pytest.raises(ValueError, match=r"`seed` must be >= 0. Received: seed=-1"):
        DotProductAttention(dropout=0.1, seed=-1)
    with pytest.raises(TypeError, match=r"`use_scale` must be True or False. Received: use_scale=1"):
        DotProductAttention(use_scale=1)


# Issue 25: what Keras's and keras-hub's own tests and malformed-input probes found.


@pytest.mark.parametrize("use_scale", [False, True])
def test_float64_layer_equals_float64_numpy(use_scale):
    # The softmax used to run in float32 whatever the dtype: a float64 layer was only float32-accurate.
    rng = np.random.default_rng(25)
    q, v, k = rng.normal(size=(2, 4, 5)) * 3, rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 6, 5)) * 3
    v_mask = np.array([[1, 1, 1, 1, 1, 1], [1, 0, 1, 1, 0, 0]], bool)
    layer = DotProductAttention(use_scale=use_scale, dtype="float64")
    output, weights = layer([q, v, k], mask=[None, v_mask], use_causal_mask=True, return_attention_scores=True)
    assert output.dtype == "float64" and weights.dtype == "float64"
    allowed = v_mask[:, None, :] & np.tri(4, 6, dtype=bool)
    want_output, want_weights = reference.attention(q, k, v, score="dot", mask=allowed)
    np.testing.assert_allclose(to_numpy(weights), want_weights, rtol=0, atol=1e-12)
    np.testing.assert_allclose(to_numpy(output), want_output, rtol=0, atol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_masked_values_and_keys_never_reach_the_output_not_even_nan(bad):
    # 0 × NaN is NaN: a NaN at a masked value step used to make every output NaN (Keras's layer too).
    q, v, k = random_array((2, 3, 4)), random_array((2, 5, 6), 1), random_array((2, 5, 4), 2)
    v_mask = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 0, 1]], bool)
    layer = DotProductAttention(use_scale=True)

    def run(padding, causal=False):
        poisoned = [q, np.where(v_mask[..., None], v, padding), np.where(v_mask[..., None], k, -padding)]
        out, weights = layer(poisoned, mask=[None, v_mask], use_causal_mask=causal, return_attention_scores=True)
        return to_numpy(out), to_numpy(weights)

    (out, weights), (garbage_out, garbage_weights) = run(bad), run(1e3)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(weights))
    np.testing.assert_array_equal(out, garbage_out)
    np.testing.assert_array_equal(weights, garbage_weights)
    for b in range(2):  # the visible steps alone give the same output
        alone = to_numpy(layer([q[b : b + 1], v[b : b + 1, v_mask[b]], k[b : b + 1, v_mask[b]]]))
        np.testing.assert_allclose(out[b], alone[0], rtol=1e-5, atol=1e-6)
    # Causal with Tq = 3 < Tv = 5: keys 3 and 4 are seen by no query, masked or not.
    causal_out = to_numpy(layer([q, np.where(np.arange(5)[:, None] < 3, v, bad), k], use_causal_mask=True))
    np.testing.assert_allclose(causal_out, to_numpy(layer([q, v[:, :3], k[:, :3]], use_causal_mask=True)), rtol=1e-6)


@pytest.mark.parametrize(
    ("query_mask_shape", "value_mask_shape"),
    [(None, (1, 5)), (None, (5,)), (None, (3, 1)), ((1, 4), (1, 5)), ((4,), None), ((3, 1), (3, 5))],
)
def test_masks_broadcast_over_the_batch_as_in_keras(query_mask_shape, value_mask_shape):
    # keras.layers.Attention broadcasts a mask shared by the batch, such as (1, Tv); ours refused it.
    rng = np.random.default_rng(5)
    q, v = random_array((3, 4, 6)), random_array((3, 5, 6), 1)

    def draw(shape):
        if shape is None:
            return None
        mask = rng.random(shape) > 0.4
        mask[..., 0] = True  # every query keeps a key, where Keras's convention differs (see the docstring)
        return mask

    mask = [draw(query_mask_shape), draw(value_mask_shape)]
    ours, theirs = DotProductAttention(), keras.layers.Attention()
    out, weights = ours([q, v], mask=mask, return_attention_scores=True)
    want_out, want_weights = theirs([q, v], mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(weights), to_numpy(want_weights), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(out), to_numpy(want_out), rtol=1e-5, atol=1e-5)
    explicit = [None if m is None else np.broadcast_to(m, (3, n)) for m, n in zip(mask, (4, 5))]
    np.testing.assert_array_equal(to_numpy(ours([q, v], mask=explicit)), to_numpy(out))


def test_rejects_query_and_value_of_different_batch_sizes():
    with pytest.raises(ValueError, match=r"same batch size.*Received: query.shape=\(2, 3, 4\), value.shape=\(3, 5, 4\)"):
        DotProductAttention()([random_array((2, 3, 4)), random_array((3, 5, 4))])
