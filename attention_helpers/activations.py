"""Read what any layer of a built Keras model outputs, attention vectors included."""

from __future__ import annotations

import keras
import numpy as np


def _layer_outputs(layer):
    """The symbolic outputs of `layer` as a list (one entry per output), or a clear error."""
    try:
        output = layer.output
    except (AttributeError, ValueError, RuntimeError) as error:
        raise ValueError(
            f"Layer {layer.name!r} has no single output to read (it must have been called exactly once "
            f"in the model's graph). Keras said: {error}"
        ) from error
    if isinstance(output, dict):
        return list(output.values())
    if isinstance(output, (list, tuple)):
        return list(output)
    return [output]


def get_activations(model, x, layer_names=None, batch_size=256):
    """Run `x` through `model` and return the outputs of the named layers as NumPy arrays.

    The Keras 3 version of the `get_activations` in Philippe Rémy's keras-attention-mechanism: it builds an intermediate
    `keras.Model(model.inputs, [layer.output, ...])` and predicts with it.

    A layer with one output is keyed by its name. A layer with several outputs (for example
    `DenseAttention` called with `return_attention_scores=True`) gives one key per output,
    `"name/0"`, `"name/1"`, ...; asking for `"name"` returns all of them and `"name/1"` just one.

    Args:
        model: a built functional or Sequential `keras.Model`.
        x: the model's input (an array, or a list/dict of arrays for a multi-input model).
        layer_names: None for every layer, a name, or a list of names (`"name"` or `"name/i"`).
        batch_size: prediction batch size.

    Returns:
        dict mapping each key to a NumPy array whose first axis is the batch.

    Raises:
        ValueError: for an unknown layer name (the message lists the available names), or a
            model that has not been built on an input.

    Example:
        >>> acts = get_activations(model, x_test, "attention/1")
        >>> acts["attention/1"].shape
        (1000, 32)
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model. Received: model of type {type(model).__name__}")
    try:
        inputs = model.inputs
    except (AttributeError, ValueError) as error:
        inputs = None
        cause = error
    else:
        cause = None
    if not inputs:
        raise ValueError(
            "`model` must be built on an input (functional, or Sequential starting with keras.Input) "
            "before its activations can be read."
        ) from cause

    available = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            available[layer.name] = [layer.output]
            continue
        available[layer.name] = _layer_outputs(layer)

    keys = {}
    for name, outputs in available.items():
        if len(outputs) == 1:
            keys[name] = outputs[0]
        else:
            for index, output in enumerate(outputs):
                keys[f"{name}/{index}"] = output

    if layer_names is None:
        wanted = list(keys)
    else:
        if isinstance(layer_names, str):
            layer_names = [layer_names]
        if not isinstance(layer_names, (list, tuple)) or not all(isinstance(n, str) for n in layer_names):
            raise TypeError(f"`layer_names` must be None, a string or a list of strings. Received: {layer_names!r}")
        wanted = []
        for name in layer_names:
            if name in keys:
                wanted.append(name)
            elif name in available:
                wanted.extend(f"{name}/{i}" for i in range(len(available[name])))
            else:
                raise ValueError(f"Unknown layer name in `layer_names`: {name!r}. Available: {sorted(keys)}")
    probe = keras.Model(inputs=inputs, outputs=[keys[k] for k in wanted])
    values = probe.predict(x, batch_size=batch_size, verbose=0)
    if len(wanted) == 1:
        values = [values]
    return {key: np.asarray(value) for key, value in zip(wanted, values)}
