import keras
import numpy as np
import pytest

from attention_helpers.layers import DenseAttention
from attention_helpers.reference import softmax
from tests.layer_testing import run_layer_test


def test_layer_contract(tmp_path):
    run_layer_test(DenseAttention, {"use_bias": True}, (4, 6), (4, 6), 2, tmp_path)
    run_layer_test(DenseAttention, {"use_bias": False}, (3, 5), (3, 5), 1, tmp_path)


def test_layer_contract_with_scores(tmp_path):
    run_layer_test(
        DenseAttention,
        {"kernel_regularizer": "l2"},
        (2, 7),
        [(2, 7), (2, 7)],
        2,
        tmp_path,
        call_kwargs={"return_attention_scores": True},
    )


def test_matches_numpy_reference():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 8)).astype("float32")
    layer = DenseAttention(bias_initializer="random_normal")
    outputs, attention = layer(x, return_attention_scores=True)
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in layer.weights)
    expected_attention = softmax(x @ kernel + bias)
    np.testing.assert_allclose(attention, expected_attention, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs, x * expected_attention, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras.ops.sum(attention, axis=-1), 1.0, rtol=1e-6)


def test_mixed_precision(mixed_precision):
    x = np.random.default_rng(1).normal(size=(4, 16)).astype("float32") * 50
    layer = DenseAttention()
    outputs, attention = layer(x, return_attention_scores=True)
    assert outputs.dtype == "float16" and attention.dtype == "float16"
    assert layer.kernel.dtype == "float32"
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(outputs)))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(attention).astype("float32").sum(-1), 1.0, atol=1e-2)


def test_learns_the_dense_task():
    from attention_helpers.models import train_dense_task

    result = train_dense_task(target_index=4, n_train=2000, n_test=300, epochs=4, seed=0)
    assert result["accuracy"] > 0.95
    assert int(np.argmax(result["attention"])) == 4


def test_rejects_wrong_rank():
    with pytest.raises(
        ValueError, match=r"expects `inputs` of rank 2 \(batch, features\). Received: inputs.shape=\(None, 3, 4\)"
    ):
        DenseAttention()(keras.Input(shape=(3, 4)))


def test_rejects_unknown_feature_count():
    with pytest.raises(ValueError, match=r"number of features .* Received: inputs.shape=\(None, None\)"):
        DenseAttention().build((None, None))


def test_rejects_bad_constructor_arguments():
    with pytest.raises(TypeError, match=r"`use_bias` must be True or False. Received: use_bias='yes'"):
        DenseAttention(use_bias="yes")


def test_float64_layer_equals_float64_numpy():
    # Issue 25: the softmax used to run in float32 whatever the dtype.
    x = np.random.default_rng(25).normal(size=(5, 8)) * 3
    layer = DenseAttention(bias_initializer="random_normal", dtype="float64")
    outputs, attention = layer(x, return_attention_scores=True)
    assert outputs.dtype == "float64"
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in layer.weights)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(attention), softmax(x @ kernel + bias), rtol=0, atol=1e-13)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(outputs), x * softmax(x @ kernel + bias), rtol=0, atol=1e-12)
