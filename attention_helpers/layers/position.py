"""Position information for attention, which by itself ignores order.

`PositionEmbedding` learns one vector per position; `SinusoidalPositionEncoding` computes them
with Vaswani et al.'s sines and cosines, so it has no weights and accepts any length.
"""

from __future__ import annotations

import numbers

import keras
from keras import ops

from attention_helpers._validation import check_int
from attention_helpers.layers._common import (
    SERIALIZATION_PACKAGE,
    check_known,
    check_rank,
    check_start_index,
    working_dtype,
)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class PositionEmbedding(keras.layers.Layer):
    """One learned vector per position, broadcast to the shape of the input (like keras-hub's).

    Attention by itself ignores order: it compares contents. Adding `PositionEmbedding(x)` to `x`
    lets scores depend on positions too; using it alone as a query asks "what is at my position?".

    Args:
        sequence_length: the largest number of steps the layer accepts.
        initializer: initializer of the `(sequence_length, features)` table.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `(batch, steps, features)` with `steps <= sequence_length`; only its shape is used.

    Returns:
        The first `steps` position vectors, broadcast to `(batch, steps, features)`.
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = check_int("sequence_length", sequence_length, minimum=1)
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"PositionEmbedding expects `inputs` of rank 3 (batch, steps, features). "
                f"Received: inputs.shape={tuple(input_shape)}"
            )
        check_known(self, input_shape, 2, "number of features")
        if input_shape[1] is not None and input_shape[1] > self.sequence_length:
            raise ValueError(
                f"PositionEmbedding(sequence_length={self.sequence_length}) got inputs with more steps. "
                f"Received: inputs.shape={tuple(input_shape)}"
            )
        self.embeddings = self.add_weight(
            name="embeddings", shape=(self.sequence_length, input_shape[2]), initializer=self.initializer
        )

    def call(self, inputs):
        steps = ops.shape(inputs)[1]
        table = ops.cast(self.embeddings[:steps], self.compute_dtype)  # (steps, features)
        return ops.broadcast_to(table[None], ops.shape(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        base_config = super().get_config()
        config = {
            "sequence_length": self.sequence_length,
            "initializer": keras.initializers.serialize(self.initializer),
        }
        return {**base_config, **config}


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class SinusoidalPositionEncoding(keras.layers.Layer):
    """The fixed sine/cosine position encoding of the Transformer, broadcast to the input's shape.

    For position `pos` and feature pair `i` of `d` features:

        PE[pos, 2i]     = sin(pos / max_wavelength^(2i / d))
        PE[pos, 2i + 1] = cos(pos / max_wavelength^(2i / d))

    Each pair of features turns at its own frequency, from one turn per 2π steps (i = 0) to one per
    about `2π · max_wavelength` steps, so nearby positions get similar vectors and every position
    up to a very long length a distinct one. With an odd `d` the last feature is a sine. Like
    `PositionEmbedding` (and keras-hub's `SinePositionEncoding`, whose convention this follows) it
    returns the encoding only; the model adds it to its input. It has no weights, so it accepts any
    number of steps. The angles are computed in float32 (float64 for a float64 layer) and the result
    cast to the layer's compute dtype: under mixed precision, positions in the hundreds would lose
    their phase in float16.

    Args:
        max_wavelength: the base of the frequencies (10000 in the paper).
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `(batch, steps, features)`; only its shape is used, and `steps` may vary.
        start_index: position of the first step (for decoding one step at a time): an integer or an
            integer tensor of shape (). Default 0.

    Returns:
        `PE[start_index : start_index + steps]`, broadcast to `(batch, steps, features)`. The
        input's mask, if any, is passed on.

    Example:
        >>> import keras
        >>> from attention_helpers.layers import SinusoidalPositionEncoding
        >>> tokens = keras.Input(shape=(None,), dtype="int32")
        >>> embedded = keras.layers.Embedding(1000, 32, mask_zero=True)(tokens)
        >>> inputs = keras.layers.Add()([embedded, SinusoidalPositionEncoding()(embedded)])
        >>> tuple(inputs.shape)
        (None, None, 32)

    References:
        Ashish Vaswani et al., "Attention Is All You Need", section 3.5,
        https://arxiv.org/abs/1706.03762
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        if isinstance(max_wavelength, bool) or not isinstance(max_wavelength, numbers.Real) or max_wavelength <= 1:
            raise ValueError(
                f"`max_wavelength` must be a number greater than 1. Received: max_wavelength={max_wavelength!r}"
            )
        self.max_wavelength = max_wavelength
        self.supports_masking = True

    def build(self, input_shape):
        check_rank(self, input_shape, 3, "(batch, steps, features)")

    def call(self, inputs, start_index=0):
        check_rank(self, inputs.shape, 3, "(batch, steps, features)")  # at every call, not only build
        start_index = check_start_index("start_index", start_index)
        angle_dtype = working_dtype(self.compute_dtype)  # float32 under mixed precision, float64 for float64
        shape = ops.shape(inputs)
        steps = ops.arange(shape[1], dtype="int32") + ops.cast(start_index, "int32")  # (steps,)
        positions = ops.cast(steps, angle_dtype)
        features = ops.arange(shape[2])  # (features,)
        # Features 2i and 2i + 1 share the frequency 1 / max_wavelength^(2i / d).
        exponents = ops.cast(2 * (features // 2), angle_dtype) / ops.cast(shape[2], angle_dtype)
        frequencies = ops.power(float(self.max_wavelength), -exponents)  # (features,)
        angles = positions[:, None] * frequencies[None, :]  # (steps, features)
        encoding = ops.where(features % 2 == 0, ops.sin(angles), ops.cos(angles))  # (steps, features)
        return ops.broadcast_to(ops.cast(encoding, self.compute_dtype)[None], shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        base_config = super().get_config()
        config = {"max_wavelength": self.max_wavelength}
        return {**base_config, **config}
