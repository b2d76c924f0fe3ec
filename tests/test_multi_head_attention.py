import inspect
import re

import keras
import numpy as np
import pytest

from attention_helpers import reference
from attention_helpers.layers import MultiHeadAttention
from tests.layer_testing import random_array, run_layer_test, to_numpy
from tests.test_rotary_embedding import rotary_numpy


def test_layer_contract(tmp_path):
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 2, "key_dim": 3},
        [(2, 4, 5), (2, 6, 7)],
        (2, 4, 5),
        8,
        tmp_path,
        unpack_inputs=True,
    )
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 3, "key_dim": 4, "value_dim": 2, "output_shape": (2, 3), "use_bias": False},
        [(2, 4, 5), (2, 6, 7), (2, 6, 3)],
        [(2, 4, 2, 3), (2, 3, 4, 6)],
        4,
        tmp_path,
        call_kwargs={"return_attention_scores": True},
        unpack_inputs=True,
    )


def _masked_copy(x, keep):
    """`x` with the steps where `keep` is False set to zero, which `keras.layers.Masking(0.0)` masks."""
    return np.where(keep[..., None], x, 0.0).astype("float32")


def _attention_model(layer, shapes, masked, with_attention_mask, **call_kwargs):
    """Functional model: Masking(0.0) on query, value, key (their implicit masks), then `layer`."""
    inputs = [keras.Input(shape=shape[1:]) for shape in shapes]
    tensors = [keras.layers.Masking(0.0)(x) for x in inputs] if masked else list(inputs)
    extra = {}
    if with_attention_mask:
        attention_input = keras.Input(shape=(shapes[0][1], shapes[1][1]), dtype="bool")
        inputs.append(attention_input)
        extra["attention_mask"] = attention_input
    return keras.Model(inputs, layer(*tensors, **extra, **call_kwargs))


@pytest.mark.parametrize("trial", range(12))
def test_equals_keras_multi_head_attention_over_random_draws(trial):
    rng = np.random.default_rng(trial)
    batch, tq, tv = (int(n) for n in rng.integers(1, 7, size=3))
    query_dim, value_dim_in, key_dim_in = (int(n) for n in rng.integers(1, 9, size=3))
    heads, key_dim = int(rng.integers(1, 5)), int(rng.integers(1, 6))
    value_dim = [None, int(rng.integers(1, 6))][int(rng.integers(2))]
    output_shape = [None, int(rng.integers(1, 6)), (2, int(rng.integers(1, 4)))][int(rng.integers(3))]
    use_bias, with_key, masked, with_attention_mask, causal = (bool(b) for b in rng.integers(2, size=5))
    kwargs = {
        "num_heads": heads,
        "key_dim": key_dim,
        "value_dim": value_dim,
        "output_shape": output_shape,
        "use_bias": use_bias,
        "bias_initializer": "random_normal",
    }
    shapes = [(batch, tq, query_dim), (batch, tv, value_dim_in)] + ([(batch, tv, key_dim_in)] if with_key else [])
    data = [random_array(shape, trial + 10 * i) for i, shape in enumerate(shapes)]
    keeps = [rng.random(shape[:2]) > 0.3 for shape in shapes]
    if masked:
        data = [_masked_copy(x, keep) for x, keep in zip(data, keeps)]
    allowed = np.ones((batch, tq, tv), bool)  # what every mask together lets query i see
    if masked:
        allowed &= keeps[0][:, :, None] & keeps[1][:, None, :]
        allowed &= keeps[2][:, None, :] if with_key else True
    if with_attention_mask:
        attention_mask = rng.random((batch, tq, tv)) > 0.3
        data.append(attention_mask)
        allowed &= attention_mask
    if causal:
        allowed &= np.tril(np.ones((tq, tv), bool))

    ours, theirs = MultiHeadAttention(**kwargs), keras.layers.MultiHeadAttention(**kwargs)
    model_a, model_b = (
        _attention_model(
            layer, shapes, masked, with_attention_mask, return_attention_scores=True, use_causal_mask=causal
        )
        for layer in (ours, theirs)
    )
    ours.set_weights(theirs.get_weights())
    out_a, scores_a = (to_numpy(t) for t in model_a(data))
    out_b, scores_b = (to_numpy(t) for t in model_b(data))
    np.testing.assert_allclose(scores_a, scores_b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out_a, out_b, rtol=1e-5, atol=1e-5)
    assert np.all(scores_a[np.broadcast_to(~allowed[:, None], scores_a.shape)] == 0.0)

    # Without scores, Keras switches to ops.dot_product_attention, which averages every value for
    # a query that may see nothing; every other query step must still agree.
    fused = to_numpy(_attention_model(theirs, shapes, masked, with_attention_mask, use_causal_mask=causal)(data))
    plain = to_numpy(_attention_model(ours, shapes, masked, with_attention_mask, use_causal_mask=causal)(data))
    sees_something = allowed.any(axis=-1)
    np.testing.assert_allclose(plain[sees_something], fused[sees_something], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(plain, out_a, rtol=1e-6, atol=1e-6)


def test_copied_weights_line_up_with_keras_by_shape():
    ours, theirs = MultiHeadAttention(3, 4, value_dim=2), keras.layers.MultiHeadAttention(3, 4, value_dim=2)
    q, v = random_array((1, 2, 5)), random_array((1, 3, 6), 1)
    ours(q, v)
    theirs(q, v)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert tuple(ours.query_kernel.shape) == (5, 3, 4) and tuple(ours.output_kernel.shape) == (3, 2, 5)


def test_padding_and_causal_masks_give_exact_zeros_and_masked_values_cannot_matter():
    q, v = random_array((2, 4, 6)), random_array((2, 5, 6), 1)
    value_mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    out, weights = layer(q, v, value_mask=value_mask, use_causal_mask=True, return_attention_scores=True)
    weights = to_numpy(weights)
    allowed = value_mask[:, None, None, :] & np.tril(np.ones((4, 5), bool))
    assert np.all(weights[np.broadcast_to(~allowed, weights.shape)] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-5)
    changed = v.copy()
    changed[~value_mask] = 1e4
    np.testing.assert_allclose(
        to_numpy(layer(q, changed, value_mask=value_mask, use_causal_mask=True)), to_numpy(out), rtol=1e-6, atol=1e-6
    )


def test_query_that_sees_nothing_gets_zero_weights_and_the_output_bias():
    q, v = random_array((1, 3, 4)), random_array((1, 5, 4), 1)
    layer = MultiHeadAttention(num_heads=2, key_dim=2, bias_initializer="random_normal")
    query_mask = np.array([[True, False, True]])
    out, weights = layer(q, v, query_mask=query_mask, return_attention_scores=True)
    np.testing.assert_array_equal(to_numpy(weights)[0, :, 1], 0.0)
    np.testing.assert_allclose(to_numpy(out)[0, 1], to_numpy(layer.output_bias), rtol=1e-6)
    assert np.all(to_numpy(weights)[0, :, [0, 2]] > 0)


def test_explicit_masks_equal_the_implicit_ones_and_the_output_keeps_the_query_mask():
    rng = np.random.default_rng(3)
    keep_q, keep_v = rng.random((2, 4)) > 0.3, np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]], bool)
    q, v = _masked_copy(random_array((2, 4, 6)), keep_q), _masked_copy(random_array((2, 5, 6), 1), keep_v)
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    out, weights = layer(q, v, query_mask=keep_q, value_mask=keep_v, return_attention_scores=True)
    implicit = _attention_model(layer, [q.shape, v.shape], True, False, return_attention_scores=True)
    want_out, want_weights = implicit([q, v])
    np.testing.assert_allclose(to_numpy(weights), to_numpy(want_weights), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(to_numpy(out), to_numpy(want_out), rtol=1e-6, atol=1e-6)
    # The query's mask travels on: a masked mean over steps skips the padded query steps.
    query_in, value_in = keras.Input((4, 6)), keras.Input((5, 6))
    attended = layer(keras.layers.Masking(0.0)(query_in), keras.layers.Masking(0.0)(value_in))
    pooled = keras.Model([query_in, value_in], keras.layers.GlobalAveragePooling1D()(attended))([q, v])
    out = to_numpy(out)
    want = np.stack([out[b][keep_q[b]].mean(axis=0) for b in range(2)])
    np.testing.assert_allclose(to_numpy(pooled), want, rtol=1e-5, atol=1e-6)


def _shared_mask_inputs():
    """Query `(3, 4, 5)`, value `(3, 6, 7)` and one `(Tq, Tv) = (4, 6)` mask in which every query sees a key."""
    mask = np.random.default_rng(2).random((4, 6)) > 0.5
    mask[:, 0] = True
    return random_array((3, 4, 5)), random_array((3, 6, 7), 1), mask


@pytest.mark.parametrize("batch_axes", [(), (1,), (3,)], ids=["(Tq, Tv)", "(1, Tq, Tv)", "(batch, Tq, Tv)"])
def test_attention_mask_broadcasts_over_the_batch_as_in_keras(batch_axes):
    q, v, mask = _shared_mask_inputs()
    given = np.broadcast_to(mask, (*batch_axes, 4, 6))
    ours = MultiHeadAttention(num_heads=2, key_dim=3, bias_initializer="random_normal")
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, bias_initializer="random_normal")
    ours(q, v)
    theirs(q, v)
    ours.set_weights(theirs.get_weights())
    out, weights = (to_numpy(t) for t in ours(q, v, attention_mask=given, return_attention_scores=True))
    explicit = np.broadcast_to(mask, (3, 4, 6))
    want_out, want_weights = (to_numpy(t) for t in ours(q, v, attention_mask=explicit, return_attention_scores=True))
    np.testing.assert_array_equal(weights, want_weights)
    np.testing.assert_array_equal(out, want_out)
    assert np.all(weights[np.broadcast_to(~mask, weights.shape)] == 0.0)
    assert np.all(weights[np.broadcast_to(mask, weights.shape)] > 0.0)

    keras_out, keras_weights = (to_numpy(t) for t in theirs(q, v, attention_mask=given, return_attention_scores=True))
    np.testing.assert_allclose(weights, keras_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, keras_out, rtol=1e-5, atol=1e-5)
    # Without scores Keras calls ops.dot_product_attention; every query sees a key, so it agrees too.
    np.testing.assert_allclose(
        to_numpy(ours(q, v, attention_mask=given)), to_numpy(theirs(q, v, attention_mask=given)), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("batch_axes", [(), (1,)], ids=["(Tq, Tv)", "(1, Tq, Tv)"])
def test_one_shared_causal_mask_equals_use_causal_mask(batch_axes):
    x = random_array((3, 5, 6))
    padding = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], bool)
    causal = np.tril(np.ones((5, 5), bool)).reshape(*batch_axes, 5, 5)
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    out, weights = layer(x, x, value_mask=padding, attention_mask=causal, return_attention_scores=True)
    want_out, want_weights = layer(x, x, value_mask=padding, use_causal_mask=True, return_attention_scores=True)
    np.testing.assert_array_equal(to_numpy(weights), to_numpy(want_weights))
    np.testing.assert_array_equal(to_numpy(out), to_numpy(want_out))
    allowed = padding[:, None, None, :] & np.tril(np.ones((5, 5), bool))  # (batch, 1, Tq, Tv)
    assert np.all(to_numpy(weights)[np.broadcast_to(~allowed, weights.shape)] == 0.0)


def test_shared_attention_mask_in_a_functional_model_with_unknown_batch():
    q, v, mask = _shared_mask_inputs()
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    explicit = np.broadcast_to(mask, (3, 4, 6))
    want = [to_numpy(t) for t in layer(q, v, attention_mask=explicit, return_attention_scores=True)]
    query_in, value_in = keras.Input((4, 5)), keras.Input((6, 7))
    # One constant (Tq, Tv) mask for every batch, and a (1, Tq, Tv) input fed once for the whole batch.
    constant = keras.Model(
        [query_in, value_in], layer(query_in, value_in, attention_mask=mask, return_attention_scores=True)
    )
    mask_in = keras.Input((4, 6), batch_size=1, dtype="bool")
    fed = keras.Model(
        [query_in, value_in, mask_in],
        layer(query_in, value_in, attention_mask=mask_in, return_attention_scores=True),
    )
    for model in (constant, fed):
        assert [tuple(t.shape) for t in model.outputs] == [(None, 4, 5), (None, 2, 4, 6)]
    # predict runs batches of 2 and 1 through a function traced with the batch dimension unknown.
    for got in (constant.predict([q, v], batch_size=2, verbose=0), fed([q, v, mask[None]])):
        for got_tensor, want_tensor in zip(got, want):
            np.testing.assert_allclose(to_numpy(got_tensor), want_tensor, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", [(2, 4, 6), (3, 1, 6), (1, 6, 4), (3, 4, 1), (4, 5), (6,), (1, 1, 4, 6)])
def test_rejects_attention_masks_that_do_not_broadcast_to_batch_tq_tv(shape):
    q, v, _ = _shared_mask_inputs()
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    with pytest.raises(
        ValueError,
        match=r"expects `attention_mask` of shape \(batch, Tq, Tv\) = \(3, 4, 6\)\. "
        + re.escape(f"Received: attention_mask.shape={shape}. ")
        + r"One mask shared by the batch may also have shape \(1, Tq, Tv\) = \(1, 4, 6\) or \(Tq, Tv\) = \(4, 6\)",
    ):
        layer(q, v, attention_mask=np.ones(shape, bool))


def test_rejects_a_bad_symbolic_attention_mask_when_the_model_is_made():
    query_in, value_in = keras.Input((4, 5)), keras.Input((6, 7))
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    with pytest.raises(
        ValueError,
        match=r"= \(None, 4, 6\)\. Received: attention_mask.shape=\(None, 6, 4\)",
    ):
        layer(query_in, value_in, attention_mask=keras.Input((6, 4), dtype="bool"))
    with pytest.raises(ValueError, match=r"Received: attention_mask.shape=\(4, 5\)"):
        layer(query_in, value_in, attention_mask=np.ones((4, 5), bool))


def test_dropout_only_in_training_and_scores_are_returned_before_dropout():
    q = random_array((2, 5, 8))
    layer = MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5, seed=1)
    inference, inference_weights = layer(q, q, return_attention_scores=True)
    train, train_weights = layer(q, q, return_attention_scores=True, training=True)
    np.testing.assert_allclose(to_numpy(train_weights), to_numpy(inference_weights), rtol=1e-6)
    assert not np.allclose(to_numpy(train), to_numpy(inference))
    np.testing.assert_array_equal(to_numpy(layer(q, q)), to_numpy(inference))


def test_heads_are_independent_attentions_concatenated():
    q, v = random_array((1, 3, 4)), random_array((1, 5, 4), 1)
    layer = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, use_bias=False)
    out, weights = layer(q, v, return_attention_scores=True)
    w_q, w_k, w_v, w_o = (to_numpy(w) for w in layer.weights)
    heads = []
    for h in range(2):
        scores = (q[0] @ w_q[:, h]) @ (v[0] @ w_k[:, h]).T / np.sqrt(3)
        probabilities = np.exp(scores - scores.max(-1, keepdims=True))
        probabilities /= probabilities.sum(-1, keepdims=True)
        np.testing.assert_allclose(to_numpy(weights)[0, h], probabilities, rtol=1e-5, atol=1e-6)
        heads.append(probabilities @ (v[0] @ w_v[:, h]))
    want = np.concatenate(heads, axis=-1) @ w_o.reshape(2 * 2, 4)
    np.testing.assert_allclose(to_numpy(out)[0], want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("policy_dtype", ["float16", "bfloat16"])
def test_mixed_precision_without_nan(policy_dtype):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(f"mixed_{policy_dtype}")
    try:
        q = random_array((2, 6, 16)) * 50  # scores far beyond float16's range
        mask = np.ones((2, 6), bool)
        mask[1, 3:] = False
        layer = MultiHeadAttention(num_heads=4, key_dim=8)
        out, weights = layer(q, q, value_mask=mask, use_causal_mask=True, return_attention_scores=True)
        assert out.dtype == policy_dtype and weights.dtype == policy_dtype
        assert layer.query_kernel.dtype == "float32"
        for tensor in (out, weights):
            assert np.all(np.isfinite(to_numpy(keras.ops.cast(tensor, "float32"))))
        assert np.all(to_numpy(keras.ops.cast(weights, "float32"))[1, :, :, 3:] == 0.0)
    finally:
        keras.config.set_dtype_policy(previous)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`num_heads` must be >= 1. Received: num_heads=0"):
        MultiHeadAttention(num_heads=0, key_dim=4)
    with pytest.raises(ValueError, match=r"`key_dim` must be an integer. Received: key_dim='4' \(str\)"):
        MultiHeadAttention(num_heads=2, key_dim="4")
    with pytest.raises(ValueError, match=r"`value_dim` must be >= 1. Received: value_dim=0"):
        MultiHeadAttention(num_heads=2, key_dim=4, value_dim=0)
    with pytest.raises(ValueError, match=r"`dropout` must be a number in \[0, 1\). Received: dropout=1.0"):
        MultiHeadAttention(num_heads=2, key_dim=4, dropout=1.0)
    with pytest.raises(ValueError, match=r"`output_shape` must be >= 1. Received: output_shape=0"):
        MultiHeadAttention(num_heads=2, key_dim=4, output_shape=(3, 0))
    with pytest.raises(ValueError, match=r"`output_shape` must be None, an integer or a tuple of integers"):
        MultiHeadAttention(num_heads=2, key_dim=4, output_shape=())
    with pytest.raises(TypeError, match=r"`use_bias` must be True or False. Received: use_bias='yes'"):
        MultiHeadAttention(num_heads=2, key_dim=4, use_bias="yes")


def test_rejects_mismatched_inputs_and_masks():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    with pytest.raises(ValueError, match=r"expects `query` of rank 3 .*Received: query.shape=\(None, 4\)"):
        layer(keras.Input((4,)), keras.Input((5, 4)))
    with pytest.raises(
        ValueError, match=r"same number of steps. Received: key.shape=\(None, 3, 4\), value.shape=\(None, 5, 4\)"
    ):
        layer(keras.Input((2, 4)), keras.Input((5, 4)), keras.Input((3, 4)))
    with pytest.raises(ValueError, match=r"needs the number of features .*Received: value.shape=\(None, 5, None\)"):
        MultiHeadAttention(num_heads=2, key_dim=4).build((None, 2, 4), (None, 5, None))
    q, v = random_array((1, 3, 4)), random_array((1, 5, 4))
    with pytest.raises(
        ValueError,
        match=r"expects `value_mask` of shape \(batch, steps\) = \(1, 5\).*Received: value_mask.shape=\(1, 4\)",
    ):
        layer(q, v, value_mask=np.ones((1, 4), bool))
    with pytest.raises(
        ValueError,
        match=r"expects `attention_mask` of shape \(batch, Tq, Tv\) = \(1, 3, 5\). Received: attention_mask.shape=\(1, 5, 3\)",
    ):
        layer(q, v, attention_mask=np.ones((1, 5, 3), bool))


def test_projections_start_from_different_draws():
    # One unseeded Keras 3 initializer reused for same-shaped kernels would give them equal values.
    layer = MultiHeadAttention(num_heads=2, key_dim=3, bias_initializer="random_normal")
    layer.build((None, 4, 6), (None, 4, 6))
    kernels = [to_numpy(w) for w in (layer.query_kernel, layer.key_kernel, layer.value_kernel)]
    biases = [to_numpy(w) for w in (layer.query_bias, layer.key_bias, layer.value_bias)]
    for group in (kernels, biases):
        for i in range(3):
            for j in range(i + 1, 3):
                assert not np.allclose(group[i], group[j])


# Grouped-query attention, sliding windows and rotary positions.

GQA_HAS_SLIDING_WINDOW = "sliding_window" in inspect.signature(keras.layers.GroupQueryAttention.__init__).parameters


def test_layer_contract_with_grouped_heads_window_and_rotary(tmp_path):
    kwargs = {
        "num_heads": 4,
        "key_dim": 2,
        "num_key_value_heads": 2,
        "sliding_window": 3,
        "rotary": True,
        "rotary_max_wavelength": 500,
    }
    layer = run_layer_test(
        MultiHeadAttention,
        kwargs,
        [(2, 4, 5), (2, 6, 7)],
        [(2, 4, 5), (2, 4, 4, 6)],
        8,
        tmp_path,
        call_kwargs={"return_attention_scores": True},
        unpack_inputs=True,
    )
    assert [tuple(w.shape) for w in layer.weights] == [
        (5, 4, 2),
        (4, 2),
        (7, 2, 2),
        (2, 2),
        (7, 2, 2),
        (2, 2),
        (4, 2, 5),
        (5,),
    ]
    config = layer.get_config()
    assert {key: config[key] for key in kwargs} == kwargs
    defaults = MultiHeadAttention(2, 3).get_config()
    assert (defaults["num_key_value_heads"], defaults["sliding_window"], defaults["rotary"]) == (2, None, False)


def _keras_gqa_pair(num_heads, num_key_value_heads, sliding_window, q, v):
    """Our layer and `keras.layers.GroupQueryAttention`, built, with Keras's weights copied into ours."""
    window = {} if sliding_window is None else {"sliding_window": sliding_window}
    ours = MultiHeadAttention(
        num_heads, key_dim=4, num_key_value_heads=num_key_value_heads, bias_initializer="random_normal", **window
    )
    theirs = keras.layers.GroupQueryAttention(
        head_dim=4,
        num_query_heads=num_heads,
        num_key_value_heads=num_key_value_heads,
        bias_initializer="random_normal",
        **window,
    )
    ours(q, v)
    theirs(q, v)
    # Same order (query, key, value, output; kernel then bias) and shapes, so the list copies as it is.
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    return ours, theirs


@pytest.mark.parametrize(("num_heads", "num_key_value_heads"), [(4, 2), (4, 1), (6, 3), (3, 3)])
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("sliding_window", [None, 2], ids=["no_window", "window_2"])
def test_equals_keras_group_query_attention(num_heads, num_key_value_heads, causal, sliding_window):
    if sliding_window is not None and not GQA_HAS_SLIDING_WINDOW:
        pytest.skip("this Keras's GroupQueryAttention has no sliding_window (added in Keras 3.15)")
    q, v = random_array((2, 5, 6)), random_array((2, 7, 6), 1)  # Keras's layer needs equal query and value features
    value_mask = np.array([[1, 1, 1, 1, 0, 0, 1], [0, 1, 1, 1, 1, 1, 1]], bool)
    ours, theirs = _keras_gqa_pair(num_heads, num_key_value_heads, sliding_window, q, v)
    kwargs = {"value_mask": value_mask, "use_causal_mask": causal}
    out, scores = (to_numpy(t) for t in ours(q, v, return_attention_scores=True, **kwargs))
    keras_out, keras_scores = (to_numpy(t) for t in theirs(q, v, return_attention_scores=True, **kwargs))
    np.testing.assert_allclose(scores, keras_scores, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, keras_out, rtol=1e-5, atol=1e-5)
    assert scores.shape == (2, num_heads, 5, 7)
    # Without scores Keras calls ops.dot_product_attention (its fused causal kernel when causal is the only
    # mask); a query that sees no key is averaged there, so compare the others.
    i, j = np.arange(5)[:, None], np.arange(7)[None, :]
    allowed = np.broadcast_to(value_mask[:, None, :], (2, 5, 7))  # (batch, Tq, Tv)
    allowed = allowed & ((j <= i) if causal else True) & ((np.abs(i - j) < sliding_window) if sliding_window else True)
    sees_something = allowed.any(-1)
    assert np.all(scores[np.broadcast_to(~allowed[:, None], scores.shape)] == 0.0)
    np.testing.assert_allclose(
        to_numpy(ours(q, v, **kwargs))[sees_something],
        to_numpy(theirs(q, v, **kwargs))[sees_something],
        rtol=1e-5,
        atol=1e-5,
    )
    if causal and sliding_window is None:  # causal only: Keras's native causal kernel, nothing masked out
        np.testing.assert_allclose(
            to_numpy(ours(q, v, use_causal_mask=True)),
            to_numpy(theirs(q, v, use_causal_mask=True)),
            rtol=1e-5,
            atol=1e-5,
        )


def test_grouped_heads_are_plain_heads_with_key_and_value_heads_repeated():
    q, v = random_array((2, 4, 6)), random_array((2, 5, 6), 1)
    grouped = MultiHeadAttention(6, 3, num_key_value_heads=2, bias_initializer="random_normal")
    plain = MultiHeadAttention(6, 3, bias_initializer="random_normal")
    grouped(q, v)
    plain(q, v)
    assert tuple(grouped.key_kernel.shape) == (6, 2, 3) and tuple(grouped.value_bias.shape) == (2, 3)
    # Query head h uses key/value head h // 3: repeat each of the 2 kv heads 3 times along the head axis.
    weights = [to_numpy(w) for w in grouped.weights]
    for index in (2, 3, 4, 5):  # key kernel, key bias, value kernel, value bias
        axis = 1 if weights[index].ndim == 3 else 0
        weights[index] = np.repeat(weights[index], 3, axis=axis)
    plain.set_weights(weights)
    for causal in (False, True):
        got = [to_numpy(t) for t in grouped(q, v, use_causal_mask=causal, return_attention_scores=True)]
        want = [to_numpy(t) for t in plain(q, v, use_causal_mask=causal, return_attention_scores=True)]
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_as_many_key_value_heads_as_heads_is_plain_multi_head_attention():
    q, v = random_array((2, 4, 6)), random_array((2, 5, 7), 1)
    explicit, plain = MultiHeadAttention(4, 3, num_key_value_heads=4), MultiHeadAttention(4, 3)
    explicit(q, v)
    plain(q, v)
    explicit.set_weights(plain.get_weights())
    for a, b in zip(
        explicit(q, v, use_causal_mask=True, return_attention_scores=True),
        plain(q, v, use_causal_mask=True, return_attention_scores=True),
    ):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_one_key_value_head_is_multi_query_attention():
    q = random_array((1, 5, 8))
    layer = MultiHeadAttention(4, 2, num_key_value_heads=1, use_bias=False)
    _, weights = layer(q, q, return_attention_scores=True)
    w_q, w_k, w_v, _ = (to_numpy(w) for w in layer.weights)
    assert w_k.shape == (8, 1, 2) and w_v.shape == (8, 1, 2)
    keys = q[0] @ w_k[:, 0]  # (5, 2): one key per step, shared by all four query heads
    for h in range(4):
        scores = (q[0] @ w_q[:, h]) @ keys.T / np.sqrt(2)
        want = np.exp(scores - scores.max(-1, keepdims=True))
        np.testing.assert_allclose(to_numpy(weights)[0, h], want / want.sum(-1, keepdims=True), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("window", [1, 2, 4])
def test_sliding_window_gives_exact_zeros_and_is_anded_with_every_mask(causal, window):
    x = random_array((2, 7, 8))
    value_mask = np.array([[1, 1, 1, 1, 1, 0, 0], [1, 0, 1, 1, 1, 1, 1]], bool)
    attention_mask = np.random.default_rng(3).random((2, 7, 7)) > 0.2
    i, j = np.arange(7)[:, None], np.arange(7)[None, :]
    band = ((i - window < j) & (j <= i)) if causal else (np.abs(i - j) < window)  # (Tq, Tv)
    layer = MultiHeadAttention(2, 4, sliding_window=window)
    out, weights = layer(x, x, value_mask=value_mask, use_causal_mask=causal, return_attention_scores=True)
    weights = to_numpy(weights)
    allowed = np.broadcast_to((band & value_mask[:, None, :])[:, None], weights.shape)
    assert np.all(weights[~allowed] == 0.0)
    assert np.all(weights[allowed] > 0.0)
    if causal and window == 1:  # only itself: each visible query copies its own value
        np.testing.assert_array_equal(weights[allowed], 1.0)
    # The same as giving the band as an attention mask to a layer without a window.
    plain = MultiHeadAttention(2, 4)
    plain(x, x)
    plain.set_weights(layer.get_weights())
    want_out, want_weights = plain(
        x, x, value_mask=value_mask, attention_mask=band, use_causal_mask=causal, return_attention_scores=True
    )
    np.testing.assert_array_equal(weights, to_numpy(want_weights))
    np.testing.assert_array_equal(to_numpy(out), to_numpy(want_out))
    # ANDed with an explicit attention mask and the query's padding too.
    query_mask = np.array([[1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1]], bool)
    _, weights = layer(
        x,
        x,
        query_mask=query_mask,
        value_mask=value_mask,
        attention_mask=attention_mask,
        use_causal_mask=causal,
        return_attention_scores=True,
    )
    allowed = band & value_mask[:, None, :] & attention_mask & query_mask[:, :, None]
    assert np.all(to_numpy(weights)[np.broadcast_to(~allowed[:, None], weights.shape)] == 0.0)


def test_rotary_rotates_each_heads_projected_queries_and_keys():
    q, v = random_array((2, 4, 6)), random_array((2, 5, 6), 1)
    layer = MultiHeadAttention(2, 4, num_key_value_heads=1, rotary=True, rotary_max_wavelength=100)
    _, weights = layer(q, v, return_attention_scores=True)
    w_q, b_q, w_k, b_k = (to_numpy(w) for w in layer.weights[:4])
    queries = rotary_numpy(np.einsum("btf,fnd->btnd", q, w_q) + b_q, range(4), 100)  # (2, 4, 2, 4)
    keys = rotary_numpy(np.einsum("btf,fnd->btnd", v, w_k) + b_k, range(5), 100)  # (2, 5, 1, 4)
    scores = np.einsum("bqnd,bkd->bnqk", queries, keys[:, :, 0]) / np.sqrt(4)
    want = np.exp(scores - scores.max(-1, keepdims=True))
    np.testing.assert_allclose(to_numpy(weights), want / want.sum(-1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_rotary_scores_depend_only_on_relative_positions():
    layer = MultiHeadAttention(2, 4, rotary=True, bias_initializer="random_normal")
    x = random_array((2, 6, 8))
    _, weights = layer(x, x, return_attention_scores=True)
    _, shifted = layer(x, x, query_start_index=5, key_start_index=5, return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(shifted), to_numpy(weights), rtol=1e-5, atol=1e-5)
    # The same content at shifted steps: `content` at steps 0..3, then at steps 3..6 after three filler steps.
    content, filler = random_array((2, 4, 8), 1), random_array((2, 3, 8), 2)
    first, later = np.concatenate([content, filler], 1), np.concatenate([filler, content], 1)
    block = np.zeros((7, 7), bool)
    _, a = layer(
        first,
        first,
        attention_mask=(block | np.pad(np.ones((4, 4), bool), ((0, 3), (0, 3)))),
        return_attention_scores=True,
    )
    _, b = layer(
        later,
        later,
        attention_mask=(block | np.pad(np.ones((4, 4), bool), ((3, 0), (3, 0)))),
        return_attention_scores=True,
    )
    np.testing.assert_allclose(to_numpy(b)[:, :, 3:, 3:], to_numpy(a)[:, :, :4, :4], rtol=1e-5, atol=1e-5)
    # Positions matter: one vector at every step gets uniform weights without rotary, not with it.
    same = np.broadcast_to(x[:, :1], x.shape)
    plain = MultiHeadAttention(2, 4, bias_initializer="random_normal")
    plain(same, same)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(to_numpy(plain(same, same, return_attention_scores=True)[1]), 1 / 6, rtol=1e-5)
    rotated = to_numpy(layer(same, same, return_attention_scores=True)[1])
    assert np.abs(rotated - 1 / 6).max() > 1e-2


def test_decoding_one_step_at_a_time_with_positions_equals_the_full_sequence():
    """A cache's calls: one query step at position t against the keys so far, or only the last `window` of them."""
    window = 3
    layer = MultiHeadAttention(4, 2, num_key_value_heads=2, sliding_window=window, rotary=True)
    x = random_array((2, 7, 6))
    out, weights = (to_numpy(t) for t in layer(x, x, use_causal_mask=True, return_attention_scores=True))
    for t in range(7):
        step_out, step_weights = layer(
            x[:, t : t + 1], x[:, : t + 1], query_start_index=t, use_causal_mask=True, return_attention_scores=True
        )
        np.testing.assert_allclose(to_numpy(step_out)[:, 0], out[:, t], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(to_numpy(step_weights)[:, :, 0], weights[:, :, t, : t + 1], rtol=1e-5, atol=1e-6)
        first = max(0, t - window + 1)  # a bounded cache keeps only the last `window` keys and values
        bounded = layer(
            x[:, t : t + 1],
            x[:, first : t + 1],
            query_start_index=t,
            key_start_index=first,
            use_causal_mask=True,
        )
        np.testing.assert_allclose(to_numpy(bounded)[:, 0], out[:, t], rtol=1e-5, atol=1e-5)
    index = keras.ops.convert_to_tensor(4, "int32")  # a tensor position, as a compiled decoding loop passes
    np.testing.assert_allclose(
        to_numpy(layer(x[:, 4:5], x[:, :5], query_start_index=index, use_causal_mask=True))[:, 0],
        out[:, 4],
        rtol=1e-5,
        atol=1e-5,
    )


def test_grouped_window_rotary_under_mixed_float16(mixed_precision):
    mask = np.ones((2, 6), bool)
    mask[1, 4:] = False
    layer = MultiHeadAttention(4, 8, num_key_value_heads=2, sliding_window=3, rotary=True)
    big = random_array((2, 6, 16)) * 50  # scores far beyond float16's range
    out, weights = layer(big, big, value_mask=mask, use_causal_mask=True, return_attention_scores=True)
    assert out.dtype == "float16" and weights.dtype == "float16" and layer.key_kernel.dtype == "float32"
    weights = to_numpy(keras.ops.cast(weights, "float32"))
    assert np.all(np.isfinite(to_numpy(keras.ops.cast(out, "float32")))) and np.all(np.isfinite(weights))
    assert np.all(weights[1, :, :, 4:] == 0.0)
    assert np.all(weights[np.broadcast_to(~np.tri(6, 6, 0, bool) | np.tri(6, 6, -3, bool), weights.shape)] == 0.0)
    # Close to the same layer in float32.
    x = random_array((2, 6, 16), 1)
    full = MultiHeadAttention(4, 8, num_key_value_heads=2, sliding_window=3, rotary=True, dtype="float32")
    full(x, x)
    full.set_weights(layer.get_weights())
    half_out = to_numpy(keras.ops.cast(layer(x, x, value_mask=mask, use_causal_mask=True), "float32"))
    np.testing.assert_allclose(half_out, to_numpy(full(x, x, value_mask=mask, use_causal_mask=True)), atol=2e-2)


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("num_heads", 2.5),
        ("num_heads", "4"),
        ("key_dim", 2.5),
        ("value_dim", "4"),
        ("num_key_value_heads", 1.5),
        ("num_key_value_heads", "2"),
        ("sliding_window", 2.5),
        ("sliding_window", "3"),
        ("output_shape", "4"),
        ("output_shape", (2, 2.5)),
    ],
)
def test_non_integer_arguments_raise_value_errors_naming_them(argument, value):
    kwargs = {"num_heads": 4, "key_dim": 4, argument: value}
    echoed = value[1] if isinstance(value, tuple) else value
    with pytest.raises(
        ValueError, match=re.escape(f"`{argument}` must be an integer. Received: {argument}={echoed!r}")
    ):
        MultiHeadAttention(**kwargs)


def test_rejects_bad_grouping_window_and_rotary_arguments():
    with pytest.raises(
        ValueError,
        match=r"`num_heads` must be a multiple of `num_key_value_heads`. Received: num_heads=4, num_key_value_heads=3",
    ):
        MultiHeadAttention(4, 2, num_key_value_heads=3)
    with pytest.raises(ValueError, match=r"`num_key_value_heads` must be >= 1. Received: num_key_value_heads=0"):
        MultiHeadAttention(4, 2, num_key_value_heads=0)
    with pytest.raises(ValueError, match=r"`sliding_window` must be >= 1. Received: sliding_window=0"):
        MultiHeadAttention(4, 2, sliding_window=0)
    with pytest.raises(ValueError, match=r"`key_dim` must be even when `rotary=True`.*Received: key_dim=3"):
        MultiHeadAttention(4, 3, rotary=True)
    with pytest.raises(TypeError, match=r"`rotary` must be True or False. Received: rotary='yes'"):
        MultiHeadAttention(4, 2, rotary="yes")
    with pytest.raises(
        ValueError, match=r"`rotary_max_wavelength` must be a number greater than 1. Received: rotary_max_wavelength=1"
    ):
        MultiHeadAttention(4, 2, rotary=True, rotary_max_wavelength=1)
    q = random_array((1, 3, 4))
    with pytest.raises(
        ValueError,
        match=r"`query_start_index` must be an integer or an integer tensor of shape \(\). Received: query_start_index=1.5",
    ):
        MultiHeadAttention(2, 2, rotary=True)(q, q, query_start_index=1.5)


# Issue 25: what Keras's and keras-hub's own tests and malformed-input probes found.


def multi_head_numpy(layer, query, value, allowed, query_start=0, key_start=0):
    """`MultiHeadAttention` (grouped heads and rotary included) in float64 NumPy from its weights.

    `allowed` is boolean `(batch, Tq, Tv)`; each head's attention is `reference.attention`.
    """
    wq, bq, wk, bk, wv, bv, wo, bo = (np.asarray(w, "float64") for w in layer.get_weights())
    q = np.einsum("btf,fnd->btnd", query, wq) + bq  # (batch, Tq, heads, key_dim)
    k = np.einsum("btf,fnd->btnd", value, wk) + bk  # (batch, Tv, kv_heads, key_dim)
    v = np.einsum("btf,fnd->btnd", value, wv) + bv  # (batch, Tv, kv_heads, value_dim)
    if layer.rotary:
        q = rotary_numpy(q, np.arange(q.shape[1]) + query_start, layer.rotary_max_wavelength)
        k = rotary_numpy(k, np.arange(k.shape[1]) + key_start, layer.rotary_max_wavelength)
    group = layer.num_heads // layer.num_key_value_heads
    heads = [
        reference.attention(q[:, :, h], k[:, :, h // group], v[:, :, h // group], "scaled_dot", allowed)
        for h in range(layer.num_heads)
    ]
    output = np.einsum("bqnd,ndo->bqo", np.stack([out for out, _ in heads], axis=2), wo) + bo
    return output, np.stack([weights for _, weights in heads], axis=1)  # (batch, heads, Tq, Tv)


@pytest.mark.parametrize(
    "options",
    [{}, {"num_key_value_heads": 2}, {"num_key_value_heads": 1, "rotary": True, "sliding_window": 3}],
    ids=["plain", "grouped", "multi-query, rotary, window"],
)
def test_float64_layer_equals_float64_numpy(options):
    # The softmax used to run in float32 whatever the dtype: a float64 layer was only float32-accurate.
    rng = np.random.default_rng(25)
    query, value = rng.normal(size=(2, 5, 6)), rng.normal(size=(2, 7, 6))
    value_mask = np.array([[1, 1, 1, 1, 1, 1, 1], [1, 1, 0, 1, 1, 0, 0]], bool)
    layer = MultiHeadAttention(4, 4, dtype="float64", bias_initializer="random_normal", **options)
    out, weights = layer(query, value, value_mask=value_mask, use_causal_mask=True, query_start_index=2,
                         return_attention_scores=True)
    assert out.dtype == "float64" and weights.dtype == "float64"
    positions = np.arange(5)[:, None] + 2 - np.arange(7)[None, :]  # query position - key position
    allowed = value_mask[:, None, :] & (positions >= 0)
    if "sliding_window" in options:
        allowed &= np.abs(positions) < options["sliding_window"]
    want_out, want_weights = multi_head_numpy(layer, query, value, allowed, query_start=2)
    np.testing.assert_allclose(to_numpy(weights), want_weights, rtol=0, atol=1e-12)
    np.testing.assert_allclose(to_numpy(out), want_out, rtol=0, atol=1e-12)


def _poison(x, hidden, value):
    """`x` with the steps where `hidden` is True set to `value` (NaN, inf or finite garbage)."""
    x = x.copy()
    x[hidden] = value
    return x


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_masked_steps_never_reach_the_output_not_even_nan(bad):
    # 0 × NaN is NaN: a NaN at a masked step used to make every output NaN (Keras's layer does the same).
    q, v, k = random_array((2, 4, 6)), random_array((2, 5, 6), 1), random_array((2, 5, 3), 2)
    query_mask = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], bool)
    value_mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    layer = MultiHeadAttention(2, 3, bias_initializer="random_normal")

    def run(q, v, k):
        out, weights = layer(q, v, k, query_mask=query_mask, value_mask=value_mask, key_mask=value_mask,
                             return_attention_scores=True)
        return to_numpy(out), to_numpy(weights)

    out, weights = run(_poison(q, ~query_mask, bad), _poison(v, ~value_mask, bad), _poison(k, ~value_mask, bad))
    garbage_out, garbage_weights = run(
        _poison(q, ~query_mask, 1e4), _poison(v, ~value_mask, -1e4), _poison(k, ~value_mask, 1e4)
    )
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(weights))
    np.testing.assert_array_equal(out, garbage_out)
    np.testing.assert_array_equal(weights, garbage_weights)
    for b in range(2):  # the visible part alone gives the same outputs at the visible query steps
        visible = to_numpy(layer(q[b : b + 1, query_mask[b]], v[b : b + 1, value_mask[b]], k[b : b + 1, value_mask[b]]))
        np.testing.assert_allclose(out[b, query_mask[b]], visible[0], rtol=1e-5, atol=1e-6)


def test_keys_hidden_by_the_attention_or_causal_mask_never_reach_the_output():
    q, v = random_array((2, 3, 6)), random_array((2, 5, 6), 1)
    # Causal with Tq = 3 < Tv = 5: no query sees keys 3 and 4.
    layer = MultiHeadAttention(2, 4, num_key_value_heads=1, rotary=True, bias_initializer="random_normal")
    out = to_numpy(layer(q, _poison(v, (slice(None), slice(3, None)), np.nan), use_causal_mask=True))
    np.testing.assert_allclose(out, to_numpy(layer(q, v[:, :3], use_causal_mask=True)), rtol=1e-5, atol=1e-6)
    # An attention mask that hides key 1 from every query, and query 2 from every key.
    layer = MultiHeadAttention(2, 3, bias_initializer="random_normal")
    attention_mask = np.ones((2, 3, 5), bool)
    attention_mask[:, :, 1] = False
    attention_mask[:, 2] = False
    poisoned_q, poisoned_v = _poison(q, (slice(None), 2), np.nan), _poison(v, (slice(None), 1), np.inf)
    out, weights = (
        to_numpy(t) for t in layer(poisoned_q, poisoned_v, attention_mask=attention_mask, return_attention_scores=True)
    )
    assert np.all(np.isfinite(out)) and np.all(weights[:, :, 2] == 0.0)
    np.testing.assert_allclose(out[:, 2], np.broadcast_to(to_numpy(layer.output_bias), (2, 6)), rtol=1e-6)
    keep = [0, 2, 3, 4]
    want = to_numpy(layer(q[:, :2], v[:, keep], attention_mask=attention_mask[:, :2, keep]))
    np.testing.assert_allclose(out[:, :2], want, rtol=1e-5, atol=1e-6)


def test_gradients_stay_finite_with_nan_at_masked_steps():
    import tensorflow as tf  # the unit tests run on TensorFlow; tests/test_backends.py covers JAX

    q, v = random_array((2, 4, 6)), random_array((2, 5, 6), 1)
    query_mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    value_mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    layer = MultiHeadAttention(2, 3)

    def gradients(q, v):
        with tf.GradientTape() as tape:
            out = layer(q, v, query_mask=query_mask, value_mask=value_mask)
            loss = tf.reduce_sum(tf.where(query_mask[:, :, None], out, 0.0) ** 2)
        return [g.numpy() for g in tape.gradient(loss, layer.trainable_weights)]

    poisoned = gradients(_poison(q, ~query_mask, np.nan), _poison(v, ~value_mask, np.nan))
    for got, want in zip(poisoned, gradients(_poison(q, ~query_mask, 3.0), _poison(v, ~value_mask, -3.0))):
        assert np.all(np.isfinite(got))
        np.testing.assert_array_equal(got, want)


def test_rejects_inputs_of_different_batch_sizes_and_shapes_that_are_not_shapes():
    layer = MultiHeadAttention(2, 2)
    q, v = random_array((2, 3, 4)), random_array((3, 5, 4))
    with pytest.raises(ValueError, match=r"same batch size.*Received: query.shape=\(2, 3, 4\), value.shape=\(3, 5, 4\)"):
        layer(q, v)
    with pytest.raises(ValueError, match=r"same batch size.*Received: query.shape=\(2, 3, 4\), key.shape=\(3, 5, 4\)"):
        layer(q, random_array((2, 5, 4)), v)
    for argument, shapes in (("key_shape", ((2, 3, 4), (2, 5, 4), 2)), ("query_shape", (4, (2, 5, 4), None))):
        with pytest.raises(ValueError, match=rf"`{argument}` must be a shape \(a tuple or list\). Received: {argument}="):
            layer.compute_output_shape(*shapes)
