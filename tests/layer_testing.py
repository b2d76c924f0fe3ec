"""One helper that every layer test calls (after Keras's own `run_layer_test`).

It builds the layer on a given input, then checks: output shape against `compute_output_shape`
and the expected shape; the number of trainable weights; `get_config`/`from_config` round trip;
use in a Sequential model; and `.keras` save/load giving identical outputs.
"""

from __future__ import annotations

import keras
import numpy as np


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_shape,
    expected_output_shape,
    expected_num_trainable_weights,
    tmp_path,
    call_kwargs=None,
    input_data=None,
    sequential=True,
    unpack_inputs=False,
):
    """Exercise `layer_cls(**init_kwargs)` on input of `input_shape` (batch included).

    `input_shape` is one shape, or a list of shapes for a layer that takes a list of inputs.
    `unpack_inputs=True` passes that list as separate arguments instead, `layer(query, value)` and
    `compute_output_shape(query_shape, value_shape)`, as `keras.layers.MultiHeadAttention` takes them.
    """
    call_kwargs = call_kwargs or {}

    def apply(function, inputs, **kwargs):
        return function(*inputs, **kwargs) if unpack_inputs else function(inputs, **kwargs)

    rng = np.random.default_rng(0)
    multi_input = isinstance(input_shape, list)
    shapes = input_shape if multi_input else [input_shape]
    if input_data is None:
        input_data = [rng.normal(size=shape).astype("float32") for shape in shapes]
        input_data = input_data if multi_input else input_data[0]
    x = input_data

    # Eager call and shapes.
    layer = layer_cls(**init_kwargs)
    outputs = apply(layer, x, **call_kwargs)
    got_shapes = [tuple(o.shape) for o in _as_list(outputs)]
    expected = expected_output_shape if isinstance(expected_output_shape, list) else [expected_output_shape]
    assert got_shapes == [tuple(s) for s in expected], (got_shapes, expected)
    declared = apply(layer.compute_output_shape, input_shape, **call_kwargs)
    declared = (
        declared
        if isinstance(declared, list) or (isinstance(declared, tuple) and declared and isinstance(declared[0], tuple))
        else [declared]
    )
    assert [tuple(d) for d in declared] == got_shapes, (declared, got_shapes)
    assert len(layer.trainable_weights) == expected_num_trainable_weights

    # Config round trip: same config, same class.
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config
    for key in init_kwargs:
        assert key in config, f"get_config() is missing constructor argument {key!r}"

    # Functional model with the symbolic batch dimension, saved and reloaded.
    inputs = [keras.Input(shape=shape[1:]) for shape in shapes]
    inputs = inputs if multi_input else inputs[0]
    symbolic = apply(layer_cls(**init_kwargs), inputs, **call_kwargs)
    model = keras.Model(inputs, symbolic)
    expected_values = [keras.ops.convert_to_numpy(o) for o in _as_list(model(x))]
    path = tmp_path / f"{layer_cls.__name__}.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    got_values = [keras.ops.convert_to_numpy(o) for o in _as_list(reloaded(x))]
    for want, got in zip(expected_values, got_values):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    reloaded_layer = reloaded.layers[-1]
    assert type(reloaded_layer) is layer_cls

    # Sequential model (single output only).
    if sequential and not multi_input and not call_kwargs.get("return_attention_scores"):
        seq = keras.Sequential([keras.Input(shape=input_shape[1:]), layer_cls(**init_kwargs)])
        assert tuple(seq(x).shape) == got_shapes[0]
    return layer


def random_array(shape, seed=0):
    """Seeded float32 N(0, 1) array, the input of most layer tests."""
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def to_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def numpy_weights(layer):
    """The layer's weights as NumPy arrays, in `layer.weights` order."""
    return [to_numpy(w) for w in layer.weights]
