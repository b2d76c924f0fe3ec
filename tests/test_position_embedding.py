import keras
import numpy as np
import pytest

from attention_helpers.layers import PositionEmbedding
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
