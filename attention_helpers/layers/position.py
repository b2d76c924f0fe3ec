"""`PositionEmbedding`: learned position vectors, for models whose attention needs to know "where"."""

from __future__ import annotations

import keras
from keras import ops

from attention_helpers._validation import check_int
from attention_helpers.layers._common import SERIALIZATION_PACKAGE, check_known


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
