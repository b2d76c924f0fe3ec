import keras
import numpy as np
import pytest

from attention_helpers import vision
from attention_helpers.layers import PatchEmbedding
from tests.layer_testing import random_array, run_layer_test, to_numpy


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "output_shape", "weights"),
    [
        ({"patch_size": 4, "d_model": 8}, (2, 16, 16, 1), (2, 17, 8), 3),
        ({"patch_size": 2, "d_model": 5, "class_token": False}, (2, 6, 4, 3), (2, 6, 5), 2),
    ],
)
def test_layer_contract(tmp_path, kwargs, input_shape, output_shape, weights):
    run_layer_test(PatchEmbedding, kwargs, input_shape, output_shape, weights, tmp_path)


def numpy_embedding(images, layer):
    """Patches cut by the NumPy reference, times the kernel, plus the bias; the CLS vector first."""
    kernel, bias = to_numpy(layer.kernel), to_numpy(layer.bias)
    tokens = vision.to_patches(images, layer.patch_size) @ kernel + bias
    if not layer.class_token:
        return tokens
    token = np.broadcast_to(to_numpy(layer.token), (len(images), 1, layer.d_model))
    return np.concatenate([token, tokens], axis=1)


@pytest.mark.parametrize(("shape", "patch_size"), [((3, 16, 16, 1), 4), ((2, 6, 9, 2), 3), ((2, 4, 4, 1), 1)])
def test_equals_a_dense_layer_on_numpy_patches(shape, patch_size):
    images = random_array(shape)
    layer = PatchEmbedding(patch_size, 6, class_token_initializer="random_normal", bias_initializer="random_normal")
    np.testing.assert_allclose(to_numpy(layer(images)), numpy_embedding(images, layer), rtol=1e-5, atol=1e-5)


def test_equals_a_strided_convolution_with_the_same_kernel():
    images = random_array((2, 16, 12, 3))
    layer = PatchEmbedding(4, 7, class_token=False, bias_initializer="random_normal")
    tokens = to_numpy(layer(images))
    conv = keras.layers.Conv2D(7, 4, strides=4)
    conv.build(images.shape)
    conv.set_weights([to_numpy(layer.kernel).reshape(4, 4, 3, 7), to_numpy(layer.bias)])
    np.testing.assert_allclose(to_numpy(conv(images)).reshape(2, -1, 7), tokens, rtol=1e-5, atol=1e-5)


def test_the_class_token_is_the_same_learned_vector_for_every_image():
    layer = PatchEmbedding(2, 4, class_token_initializer="random_normal")
    out = to_numpy(layer(random_array((3, 4, 4, 1))))
    for row in out[:, 0]:
        np.testing.assert_array_equal(row, to_numpy(layer.token))
    assert len(layer.trainable_weights) == 3


def test_float64_is_exact_to_double_precision():
    images = np.random.default_rng(0).normal(size=(2, 8, 8, 1))
    layer = PatchEmbedding(4, 3, dtype="float64", class_token_initializer="random_normal")
    out = layer(images)
    assert keras.backend.standardize_dtype(out.dtype) == "float64"
    np.testing.assert_allclose(to_numpy(out), numpy_embedding(images, layer), rtol=1e-12, atol=1e-12)


def test_mixed_precision_computes_in_float16(mixed_precision):
    layer = PatchEmbedding(4, 8)
    out = layer(random_array((2, 16, 16, 1)))
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert layer.kernel.dtype == "float32"  # the weights stay float32
    assert np.all(np.isfinite(to_numpy(out)))


@pytest.mark.parametrize(("shape", "text"), [((None, 10, 16, 1), r"\(None, 10, 16, 1\) \(height 10, width 16\)"),
                                              ((None, 16, 6, 1), r"\(None, 16, 6, 1\) \(height 16, width 6\)")])
def test_a_patch_that_does_not_divide_the_image_is_refused_by_name(shape, text):
    with pytest.raises(ValueError, match=r"`patch_size` must divide the image's height and width. Received: "
                                         r"patch_size=4 for inputs.shape=" + text):
        PatchEmbedding(4, 8)(keras.Input(shape=shape[1:]))


def test_rejects_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match=r"`patch_size` must be >= 1. Received: patch_size=0"):
        PatchEmbedding(0, 8)
    with pytest.raises(TypeError, match=r"`d_model` must be an integer. Received: d_model=8.0"):
        PatchEmbedding(4, 8.0)
    with pytest.raises(TypeError, match=r"`class_token` must be True or False. Received: class_token='yes'"):
        PatchEmbedding(4, 8, class_token="yes")
    with pytest.raises(ValueError, match=r"rank 4 \(batch, height, width, channels\). Received: inputs.shape=\(None, 16, 16\)"):
        PatchEmbedding(4, 8)(keras.Input(shape=(16, 16)))
    with pytest.raises(ValueError, match=r"needs the height \(axis 1\)"):
        PatchEmbedding(4, 8)(keras.Input(shape=(None, 16, 1)))
