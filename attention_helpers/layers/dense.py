"""`DenseAttention`: the attention block for flat vectors of keras-attention-mechanism."""

from __future__ import annotations

import keras
from keras import ops

from attention_helpers._validation import check_bool
from attention_helpers.layers._common import (
    SERIALIZATION_PACKAGE,
    KernelBiasArgs,
    check_known,
    check_rank,
    stable_softmax,
)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class DenseAttention(KernelBiasArgs, keras.layers.Layer):
    """Feature attention for vectors: a softmax over the inputs, multiplied back onto them.

    For an input vector `v` of `n` features the layer computes
    `a = softmax(v W + b)` (a probability vector over the `n` features) and returns `v * a`.
    A model that has to find the one informative feature learns to put most of the
    probability mass of `a` on it, which makes `a` a readable explanation of the model.

    Args:
        use_bias: whether the score projection has a bias.
        kernel_initializer, bias_initializer: initializers of `W` (n × n) and `b` (n).
        kernel_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `(batch, features)`.
        return_attention_scores: if True, also return the attention vector `a`.

    Returns:
        `inputs * a` of shape `(batch, features)`, or `(inputs * a, a)`.

    Example:
        >>> import keras
        >>> from attention_helpers.layers import DenseAttention
        >>> inputs = keras.Input(shape=(32,))
        >>> weighted, attention = DenseAttention(name="attention")(inputs, return_attention_scores=True)
        >>> tuple(attention.shape)
        (None, 32)

    References:
        Philippe Rémy, keras-attention-mechanism (2017), "attention 2D block".
    """

    def __init__(
        self,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.use_bias = check_bool("use_bias", use_bias)
        self._set_weight_args(
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )

    def build(self, input_shape):
        check_rank(self, input_shape, 2, "(batch, features)")
        check_known(self, input_shape, -1, "number of features")
        features = input_shape[-1]
        self.input_spec = keras.InputSpec(ndim=2, axes={-1: features})
        self._add_kernel_and_bias((features, features), (features,) if self.use_bias else None)

    def call(self, inputs, return_attention_scores=False):
        logits = ops.matmul(inputs, self.kernel)  # (batch, features)
        if self.bias is not None:
            logits = logits + self.bias
        attention = stable_softmax(logits, axis=-1)  # (batch, features), sums to 1
        outputs = inputs * attention
        if return_attention_scores:
            return outputs, attention
        return outputs

    def compute_output_shape(self, input_shape, return_attention_scores=False):
        input_shape = tuple(input_shape)
        if return_attention_scores:
            return input_shape, input_shape
        return input_shape

    def compute_output_spec(self, inputs, return_attention_scores=False):
        spec = keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
        if return_attention_scores:
            return spec, keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
        return spec

    def get_config(self):
        base_config = super().get_config()
        config = {
            "use_bias": self.use_bias,
            **self._weight_args_config(),
        }
        return {**base_config, **config}
