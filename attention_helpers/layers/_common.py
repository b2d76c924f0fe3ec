"""Pieces every attention layer of the package shares. Keras 3 public API only."""

from __future__ import annotations

import numbers

import keras
from keras import ops

SERIALIZATION_PACKAGE = "attention_helpers"


def working_dtype(dtype):
    """The dtype to compute softmaxes and angles in: float64 stays float64, everything else is float32.

    float16 and bfloat16 are upcast (their exponentials overflow and their angles lose the phase of
    far positions); float64 is kept, so that a float64 layer is float64-accurate.
    """
    return "float64" if keras.backend.standardize_dtype(dtype) == "float64" else "float32"


def stable_softmax(logits, axis=-1, mask=None):
    """Softmax in float32, or float64 for float64 logits (float16/bfloat16 are upcast), cast back to the input dtype.

    `mask` (boolean, broadcastable to `logits`): False entries get exactly zero weight, and a
    slice whose entries are all False gets all zeros instead of NaN.
    """
    dtype = logits.dtype
    compute = working_dtype(dtype)
    logits = ops.cast(logits, compute)
    if mask is None:
        return ops.cast(ops.softmax(logits, axis=axis), dtype)
    mask = ops.cast(mask, "bool")
    # Large negative that float32 holds; the exact zero comes from the multiplication below.
    logits = ops.where(mask, logits, ops.full_like(logits, -1e9))
    logits = logits - ops.stop_gradient(ops.max(logits, axis=axis, keepdims=True))
    exp = ops.exp(logits) * ops.cast(mask, compute)
    total = ops.sum(exp, axis=axis, keepdims=True)
    weights = exp / ops.maximum(total, 1e-30)
    return ops.cast(weights, dtype)


def check_start_index(name, value):
    """A position: a Python or NumPy integer, or an integer tensor of shape () (which may be symbolic).

    Raises a ValueError naming the argument otherwise (a fraction, a string, a bool, a float tensor,
    a tensor of several positions), instead of a backend's cast or add error deep inside the layer.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return value
    dtype, shape = getattr(value, "dtype", None), getattr(value, "shape", None)
    if dtype is not None and shape is not None:  # a tensor, an array or a NumPy scalar
        dtype = keras.backend.standardize_dtype(dtype)
        if "int" in dtype and tuple(shape) == ():
            return value
        received = f"{name} of dtype {dtype} and shape {tuple(shape)}"
    else:
        received = f"{name}={value!r}"
    raise ValueError(f"`{name}` must be an integer or an integer tensor of shape (). Received: {received}")


def fresh_initializer(initializer):
    """A new copy of `initializer`: Keras 3 draws an unseeded initializer's seed when it is created,
    so one instance used for two weights of the same shape gives both the same values."""
    return initializer.__class__.from_config(initializer.get_config())


def output_spec(layer, shapes, return_attention_scores):
    """`compute_output_spec` from `compute_output_shape`'s result: the output, or `(output, scores)`."""
    if return_attention_scores:
        return tuple(keras.KerasTensor(shape, dtype=layer.compute_dtype) for shape in shapes)
    return keras.KerasTensor(shapes, dtype=layer.compute_dtype)


def check_rank(layer, input_shape, expected_rank, description, argument="inputs"):
    """Raise a ValueError naming the layer, the expected shape and the received one."""
    if len(input_shape) != expected_rank:
        raise ValueError(
            f"{type(layer).__name__} expects `{argument}` of rank {expected_rank} {description}. "
            f"Received: {argument}.shape={tuple(input_shape)}"
        )


def check_known(layer, input_shape, axis, what, argument="inputs"):
    if input_shape[axis] is None:
        raise ValueError(
            f"{type(layer).__name__} needs the {what} (axis {axis}) of `{argument}` to be known "
            f"when the layer is built. Received: {argument}.shape={tuple(input_shape)}"
        )


def check_sequence_mask(layer, inputs_shape, mask, argument="mask", inputs_name="inputs"):
    """A padding mask must be `(batch, steps)` matching the first two axes of its sequence."""
    expected = tuple(inputs_shape[:2])
    received = tuple(mask.shape)
    compatible = len(received) == 2 and all(e is None or r is None or e == r for e, r in zip(expected, received))
    if not compatible:
        raise ValueError(
            f"{type(layer).__name__} expects `{argument}` of shape (batch, steps) = {expected}, matching "
            f"{inputs_name}.shape={tuple(inputs_shape)}. Received: {argument}.shape={received}"
        )


class KernelBiasArgs:
    """Mixin for layers with a `kernel` and an optional `bias`: the Dense-style weight arguments.

    Stores `kernel_initializer`, `bias_initializer`, `kernel_regularizer`, `bias_regularizer`,
    `kernel_constraint` and `bias_constraint` under their own names, creates the weights with them,
    and serializes them for `get_config`.
    """

    _WEIGHT_ARGS = (
        ("kernel_initializer", "initializers"),
        ("bias_initializer", "initializers"),
        ("kernel_regularizer", "regularizers"),
        ("bias_regularizer", "regularizers"),
        ("kernel_constraint", "constraints"),
        ("bias_constraint", "constraints"),
    )

    def _set_weight_args(self, **args):
        for name, module in self._WEIGHT_ARGS:
            setattr(self, name, getattr(keras, module).get(args[name]))

    def _add_kernel_and_bias(self, kernel_shape, bias_shape):
        # The stored initializers themselves, not copies: the notebooks' outputs depend on these draws.
        self.kernel, self.bias = self._make_kernel_and_bias(kernel_shape, bias_shape, fresh=False)

    def _make_kernel_and_bias(self, kernel_shape, bias_shape, prefix="", fresh=True):
        """Create and return `(kernel, bias)` named `{prefix}kernel`, `{prefix}bias`; bias None without a shape.

        `fresh=True` initializes them from new copies of the initializers (see `fresh_initializer`),
        as a layer with several kernels needs.
        """
        copy = fresh_initializer if fresh else (lambda initializer: initializer)
        kernel = self.add_weight(
            name=f"{prefix}kernel",
            shape=kernel_shape,
            initializer=copy(self.kernel_initializer),
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        bias = None
        if bias_shape is not None:
            bias = self.add_weight(
                name=f"{prefix}bias",
                shape=bias_shape,
                initializer=copy(self.bias_initializer),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        return kernel, bias

    def _weight_args_config(self):
        return {name: getattr(keras, module).serialize(getattr(self, name)) for name, module in self._WEIGHT_ARGS}
