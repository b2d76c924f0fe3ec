"""`RotaryPositionEmbedding`: rotary position embeddings (RoPE), which rotate queries and keys by their positions."""

from __future__ import annotations

import numbers

import keras
from keras import ops

from attention_helpers.layers._common import SERIALIZATION_PACKAGE, check_start_index, working_dtype


def check_max_wavelength(name, value):
    """The base of sinusoidal frequencies: a number greater than 1, returned as given."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value <= 1:
        raise ValueError(f"`{name}` must be a number greater than 1. Received: {name}={value!r}")
    return value


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class RotaryPositionEmbedding(keras.layers.Layer):
    """Rotary position embedding (RoPE): each pair of features is rotated by an angle that grows with its position.

    Split the `d` features of the vector at position `p` into `d / 2` pairs. Pair `i` is rotated by
    the angle `p · θ_i` with `θ_i = 1 / max_wavelength^(2i / d)`, the frequencies of the Transformer's
    sinusoidal encoding. A rotation keeps lengths, and the dot product of a query rotated to
    position m with a key rotated to position n sees only the difference of their angles:

        <R(m θ) q, R(n θ) k> = <q, R((n − m) θ) k>

    so applied to queries and keys (not to values, and not added to the input), attention scores
    depend on the contents and on the relative position m − n only, never on m and n themselves.

    Which features form a pair is a convention, and implementations differ:

    - **interleaved**: pairs `(2i, 2i + 1)`, as written in the RoFormer paper and used by GPT-J
      and Meta's original Llama code;
    - **half-split**: pairs `(i, i + d/2)`, as in GPT-NeoX, Hugging Face's Llama and keras-hub's
      `RotaryEmbedding`.

    **This layer uses the half-split pairs.** With `x1 = x[..., :d/2]` and `x2 = x[..., d/2:]`:

        output[..., :d/2] = x1 cos(p θ) − x2 sin(p θ)
        output[..., d/2:] = x2 cos(p θ) + x1 sin(p θ)

    The two conventions give the same scores up to a fixed permutation of the features (the one
    that moves feature 2i to i and 2i + 1 to i + d/2), so a model trained with one can be used with
    the other by permuting the last (head_dim) axis of its query and key kernels and biases. The angles are computed in
    float32 (float64 for float64 inputs) and the rotation is applied in the input's dtype: under
    mixed precision, positions in the hundreds would lose their phase in float16. Integer inputs
    are cast to the layer's compute dtype first (float32 by default), as Keras's `Dense` and
    `LayerNormalization` do. The layer has no weights and accepts any number of steps; a Keras
    mask on the input is passed on.

    Args:
        max_wavelength: the base of the frequencies (10000 in the paper).
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `(batch, steps, ..., d)` with `d` even and at least 2: any number of axes (for
            example heads) may stand between the steps and the features; all of them share the
            step's angle. Float or integer.
        start_index: position of the first step (an integer or an integer tensor of shape (); for
            decoding with a cache). Default 0.

    Returns:
        The rotated inputs, of the same shape, and of the input's dtype (the compute dtype for
        integer inputs).

    Example:
        >>> import numpy as np
        >>> from attention_helpers.layers import RotaryPositionEmbedding
        >>> queries = np.ones((2, 5, 4, 8), "float32")  # (batch, steps, heads, head_dim)
        >>> tuple(RotaryPositionEmbedding()(queries).shape)
        (2, 5, 4, 8)

    References:
        Jianlin Su, Yu Lu, Shengfeng Pan, Ahmed Murtadha, Bo Wen, Yunfeng Liu, "RoFormer: Enhanced
        Transformer with Rotary Position Embedding", 2021, https://arxiv.org/abs/2104.09864
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = check_max_wavelength("max_wavelength", max_wavelength)
        self.supports_masking = True

    def _check_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError(
                "RotaryPositionEmbedding expects `inputs` of rank >= 3 (batch, steps, ..., features). "
                f"Received: inputs.shape={input_shape}"
            )
        features = input_shape[-1]
        if features is None or features % 2 or features < 2:
            raise ValueError(
                "RotaryPositionEmbedding expects `inputs` with a known, even number of features (the last "
                f"axis), at least 2, which it rotates in pairs. Received: inputs.shape={input_shape}"
            )

    def build(self, input_shape):
        self._check_shape(input_shape)

    def call(self, inputs, start_index=0):
        self._check_shape(inputs.shape)
        start_index = check_start_index("start_index", start_index)
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        if "int" in dtype:
            # Rotated in floats, as Keras's Dense does with integer inputs (not truncated to integers).
            inputs = ops.cast(inputs, self.compute_dtype)
        elif "float" not in dtype:
            raise TypeError(
                "RotaryPositionEmbedding expects `inputs` of a float or integer dtype. "
                f"Received: inputs.dtype={dtype}"
            )
        angle_dtype = working_dtype(inputs.dtype)  # float32 under mixed precision, float64 for float64
        half = inputs.shape[-1] // 2
        steps = ops.shape(inputs)[1]
        positions = ops.arange(steps, dtype=angle_dtype) + ops.cast(start_index, angle_dtype)  # (steps,)
        exponents = ops.arange(half, dtype=angle_dtype) * (2.0 / inputs.shape[-1])  # 2i / d, (d/2,)
        frequencies = ops.power(float(self.max_wavelength), -exponents)  # θ_i, (d/2,)
        angles = positions[:, None] * frequencies[None, :]  # (steps, d/2)
        angles = ops.expand_dims(angles, 0)  # (1, steps, d/2)
        for _ in range(len(inputs.shape) - 3):
            angles = ops.expand_dims(angles, -2)  # (1, steps, 1, ..., 1, d/2)
        cos, sin = ops.cast(ops.cos(angles), inputs.dtype), ops.cast(ops.sin(angles), inputs.dtype)
        first, second = inputs[..., :half], inputs[..., half:]  # each (batch, steps, ..., d/2)
        return ops.concatenate([first * cos - second * sin, second * cos + first * sin], axis=-1)

    def compute_output_shape(self, input_shape):
        self._check_shape(input_shape)
        return tuple(input_shape)

    def get_config(self):
        base_config = super().get_config()
        config = {"max_wavelength": self.max_wavelength}
        return {**base_config, **config}
