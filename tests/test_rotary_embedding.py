import keras
import numpy as np
import pytest

from attention_helpers.layers import RotaryPositionEmbedding
from tests.layer_testing import random_array, run_layer_test, to_numpy


def rotary_numpy(x, positions, max_wavelength=10000):
    """RoPE with half-split pairs, one 2×2 rotation per pair: features i and i + d/2 at angle p / max_wavelength^(2i/d).

    `x` is `(batch, steps, ..., d)` and `positions` `(steps,)`; computed in float64.
    """
    x = np.asarray(x, "float64")
    d = x.shape[-1]
    out = np.empty_like(x)
    for step, position in enumerate(positions):
        for i in range(d // 2):
            angle = position / max_wavelength ** (2 * i / d)
            rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            pair = np.stack([x[:, step, ..., i], x[:, step, ..., i + d // 2]], axis=-1)  # (batch, ..., 2)
            rotated = pair @ rotation.T
            out[:, step, ..., i], out[:, step, ..., i + d // 2] = rotated[..., 0], rotated[..., 1]
    return out


def rotary_keras_hub_formula(x, start_index=0, max_wavelength=10000):
    """keras-hub's `RotaryEmbedding` (sequence axis 1, features last, scaling 1), written in NumPy.

    It computes `x * cos(embedding) + rotate_half(x) * sin(embedding)`, where the per-pair angles
    `positions ⊗ inverse_freq` are repeated to `[angles, angles]` (stacked on a new axis -2 and
    reshaped) and `rotate_half(x) = [-x2, x1]` for `x1, x2 = split(x, 2)` (also stacked and reshaped).
    """
    x = np.asarray(x, "float64")
    d = x.shape[-1]
    inverse_freq = 1.0 / max_wavelength ** (np.arange(0, d, 2) / d)  # (d/2,)
    positions = np.arange(x.shape[1]) + start_index
    freq = np.einsum("i,j->ij", positions, inverse_freq)  # (steps, d/2)
    embedding = np.stack([freq, freq], axis=-2).reshape(freq.shape[0], d)  # (steps, d)
    embedding = embedding.reshape(1, x.shape[1], *([1] * (x.ndim - 3)), d)
    x1, x2 = np.split(x, 2, axis=-1)
    half_rotated = np.stack([-x2, x1], axis=-2).reshape(x.shape)
    return x * np.cos(embedding) + half_rotated * np.sin(embedding)


def rotary_interleaved_numpy(x, positions, max_wavelength=10000):
    """The RoFormer paper's (and GPT-J's) convention: pairs (2i, 2i + 1), same angles."""
    x = np.asarray(x, "float64")
    d = x.shape[-1]
    angles = np.asarray(positions, "float64")[:, None] / max_wavelength ** (2 * np.arange(d // 2) / d)  # (steps, d/2)
    angles = angles.reshape(1, len(positions), *([1] * (x.ndim - 3)), d // 2)
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * np.cos(angles) - odd * np.sin(angles)
    out[..., 1::2] = odd * np.cos(angles) + even * np.sin(angles)
    return out


def test_layer_contract(tmp_path):
    run_layer_test(RotaryPositionEmbedding, {}, (2, 5, 6), (2, 5, 6), 0, tmp_path)
    run_layer_test(RotaryPositionEmbedding, {"max_wavelength": 100}, (2, 5, 3, 8), (2, 5, 3, 8), 0, tmp_path)


@pytest.mark.parametrize(
    ("shape", "max_wavelength", "start"),
    [((2, 7, 8), 10000, 0), ((2, 6, 3, 4), 10000, 0), ((1, 5, 2, 3, 6), 50.0, 4), ((3, 40, 2), 10000, 100)],
)
def test_equals_the_numpy_reference(shape, max_wavelength, start):
    x = random_array(shape)
    got = to_numpy(RotaryPositionEmbedding(max_wavelength)(x, start_index=start))
    want = rotary_numpy(x, np.arange(shape[1]) + start, max_wavelength)
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-5)


@pytest.mark.parametrize(("shape", "start"), [((2, 9, 4, 8), 0), ((2, 5, 16), 7)])
def test_equals_keras_hub_rotary_embedding_formula(shape, start):
    x = random_array(shape, 1)
    got = to_numpy(RotaryPositionEmbedding()(x, start_index=start))
    np.testing.assert_allclose(got, rotary_keras_hub_formula(x, start), rtol=0, atol=2e-5)


def test_half_split_is_the_interleaved_convention_with_the_features_permuted():
    x = random_array((2, 6, 3, 8), 2)
    permutation = np.concatenate([np.arange(0, 8, 2), np.arange(1, 8, 2)])  # feature 2i -> i, 2i + 1 -> i + d/2
    half_split = to_numpy(RotaryPositionEmbedding()(x[..., permutation]))
    interleaved = rotary_interleaved_numpy(x, np.arange(6))
    np.testing.assert_allclose(half_split, interleaved[..., permutation], rtol=0, atol=2e-5)
    assert not np.allclose(to_numpy(RotaryPositionEmbedding()(x)), interleaved, atol=1e-2)  # they are not the same map


def test_keeps_the_norm_of_every_pair():
    x = random_array((2, 30, 4, 10), 3)
    out = to_numpy(RotaryPositionEmbedding()(x, start_index=11))
    for values in (x, out):
        assert values.shape == x.shape
    pair_norms = [np.hypot(values[..., :5], values[..., 5:]) for values in (x, out)]  # (batch, steps, heads, d/2)
    np.testing.assert_allclose(pair_norms[1], pair_norms[0], rtol=1e-5, atol=1e-6)
    assert not np.allclose(out[:, 1:], x[:, 1:], atol=1e-3)  # it did rotate (position 0 with start 0 would not)


def test_scores_depend_only_on_the_relative_position():
    layer = RotaryPositionEmbedding()
    q, k = random_array((1, 12, 2, 8), 4), random_array((1, 12, 2, 8), 5)

    def scores(start):  # (heads, query position, key position)
        return np.einsum("bqhd,bkhd->hqk", to_numpy(layer(q, start_index=start)), to_numpy(layer(k, start_index=start)))

    np.testing.assert_allclose(scores(5), scores(0), rtol=1e-5, atol=1e-5)  # shift both by 5: same scores
    np.testing.assert_allclose(scores(1000), scores(0), rtol=1e-4, atol=1e-4)
    # The same query and key vectors at every position: the score of (m, n) is a function of m - n.
    same_q, same_k = np.broadcast_to(q[:, :1], q.shape), np.broadcast_to(k[:, :1], k.shape)
    rotated_q, rotated_k = to_numpy(layer(same_q)), to_numpy(layer(same_k))
    table = np.einsum("bqhd,bkhd->hqk", rotated_q, rotated_k)  # (heads, 12, 12)
    np.testing.assert_allclose(table[:, 1:, 1:], table[:, :-1, :-1], rtol=1e-5, atol=1e-5)  # constant diagonals
    unrotated = np.einsum("bqhd,bkhd->hqk", same_q, same_k)
    assert not np.allclose(table, unrotated, atol=1e-2)  # without the rotation every entry would be equal


def test_start_index_shifts_the_positions():
    x = random_array((2, 4, 3, 6), 6)
    layer = RotaryPositionEmbedding()
    padded = np.concatenate([np.zeros((2, 3, 3, 6), "float32"), x], axis=1)  # x at positions 3..6
    want = to_numpy(layer(padded))[:, 3:]
    np.testing.assert_allclose(to_numpy(layer(x, start_index=3)), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        to_numpy(layer(x, start_index=keras.ops.convert_to_tensor(3, "int32"))), want, rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(to_numpy(layer(x, start_index=3)), rotary_numpy(x, np.arange(3, 7)), atol=2e-5)


def test_variable_length_in_a_functional_model_and_the_mask_passes_on():
    inputs = keras.Input(shape=(None, 2, 4))
    model = keras.Model(inputs, RotaryPositionEmbedding()(inputs))
    for steps in (3, 9):
        x = random_array((2, steps, 2, 4), steps)
        np.testing.assert_allclose(to_numpy(model.predict(x, verbose=0)), rotary_numpy(x, range(steps)), atol=2e-5)
    tokens = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])
    token_in = keras.Input(shape=(None,), dtype="int32")
    rotated = RotaryPositionEmbedding()(keras.layers.Embedding(5, 4, mask_zero=True)(token_in))
    pooled = to_numpy(keras.Model(token_in, keras.layers.GlobalAveragePooling1D()(rotated))(tokens))
    full = to_numpy(keras.Model(token_in, rotated)(tokens))
    np.testing.assert_allclose(pooled, [full[0, :2].mean(0), full[1, 0]], rtol=1e-6)


def test_mixed_precision_keeps_the_phase_of_far_positions(mixed_precision):
    x = np.random.default_rng(7).uniform(-1, 1, size=(2, 16, 2, 8)).astype("float32")
    layer = RotaryPositionEmbedding()
    out = layer(x, start_index=1000)
    assert out.dtype == "float16" and layer.compute_dtype == "float16"
    got = to_numpy(keras.ops.cast(out, "float32"))
    np.testing.assert_allclose(got, rotary_numpy(x, np.arange(1000, 1016)), rtol=0, atol=4e-3)


def test_rejects_bad_arguments():
    with pytest.raises(
        ValueError, match=r"known, even number of features \(the last axis\).*Received: inputs.shape=\(2, 5, 7\)"
    ):
        RotaryPositionEmbedding()(random_array((2, 5, 7)))
    with pytest.raises(ValueError, match=r"Received: inputs.shape=\(None, 5, 2, 3\)"):
        RotaryPositionEmbedding()(keras.Input(shape=(5, 2, 3)))
    with pytest.raises(ValueError, match=r"Received: inputs.shape=\(None, 5, None\)"):
        RotaryPositionEmbedding()(keras.Input(shape=(5, None)))
    with pytest.raises(ValueError, match=r"rank >= 3 \(batch, steps, ..., features\). Received: inputs.shape=\(4, 6\)"):
        RotaryPositionEmbedding()(random_array((4, 6)))
    layer = RotaryPositionEmbedding()
    layer(random_array((1, 3, 4)))
    with pytest.raises(
        ValueError, match=r"Received: inputs.shape=\(1, 3, 5\)"
    ):  # checked at every call, not only build
        layer(random_array((1, 3, 5)))
    for bad in (0, 1, -5.0, "10000", True, None):
        with pytest.raises(
            ValueError, match=rf"`max_wavelength` must be a number greater than 1. Received: max_wavelength={bad!r}"
        ):
            RotaryPositionEmbedding(bad)


# Issue 25: what Keras's and keras-hub's own tests and malformed-input probes found.


def test_integer_inputs_are_rotated_in_the_compute_dtype_as_keras_layers_do():
    # Keras's Dense and LayerNormalization return their compute dtype for integer inputs; so does this
    # layer, with the exact rotation (it used to return int32 with cos and sin truncated to integers).
    x = np.arange(2 * 5 * 2 * 6).reshape(2, 5, 2, 6) - 30
    for dtype in ("int32", "int64"):
        out = RotaryPositionEmbedding()(x.astype(dtype), start_index=3)
        assert out.dtype == "float32"
        np.testing.assert_allclose(to_numpy(out), rotary_numpy(x, np.arange(3, 8)), rtol=1e-6, atol=1e-4)
    out = RotaryPositionEmbedding(dtype="float64")(x.astype("int32"), start_index=3)
    assert out.dtype == "float64"
    np.testing.assert_allclose(to_numpy(out), rotary_numpy(x, np.arange(3, 8)), rtol=1e-13, atol=1e-12)
    with pytest.raises(TypeError, match=r"expects `inputs` of a float or integer dtype. Received: inputs.dtype=bool"):
        RotaryPositionEmbedding()(np.ones((1, 2, 4), bool))


@pytest.mark.parametrize("start", [0, 7, 1000])
def test_float64_layer_equals_the_float64_numpy_reference(start):
    # Angles in float32 made a float64 layer only float32-accurate (about 1e-4 at position 1000).
    x = np.random.default_rng(8).normal(size=(2, 9, 3, 8))
    out = RotaryPositionEmbedding(dtype="float64")(x, start_index=start)
    assert out.dtype == "float64"
    np.testing.assert_allclose(to_numpy(out), rotary_numpy(x, np.arange(start, start + 9)), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("start_index", "received"),
    [
        (1.5, "start_index=1.5"),
        (2.0, "start_index=2.0"),
        ("2", "start_index='2'"),
        (True, "start_index=True"),
        (np.array([1, 2]), r"start_index of dtype int64 and shape \(2,\)"),
        (np.float32(3.0), r"start_index of dtype float32 and shape \(\)"),
    ],
    ids=["fraction", "float", "string", "bool", "shape (2,)", "float array"],
)
def test_rejects_a_start_index_that_is_not_one_integer(start_index, received):
    with pytest.raises(ValueError, match=r"`start_index` must be an integer or an integer tensor of shape \(\)\. "
                       rf"Received: {received}"):
        RotaryPositionEmbedding()(random_array((1, 3, 4)), start_index=start_index)


def test_rejects_inputs_without_features():
    with pytest.raises(ValueError, match=r"known, even number of features .*at least 2.*Received: inputs.shape=\(1, 3, 0\)"):
        RotaryPositionEmbedding()(np.zeros((1, 3, 0), "float32"))
