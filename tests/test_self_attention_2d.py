import keras
import numpy as np
import pytest

from attention_helpers.layers import SelfAttention2D
from attention_helpers.layers.self_attention_2d import default_key_channels
from attention_helpers.reference import softmax
from tests.layer_testing import random_array, run_layer_test, to_numpy


def _conv1x1(conv, x):
    kernel = to_numpy(conv.kernel)[0, 0]  # (in, out)
    out = x @ kernel
    return out + to_numpy(conv.bias) if conv.bias is not None else out


def _maxpool2x2(x):
    batch, height, width, channels = x.shape
    padded = np.full((batch, height + height % 2, width + width % 2, channels), -np.inf, x.dtype)
    padded[:, :height, :width] = x
    return padded.reshape(batch, padded.shape[1] // 2, 2, padded.shape[2] // 2, 2, channels).max(axis=(2, 4))


def reference(layer, x):
    """SAGAN in NumPy with the layer's weights: flatten H*W, softmax over all positions, y = gamma*o + x."""
    batch, height, width, _ = x.shape
    heads = layer.num_heads
    queries, keys, values = _conv1x1(layer.query, x), _conv1x1(layer.key, x), _conv1x1(layer.value, x)
    if layer.pool_keys_values:
        keys, values = _maxpool2x2(keys), _maxpool2x2(values)
    q = queries.reshape(batch, height * width, heads, -1)
    k = keys.reshape(batch, -1, heads, q.shape[-1])
    v = values.reshape(batch, k.shape[1], heads, -1)
    beta = softmax(np.einsum("bqhd,bkhd->bhqk", q, k))
    o = np.einsum("bhqk,bkhd->bqhd", beta, v).reshape(batch, height, width, -1)
    if layer.output_projection:
        o = _conv1x1(layer.projection, o)  # the paper's v: 1x1 convolution of the concatenated heads
    residual = x if layer.residual is None else _conv1x1(layer.residual, x)
    return float(to_numpy(layer.gamma)) * o + residual, beta


def test_layer_contract_same_channels(tmp_path):
    run_layer_test(SelfAttention2D, {}, (2, 6, 5, 16), (2, 6, 5, 16), 7, tmp_path)
    run_layer_test(
        SelfAttention2D,
        {"num_heads": 2, "key_channels": 4},
        (2, 4, 4, 8),
        [(2, 4, 4, 8), (2, 2, 16, 16)],
        7,
        tmp_path,
        call_kwargs={"return_attention_scores": True},
    )


def test_layer_contract_as_a_first_layer_with_filters(tmp_path):
    # seed 001: filters=8 on a one-channel image gives 8 channels; the residual is a bias-free 1x1 projection
    layer = run_layer_test(SelfAttention2D, {"filters": 8}, (2, 8, 8, 1), (2, 8, 8, 8), 8, tmp_path)
    assert layer.residual is not None and layer.residual.bias is None
    assert SelfAttention2D(filters=8).compute_output_shape((None, 28, 28, 1)) == (None, 28, 28, 8)


def test_layer_contract_with_spectral_normalization_and_pooling(tmp_path):
    layer = run_layer_test(
        SelfAttention2D,
        {"spectral_normalization": True, "pool_keys_values": True, "activation": "relu"},
        (2, 6, 6, 16),
        (2, 6, 6, 16),
        7,
        tmp_path,
    )
    assert isinstance(layer.query, keras.layers.SpectralNormalization)


@pytest.mark.parametrize("scores", [False, True])
def test_gamma_zero_is_the_identity(scores):
    x = random_array((2, 7, 5, 16))
    out = SelfAttention2D()(x, return_attention_scores=scores)
    out = out[0] if scores else out
    np.testing.assert_array_equal(to_numpy(out), x)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"num_heads": 2, "key_channels": 4},
        {"pool_keys_values": True},
        {"filters": 12, "activation": "tanh"},
        {"pool_keys_values": True, "num_heads": 2, "key_channels": 2},
        {"filters": 8, "key_channels": 16},  # values narrower than keys
        {"num_heads": 4},  # default key channels rounded up from 2 to 4
        {"output_projection": True},
        {"output_projection": True, "num_heads": 2, "pool_keys_values": True, "filters": 8},
        {"output_projection": True, "use_bias": False},
    ],
)
def test_matches_numpy_reference(kwargs):
    x = random_array((2, 5, 7, 16), 1)
    layer = SelfAttention2D(gamma_initializer=0.7, **kwargs)
    if kwargs.get("activation"):
        layer.build(x.shape)
        layer.activation = keras.activations.get("linear")  # the reference has no activation
    out, beta = layer(x, return_attention_scores=True)
    want_out, want_beta = reference(layer, x)
    np.testing.assert_allclose(to_numpy(beta), want_beta, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(to_numpy(out), want_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(to_numpy(beta).sum(axis=-1), 1.0, rtol=1e-5)
    # The fused path (no scores requested) computes the same output.
    np.testing.assert_allclose(to_numpy(layer(x)), to_numpy(out), rtol=1e-4, atol=1e-5)


def test_layer_contract_with_output_projection(tmp_path):
    layer = run_layer_test(
        SelfAttention2D,
        {"output_projection": True, "num_heads": 2},
        (2, 4, 5, 16),
        [(2, 4, 5, 16), (2, 2, 20, 20)],
        9,  # f, g, h and v: a kernel and a bias each, and gamma
        tmp_path,
        call_kwargs={"return_attention_scores": True},
    )
    assert layer.get_config()["output_projection"] is True
    assert tuple(layer.projection.kernel.shape) == (1, 1, 16, 16)
    assert SelfAttention2D().get_config()["output_projection"] is False
    sn = run_layer_test(
        SelfAttention2D,
        {"output_projection": True, "spectral_normalization": True, "filters": 8},
        (2, 4, 4, 3),
        (2, 4, 4, 8),
        10,  # f, g, h, v (kernel and bias each), the residual projection's kernel, gamma
        tmp_path,
    )
    assert isinstance(sn.projection, keras.layers.SpectralNormalization)
    plain = SelfAttention2D()
    plain.build((None, 4, 4, 8))
    assert plain.projection is None and len(plain.trainable_weights) == 7


def test_output_projection_at_gamma_zero_is_still_the_identity():
    x = random_array((2, 4, 4, 16))
    np.testing.assert_array_equal(to_numpy(SelfAttention2D(output_projection=True)(x)), x)


@pytest.mark.parametrize(
    ("channels", "heads", "key_channels"),
    [
        (16, 1, 2),
        (16, 2, 2),
        (16, 4, 4),
        (16, 8, 8),
        (8, 4, 4),
        (64, 4, 8),
        (64, 16, 16),
        (12, 3, 3),
        (7, 7, 7),
        (40, 2, 6),
    ],
)
def test_default_key_channels_fit_any_head_count(channels, heads, key_channels):
    # The smallest multiple of num_heads that is at least C/8 (and at least 1).
    layer = SelfAttention2D(num_heads=heads)
    out, beta = layer(random_array((1, 3, 3, channels)), return_attention_scores=True)
    assert layer.query_channels == key_channels
    assert tuple(layer.query.kernel.shape) == (1, 1, channels, key_channels)
    assert out.shape == (1, 3, 3, channels) and beta.shape == (1, heads, 9, 9)
    assert default_key_channels(channels, heads) == key_channels


def test_attention_spans_all_positions_not_just_one_row():
    x = random_array((1, 6, 6, 8), 2)
    layer = SelfAttention2D(gamma_initializer=1.0)
    before = to_numpy(layer(x))
    changed = x.copy()
    changed[0, 5, 4] += 3.0  # a pixel in another row and column than the query (0, 0)
    after = to_numpy(layer(changed))
    assert not np.allclose(before[0, 0, 0], after[0, 0, 0])
    _, beta = layer(x, return_attention_scores=True)
    assert to_numpy(beta).shape == (1, 1, 36, 36) and np.all(to_numpy(beta) > 0)


def test_unknown_spatial_size():
    inputs = keras.Input(shape=(None, None, 64))
    model = keras.Model(inputs, SelfAttention2D(gamma_initializer=0.5)(inputs))
    for shape in ((1, 10, 10, 64), (2, 3, 7, 64)):
        assert model(random_array(shape)).shape == shape
    inputs = keras.Input(shape=(None, None, 8))
    _, beta = SelfAttention2D()(inputs, return_attention_scores=True)
    assert tuple(beta.shape) == (None, 1, None, None)


def test_heads_change_scores_not_output_shape():
    x = random_array((2, 4, 4, 16))
    out, beta = SelfAttention2D(num_heads=2)(x, return_attention_scores=True)  # key channels 16 // 8 = 2
    assert out.shape == x.shape and beta.shape == (2, 2, 16, 16)


def test_pooled_keys_values_quarter_the_keys():
    _, beta = SelfAttention2D(pool_keys_values=True)(random_array((1, 6, 5, 8)), return_attention_scores=True)
    assert beta.shape == (1, 1, 30, 9)  # 3 x 3 pooled positions (width 5 padded to 6)


@pytest.mark.parametrize("policy_dtype", ["float16", "bfloat16"])
def test_mixed_precision_without_nan(policy_dtype):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(f"mixed_{policy_dtype}")
    try:
        x = random_array((2, 8, 8, 16)) * 50  # scores far beyond float16 range
        layer = SelfAttention2D(gamma_initializer=1.0, num_heads=2)
        for scores in (False, True):
            out = layer(x, return_attention_scores=scores)
            out = out[0] if scores else out
            assert out.dtype == policy_dtype
            assert np.all(np.isfinite(to_numpy(keras.ops.cast(out, "float32"))))
        assert layer.gamma.dtype == "float32"
    finally:
        keras.config.set_dtype_policy(previous)


def test_rejects_bad_inputs_and_arguments():
    with pytest.raises(
        ValueError,
        match=r"expects `inputs` of rank 4 \(batch, height, width, channels\). Received: inputs.shape=\(None, 5, 8\)",
    ):
        SelfAttention2D()(keras.Input(shape=(5, 8)))
    with pytest.raises(
        ValueError, match=r"number of channels \(last axis\) to be known. Received: inputs.shape=\(None, 4, 4, None\)"
    ):
        SelfAttention2D().build((None, 4, 4, None))
    with pytest.raises(ValueError, match=r"`num_heads` must divide key_channels \(2\). Received: num_heads=3"):
        SelfAttention2D(num_heads=3, key_channels=2)(keras.Input(shape=(4, 4, 24)))
    with pytest.raises(ValueError, match=r"`num_heads` must divide filters \(16\). Received: num_heads=3"):
        SelfAttention2D(num_heads=3)(keras.Input(shape=(4, 4, 16)))  # default key channels fit; values do not
    with pytest.raises(TypeError, match=r"`output_projection` must be True or False. Received: output_projection=1"):
        SelfAttention2D(output_projection=1)
    with pytest.raises(ValueError, match=r"`num_heads` must divide filters \(10\). Received: num_heads=4"):
        SelfAttention2D(filters=10, key_channels=4, num_heads=4)(keras.Input(shape=(4, 4, 16)))
    with pytest.raises(ValueError, match=r"`filters` must be >= 1. Received: filters=0"):
        SelfAttention2D(filters=0)
    with pytest.raises(TypeError, match=r"`gamma_initializer` must be a number"):
        SelfAttention2D(gamma_initializer="zeros")
