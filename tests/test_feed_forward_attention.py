import keras
import numpy as np
import pytest

from attention_helpers.layers import FeedForwardAttention
from attention_helpers.reference import masked_softmax, softmax
from tests.layer_testing import numpy_weights, random_array, run_layer_test


def reference_pooling(h, w, b, mask=None, activation=np.tanh):
    """NumPy Raffel & Ellis: e = tanh(h w + b), alpha = softmax(e), c = sum alpha h."""
    scores = activation(h @ w + b)
    alpha = softmax(scores) if mask is None else masked_softmax(scores, mask)
    return np.einsum("bs,bsf->bf", alpha, np.where(mask[..., None], h, 0.0) if mask is not None else h), alpha


def test_layer_contract(tmp_path):
    run_layer_test(FeedForwardAttention, {}, (3, 6, 4), (3, 4), 2, tmp_path)
    run_layer_test(
        FeedForwardAttention,
        {"per_step_bias": True},
        (2, 5, 3),
        [(2, 3), (2, 5)],
        2,
        tmp_path,
        call_kwargs={"return_attention_scores": True},
    )
    run_layer_test(
        FeedForwardAttention, {"use_bias": False, "kernel_regularizer": "l2"}, (2, 5, 3), (2, 3), 1, tmp_path
    )
    run_layer_test(FeedForwardAttention, {"score_activation": None}, (2, 5, 3), (2, 3), 2, tmp_path)


def test_linear_score_matches_numpy_and_escapes_the_tanh_bound():
    h = random_array((4, 7, 3)) * 5
    layer = FeedForwardAttention(score_activation=None, bias_initializer="random_normal")
    context, alpha = layer(h, return_attention_scores=True)
    w, b = numpy_weights(layer)
    want_context, want_alpha = reference_pooling(h, w, b, activation=lambda scores: scores)
    np.testing.assert_allclose(alpha, want_alpha, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(context, want_context, rtol=1e-4, atol=1e-5)
    alpha = keras.ops.convert_to_numpy(alpha)
    assert (alpha.max(axis=1) / alpha.min(axis=1)).max() > np.exp(2.0)  # a linear score is not bounded
    _, bounded = FeedForwardAttention()(h, return_attention_scores=True)
    bounded = keras.ops.convert_to_numpy(bounded)
    assert (bounded.max(axis=1) / bounded.min(axis=1)).max() <= np.exp(2.0) * (1 + 1e-5)  # tanh: at most exp(2)


@pytest.mark.parametrize("per_step_bias", [False, True])
def test_matches_numpy_reference(per_step_bias):
    h = random_array((4, 7, 3))
    layer = FeedForwardAttention(per_step_bias=per_step_bias, bias_initializer="random_normal")
    context, alpha = layer(h, return_attention_scores=True)
    w, b = numpy_weights(layer)
    want_context, want_alpha = reference_pooling(h, w, b)
    np.testing.assert_allclose(alpha, want_alpha, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(context, want_context, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras.ops.sum(alpha, axis=1), 1.0, rtol=1e-5)


def test_variable_length_sequences_work():
    inputs = keras.Input(shape=(None, 3))
    model = keras.Model(inputs, FeedForwardAttention()(inputs))
    assert model(random_array((2, 5, 3))).shape == (2, 3)
    assert model(random_array((2, 11, 3))).shape == (2, 3)


def test_masked_steps_get_exactly_zero_weight_and_cannot_change_the_output():
    h = random_array((3, 6, 2))
    mask = np.ones((3, 6), bool)
    mask[0, 4:] = False
    mask[1, 0] = False
    mask[2] = False  # fully masked
    layer = FeedForwardAttention(bias_initializer="random_normal")
    context, alpha = (keras.ops.convert_to_numpy(t) for t in layer(h, mask=mask, return_attention_scores=True))
    assert np.all(alpha[~mask] == 0.0)
    np.testing.assert_allclose(alpha[:2].sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(context[2], 0.0)
    assert np.all(np.isfinite(context))
    w, b = numpy_weights(layer)
    np.testing.assert_allclose(context, reference_pooling(h, w, b, mask)[0], rtol=1e-5, atol=1e-6)
    changed = h.copy()
    changed[~mask] = np.inf  # even inf in the padding cannot leak through
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(changed, mask=mask)), context)


def test_keras_masking_layer_and_mask_is_consumed():
    h = random_array((2, 5, 3))
    h[0, 3:] = 0.0
    inputs = keras.Input(shape=(None, 3))
    masked = keras.layers.Masking(0.0)(inputs)
    layer = FeedForwardAttention()
    context, alpha = layer(masked, return_attention_scores=True)
    assert layer.compute_mask(h, np.ones((2, 5), bool)) is None  # one vector per sequence: no mask to pass on
    model = keras.Model(inputs, [context, alpha])
    _, got = model(h)
    assert np.all(keras.ops.convert_to_numpy(got)[0, 3:] == 0.0)


def test_sequential_model_after_an_lstm():
    model = keras.Sequential(
        [
            keras.Input(shape=(None, 2)),
            keras.layers.LSTM(4, return_sequences=True),
            FeedForwardAttention(),
            keras.layers.Dense(1),
        ]
    )
    assert model(random_array((3, 9, 2))).shape == (3, 1)


@pytest.mark.parametrize("policy_dtype", ["float16", "bfloat16"])
def test_mixed_precision_is_finite(policy_dtype):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(f"mixed_{policy_dtype}")
    try:
        h = random_array((2, 50, 4)) * 1000  # large activations saturate tanh but must not overflow
        mask = np.ones((2, 50), bool)
        mask[1, 10:] = False
        layer = FeedForwardAttention()
        context, alpha = layer(h, mask=mask, return_attention_scores=True)
        assert context.dtype == policy_dtype and layer.kernel.dtype == "float32"
        alpha = keras.ops.convert_to_numpy(keras.ops.cast(alpha, "float32"))
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(keras.ops.cast(context, "float32"))))
        assert np.all(alpha[1, 10:] == 0.0)
        np.testing.assert_allclose(alpha.sum(axis=1), 1.0, atol=2e-2)
    finally:
        keras.config.set_dtype_policy(previous)


def test_call_prints_nothing(capsys):
    FeedForwardAttention()(random_array((2, 4, 3)))
    assert capsys.readouterr().out == ""


def test_rejects_bad_inputs_and_arguments():
    with pytest.raises(
        ValueError, match=r"expects `inputs` of rank 3 \(batch, steps, features\). Received: inputs.shape=\(None, 4\)"
    ):
        FeedForwardAttention()(keras.Input(shape=(4,)))
    with pytest.raises(
        ValueError,
        match=r"`per_step_bias=True` needs a fixed number of time steps.*Received: inputs.shape=\(None, None, 3\)",
    ):
        FeedForwardAttention(per_step_bias=True)(keras.Input(shape=(None, 3)))
    with pytest.raises(
        ValueError, match=r"expects `mask` of shape \(batch, steps\) = \(2, 4\).*Received: mask.shape=\(2, 3\)"
    ):
        FeedForwardAttention()(random_array((2, 4, 3)), mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match=r"`per_step_bias=True` needs `use_bias=True`"):
        FeedForwardAttention(use_bias=False, per_step_bias=True)
    with pytest.raises(TypeError, match=r"`per_step_bias` must be True or False. Received: per_step_bias=1"):
        FeedForwardAttention(per_step_bias=1)
