import keras
import numpy as np
import pytest

from attention_helpers.layers import PositionEmbedding, SinusoidalPositionEncoding
from tests.layer_testing import run_layer_test


def test_layer_contract(tmp_path):
    run_layer_test(PositionEmbedding, {"sequence_length": 8}, (2, 5, 3), (2, 5, 3), 1, tmp_path)


def test_returns_the_first_rows_of_the_table_for_every_sample():
    layer = PositionEmbedding(10)
    x = np.random.default_rng(0).normal(size=(3, 4, 2)).astype("float32")
    out = keras.ops.convert_to_numpy(layer(x))
    table = keras.ops.convert_to_numpy(layer.embeddings)
    for sample in out:
        np.testing.assert_array_equal(sample, table[:4])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x * 100)), out)  # content is ignored


def test_variable_length_up_to_the_table_size():
    inputs = keras.Input(shape=(None, 2))
    model = keras.Model(inputs, PositionEmbedding(6)(inputs))
    assert model(np.zeros((1, 3, 2), "float32")).shape == (1, 3, 2)
    assert model(np.zeros((1, 6, 2), "float32")).shape == (1, 6, 2)


def test_rejects_bad_arguments():
    with pytest.raises(
        ValueError,
        match=r"PositionEmbedding\(sequence_length=4\) got inputs with more steps. Received: inputs.shape=\(None, 5, 2\)",
    ):
        PositionEmbedding(4)(keras.Input(shape=(5, 2)))
    with pytest.raises(ValueError, match=r"rank 3 \(batch, steps, features\). Received: inputs.shape=\(None, 5\)"):
        PositionEmbedding(4)(keras.Input(shape=(5,)))
    with pytest.raises(ValueError, match=r"`sequence_length` must be >= 1. Received: sequence_length=0"):
        PositionEmbedding(0)


def sinusoid_numpy(steps, features, max_wavelength=10000, start=0):
    """Vaswani et al. section 3.5, one entry at a time."""
    table = np.zeros((steps, features))
    for pos in range(steps):
        for j in range(features):
            i = j // 2
            angle = (start + pos) / max_wavelength ** (2 * i / features)
            table[pos, j] = np.sin(angle) if j % 2 == 0 else np.cos(angle)
    return table


def test_sinusoidal_layer_contract(tmp_path):
    run_layer_test(SinusoidalPositionEncoding, {}, (2, 5, 6), (2, 5, 6), 0, tmp_path)
    run_layer_test(SinusoidalPositionEncoding, {"max_wavelength": 100}, (2, 5, 7), (2, 5, 7), 0, tmp_path)


@pytest.mark.parametrize(
    ("features", "max_wavelength", "start"), [(8, 10000, 0), (7, 10000, 0), (6, 50.0, 0), (5, 10000, 3), (1, 10000, 0)]
)
def test_sinusoidal_matches_the_formula_for_even_and_odd_features(features, max_wavelength, start):
    x = np.random.default_rng(0).normal(size=(3, 40, features)).astype("float32")
    out = keras.ops.convert_to_numpy(SinusoidalPositionEncoding(max_wavelength)(x, start_index=start))
    want = sinusoid_numpy(40, features, max_wavelength, start)
    for sample in out:  # the same table for every sample, whatever its content
        np.testing.assert_allclose(sample, want, rtol=0, atol=2e-5)


def test_sinusoidal_accepts_any_length_and_longer_is_a_continuation():
    inputs = keras.Input(shape=(None, 6))
    model = keras.Model(inputs, SinusoidalPositionEncoding()(inputs))
    short = keras.ops.convert_to_numpy(model(np.zeros((1, 3, 6), "float32")))
    long = keras.ops.convert_to_numpy(model(np.ones((2, 300, 6), "float32")))
    assert short.shape == (1, 3, 6) and long.shape == (2, 300, 6)
    np.testing.assert_array_equal(long[0, :3], short[0])
    np.testing.assert_allclose(long[1], sinusoid_numpy(300, 6), rtol=0, atol=1e-4)


def test_sinusoidal_passes_the_input_mask_on():
    tokens = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])
    inputs = keras.Input(shape=(None,), dtype="int32")
    embedded = keras.layers.Embedding(5, 4, mask_zero=True)(inputs)
    summed = keras.layers.Add()([embedded, SinusoidalPositionEncoding()(embedded)])
    pooled = keras.ops.convert_to_numpy(keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(summed))(tokens))
    full = keras.ops.convert_to_numpy(keras.Model(inputs, summed)(tokens))
    np.testing.assert_allclose(pooled, [full[0, :2].mean(0), full[1, 0]], rtol=1e-6)


@pytest.mark.parametrize(("policy_dtype", "atol"), [("float16", 2e-3), ("bfloat16", 1e-2)])
def test_sinusoidal_mixed_precision_keeps_the_phase_of_far_positions(policy_dtype, atol):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(f"mixed_{policy_dtype}")
    try:
        out = SinusoidalPositionEncoding()(np.zeros((1, 1000, 8), "float32"))
        assert out.dtype == policy_dtype
        got = keras.ops.convert_to_numpy(keras.ops.cast(out, "float32"))[0]
        np.testing.assert_allclose(got, sinusoid_numpy(1000, 8), rtol=0, atol=atol)
    finally:
        keras.config.set_dtype_policy(previous)


def test_sinusoidal_rejects_bad_arguments():
    for bad in (0, 1, -5.0, "10000", True):
        with pytest.raises(
            ValueError, match=rf"`max_wavelength` must be a number greater than 1. Received: max_wavelength={bad!r}"
        ):
            SinusoidalPositionEncoding(bad)
    with pytest.raises(ValueError, match=r"rank 3 \(batch, steps, features\). Received: inputs.shape=\(None, 5\)"):
        SinusoidalPositionEncoding()(keras.Input(shape=(5,)))


# Issue 25: what Keras's and keras-hub's own tests and malformed-input probes found.


@pytest.mark.parametrize(
    ("start_index", "received"),
    [(1.5, "start_index=1.5"), ("2", "start_index='2'"), (np.array([1, 2]), r"start_index of dtype int64 and shape \(2,\)")],
    ids=["fraction", "string", "shape (2,)"],
)
def test_sinusoidal_rejects_a_start_index_that_is_not_one_integer(start_index, received):
    with pytest.raises(ValueError, match=r"`start_index` must be an integer or an integer tensor of shape \(\)\. "
                       rf"Received: {received}"):
        SinusoidalPositionEncoding()(np.zeros((1, 3, 4), "float32"), start_index=start_index)


def test_sinusoidal_checks_the_rank_at_every_call():
    layer = SinusoidalPositionEncoding()
    layer(np.zeros((1, 3, 4), "float32"))
    with pytest.raises(ValueError, match=r"rank 3 \(batch, steps, features\). Received: inputs.shape=\(3, 4\)"):
        layer(np.zeros((3, 4), "float32"))


@pytest.mark.parametrize("features", [8, 7])
def test_sinusoidal_float64_layer_equals_the_float64_formula(features):
    out = SinusoidalPositionEncoding(dtype="float64")(np.zeros((1, 50, features)), start_index=1000)
    assert out.dtype == "float64"
    want = sinusoid_numpy(50, features, start=1000)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out)[0], want, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "start_index",
    [np.int64(3), np.array(3), keras.ops.convert_to_tensor(3, "int64"), keras.ops.convert_to_tensor(3, "int32")],
    ids=["np.int64", "0-d array", "int64 tensor", "int32 tensor"],
)
def test_sinusoidal_accepts_any_integer_start_index(start_index):
    # A NumPy int64 used to fail inside TensorFlow's AddV2 (int32 positions + int64 start).
    out = SinusoidalPositionEncoding()(np.zeros((1, 4, 6), "float32"), start_index=start_index)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out)[0], sinusoid_numpy(4, 6, start=3), rtol=0, atol=2e-6)
