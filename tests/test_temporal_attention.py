import keras
import numpy as np
import pytest

from attention_helpers.layers import TemporalAttention
from attention_helpers.reference import masked_softmax, softmax
from tests.layer_testing import numpy_weights, random_array, run_layer_test


def reference_block(x, kernel, bias, shared, mask=None):
    """NumPy version of the layer: per feature, softmax over steps of (x[:, :, f] W + b_f)."""
    keep = np.ones(x.shape[:2], bool) if mask is None else mask.astype(bool)
    per_feature = np.transpose(np.where(keep[:, :, None], x, 0.0), (0, 2, 1))  # (batch, features, steps)
    logits = per_feature @ kernel + bias
    weights = softmax(logits) if mask is None else masked_softmax(logits, keep[:, None, :])
    if shared:
        weights = np.broadcast_to(weights.mean(axis=1, keepdims=True), weights.shape)
    weights = np.transpose(weights, (0, 2, 1))
    return x * weights, weights


@pytest.mark.parametrize("shared", [False, True])
def test_layer_contract(tmp_path, shared):
    run_layer_test(TemporalAttention, {"shared": shared}, (3, 6, 4), (3, 6, 4), 2, tmp_path)
    run_layer_test(
        TemporalAttention,
        {"shared": shared, "use_bias": False},
        (2, 5, 3),
        [(2, 5, 3), (2, 5, 3)],
        1,
        tmp_path,
        call_kwargs={"return_attention_scores": True},
    )


@pytest.mark.parametrize("shared", [False, True])
def test_matches_numpy_reference_and_sums_to_one(shared):
    x = random_array((4, 7, 3))
    layer = TemporalAttention(shared=shared, bias_initializer="random_normal")
    outputs, weights = layer(x, return_attention_scores=True)
    kernel, bias = numpy_weights(layer)
    assert bias.shape == (3, 7)  # one bias over the steps per feature
    want_out, want_weights = reference_block(x, kernel, bias, shared)
    np.testing.assert_allclose(weights, want_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs, want_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras.ops.sum(weights, axis=1), 1.0, rtol=1e-5)


def test_shared_gives_identical_weights_across_features_and_per_feature_does_not():
    x = random_array((2, 6, 5))
    _, shared = TemporalAttention(shared=True, bias_initializer="random_normal")(x, return_attention_scores=True)
    shared = keras.ops.convert_to_numpy(shared)
    np.testing.assert_allclose(shared, np.repeat(shared[:, :, :1], 5, axis=2), rtol=1e-6)
    _, own = TemporalAttention(shared=False, bias_initializer="random_normal")(x, return_attention_scores=True)
    own = keras.ops.convert_to_numpy(own)
    assert not np.allclose(own[:, :, 0], own[:, :, 1])


def test_masked_steps_get_exactly_zero_weight_and_cannot_change_the_output():
    x = random_array((3, 8, 2))
    mask = np.ones((3, 8), bool)
    mask[0, 5:] = False
    mask[1, :2] = False
    mask[2, :] = False  # fully masked sequence
    layer = TemporalAttention(bias_initializer="random_normal")
    outputs, weights = layer(x, mask=mask, return_attention_scores=True)
    weights, outputs = keras.ops.convert_to_numpy(weights), keras.ops.convert_to_numpy(outputs)
    assert np.all(weights[~mask] == 0.0)
    np.testing.assert_allclose(weights[:2].sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(weights[2] == 0.0) and np.all(np.isfinite(outputs))
    kernel, bias = numpy_weights(layer)
    np.testing.assert_allclose(weights, reference_block(x, kernel, bias, False, mask)[1], rtol=1e-5, atol=1e-7)
    changed = x.copy()
    changed[~mask] = 1e3
    changed_outputs = keras.ops.convert_to_numpy(layer(changed, mask=mask))
    np.testing.assert_array_equal(changed_outputs, outputs)


def test_keras_masking_reaches_the_layer_and_is_passed_on_to_an_lstm():
    x = random_array((2, 6, 3))
    x[0, 4:] = 0.0  # padding
    inputs = keras.Input(shape=(6, 3))
    masked = keras.layers.Masking(mask_value=0.0)(inputs)
    weighted, weights = TemporalAttention(name="attention")(masked, return_attention_scores=True)
    lstm = keras.layers.LSTM(4, name="lstm")
    model = keras.Model(inputs, [lstm(weighted), weighted, weights])
    lstm_out, weighted_values, got = (keras.ops.convert_to_numpy(t) for t in model(x))
    assert np.all(got[0, 4:] == 0.0)
    np.testing.assert_allclose(got[0, :4].sum(axis=0), 1.0, rtol=1e-5)
    # The LSTM got the mask: for the padded sample it equals the same LSTM run on the 4 real steps.
    unpadded = keras.ops.convert_to_numpy(lstm(weighted_values[:1, :4]))
    np.testing.assert_allclose(lstm_out[:1], unpadded, rtol=1e-5, atol=1e-6)
    unmasked = keras.ops.convert_to_numpy(lstm(weighted_values[:1]))
    assert not np.allclose(lstm_out[:1], unmasked, atol=1e-6)


@pytest.mark.parametrize("placement", ["before", "after"])
def test_works_before_and_after_an_lstm_in_sequential_models(placement):
    layers = [keras.Input(shape=(10, 3))]
    if placement == "before":
        layers += [TemporalAttention(), keras.layers.LSTM(5)]
    else:
        layers += [keras.layers.LSTM(5, return_sequences=True), TemporalAttention(shared=True), keras.layers.Flatten()]
    model = keras.Sequential([*layers, keras.layers.Dense(1)])
    assert model(random_array((2, 10, 3))).shape == (2, 1)


def test_mixed_precision(mixed_precision):
    layer = TemporalAttention()
    outputs, weights = layer(random_array((2, 12, 3)) * 100, return_attention_scores=True)
    assert outputs.dtype == "float16" and layer.kernel.dtype == "float32"
    weights = keras.ops.convert_to_numpy(weights).astype("float32")
    assert np.all(np.isfinite(weights)) and np.all(np.isfinite(keras.ops.convert_to_numpy(outputs)))
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-2)


def test_attention_before_the_lstm_finds_the_planted_step():
    from attention_helpers.models import train_placement

    results = train_placement(target_step=6, steps=12, n_train=1500, n_test=300, epochs=5, seed=0)
    assert results["before"]["accuracy"] > 0.9
    assert int(np.argmax(results["before"]["attention"])) == 6


def test_rejects_wrong_rank():
    with pytest.raises(
        ValueError, match=r"expects `inputs` of rank 3 \(batch, steps, features\). Received: inputs.shape=\(None, 4\)"
    ):
        TemporalAttention()(keras.Input(shape=(4,)))


def test_rejects_unknown_steps():
    with pytest.raises(
        ValueError, match=r"needs a fixed number of time steps.*Received: inputs.shape=\(None, None, 3\)"
    ):
        TemporalAttention()(keras.Input(shape=(None, 3)))


def test_rejects_mask_of_the_wrong_shape():
    with pytest.raises(
        ValueError,
        match=r"expects `mask` of shape \(batch, steps\) = \(2, 5\), matching inputs.shape=\(2, 5, 3\). Received: mask.shape=\(2, 4\)",
    ):
        TemporalAttention()(random_array((2, 5, 3)), mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match=r"Received: mask.shape=\(2, 5, 3\)"):
        TemporalAttention()(random_array((2, 5, 3)), mask=np.ones((2, 5, 3), bool))


def test_rejects_bad_constructor_arguments():
    with pytest.raises(TypeError, match=r"`shared` must be True or False. Received: shared='yes'"):
        TemporalAttention(shared="yes")


@pytest.mark.parametrize("shared", [False, True])
def test_nan_at_masked_steps_gives_what_finite_garbage_gives(shared):
    # Issue 25: the output at a masked step was inputs × 0, which is NaN for a NaN input.
    x = random_array((2, 6, 3))
    mask = np.array([[1, 1, 1, 1, 0, 0], [0, 1, 1, 0, 1, 1]], bool)
    layer = TemporalAttention(shared=shared, bias_initializer="random_normal")

    def run(padding):
        outputs, weights = layer(np.where(mask[..., None], x, padding).astype("float32"), mask=mask,
                                 return_attention_scores=True)
        return keras.ops.convert_to_numpy(outputs), keras.ops.convert_to_numpy(weights)

    (outputs, weights), (garbage, garbage_weights) = run(np.nan), run(-1e3)
    assert np.all(np.isfinite(outputs)) and np.all(outputs[~mask] == 0.0)
    np.testing.assert_array_equal(outputs, garbage)
    np.testing.assert_array_equal(weights, garbage_weights)
