"""`TemporalAttention`: softmax attention over time steps, before or after a recurrent layer."""

from __future__ import annotations

import keras
from keras import ops

from attention_helpers._validation import check_bool
from attention_helpers.layers._common import (
    SERIALIZATION_PACKAGE,
    KernelBiasArgs,
    check_known,
    check_rank,
    check_sequence_mask,
    stable_softmax,
)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class TemporalAttention(KernelBiasArgs, keras.layers.Layer):
    """Attention over the time steps of a sequence, one vector per feature or one shared by all.

    The `attention_3d_block` of Philippe Rémy's keras-attention-mechanism, as a layer. For input
    `x` of shape `(batch, steps, features)`, each feature's sequence `x[:, :, f]` goes through a
    dense layer over the time axis and a softmax over the steps:

        a[:, :, f] = softmax_t(x[:, :, f] W + b_f)        W: (steps, steps), b_f: (steps,)

    With `shared=True` the per-feature vectors are averaged into one vector over time, repeated for
    every feature. The output is `x * a`, the same shape as `x`.

    Unlike Rémy's block, whose `Dense(steps)` shares one bias between features, each feature has its own
    bias `b_f`: with a shared bias, two features can only attend to different steps if their
    *contents* differ, so per-feature attention could not learn "feature 0 matters at step 5,
    feature 1 at step 15".

    The dense layer spans the time axis, so the number of steps must be known when the layer is built.

    Args:
        shared: False for one attention vector per feature, True for one vector shared by all.
        use_bias: whether each feature has a bias over the steps.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: as for `keras.layers.Dense`.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `(batch, steps, features)`.
        mask: optional boolean `(batch, steps)`, usually passed by Keras from a `Masking` or
            `Embedding(mask_zero=True)` layer. Masked steps get exactly zero weight and a zero
            output, and their values (even NaN) cannot change the weights of the other steps. The
            mask is passed on unchanged.
        return_attention_scores: if True, also return the weights `(batch, steps, features)`, which
            sum to 1 over the steps (to 0 for a sequence with every step masked).

    Returns:
        `inputs * weights`, or `(inputs * weights, weights)`.

    Example:
        >>> import keras
        >>> from attention_helpers.layers import TemporalAttention
        >>> inputs = keras.Input(shape=(20, 2))
        >>> weighted, weights = TemporalAttention(name="attention")(inputs, return_attention_scores=True)
        >>> hidden = keras.layers.LSTM(32)(weighted)

    References:
        Philippe Rémy, keras-attention-mechanism (2017), "attention 3D block".
    """

    def __init__(
        self,
        shared=False,
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
        for name, value in (("shared", shared), ("use_bias", use_bias)):
            check_bool(name, value)
        self.shared = bool(shared)
        self.use_bias = bool(use_bias)
        self._set_weight_args(
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        self.supports_masking = True

    def build(self, input_shape):
        check_rank(self, input_shape, 3, "(batch, steps, features)")
        if input_shape[1] is None:
            raise ValueError(
                "TemporalAttention needs a fixed number of time steps: its dense layer spans the time "
                f"axis (axis 1). Received: inputs.shape={tuple(input_shape)}. Give keras.Input a "
                "shape like (20, features), or use FeedForwardAttention for variable-length sequences."
            )
        check_known(self, input_shape, 2, "number of features")
        steps, features = input_shape[1], input_shape[2]
        self._add_kernel_and_bias((steps, steps), (features, steps) if self.use_bias else None)

    def call(self, inputs, mask=None, return_attention_scores=False):
        if mask is not None:
            check_sequence_mask(self, inputs.shape, mask)
            mask = ops.cast(mask, "bool")
            # Padding values must not move the weights of the real steps.
            inputs_for_scores = ops.where(mask[:, :, None], inputs, ops.zeros_like(inputs))
        else:
            inputs_for_scores = inputs
        per_feature = ops.transpose(inputs_for_scores, (0, 2, 1))  # (batch, features, steps)
        logits = ops.matmul(per_feature, self.kernel)  # (batch, features, steps)
        if self.bias is not None:
            logits = logits + self.bias
        score_mask = None if mask is None else mask[:, None, :]  # (batch, 1, steps)
        weights = stable_softmax(logits, axis=-1, mask=score_mask)  # (batch, features, steps)
        if self.shared:
            weights = ops.broadcast_to(ops.mean(weights, axis=1, keepdims=True), ops.shape(weights))
        weights = ops.transpose(weights, (0, 2, 1))  # (batch, steps, features)
        # The zeroed inputs: a masked step's weight is zero, but 0 × NaN would still be NaN.
        outputs = inputs_for_scores * weights
        if return_attention_scores:
            return outputs, weights
        return outputs

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape, return_attention_scores=False):
        input_shape = tuple(input_shape)
        if return_attention_scores:
            return input_shape, input_shape
        return input_shape

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False):
        spec = keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
        if return_attention_scores:
            return spec, keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
        return spec

    def get_config(self):
        base_config = super().get_config()
        config = {
            "shared": self.shared,
            "use_bias": self.use_bias,
            **self._weight_args_config(),
        }
        return {**base_config, **config}
