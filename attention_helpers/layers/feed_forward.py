"""`FeedForwardAttention`: Raffel & Ellis attention pooling for (variable-length) sequences."""

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
class FeedForwardAttention(KernelBiasArgs, keras.layers.Layer):
    """Feed-forward attention: pool a sequence into one vector with learned weights over its steps.

    For input `h` of shape `(batch, steps, features)` (Raffel & Ellis, 2015):

        e_t = tanh(h_t · w + b)            one score per step (w: (features,)), in [-1, 1]
        alpha = softmax_t(e)               weights over the steps
        c = sum_t alpha_t h_t              the context vector, (batch, features)

    `b` is a scalar by default, so sequences of any length work (`steps=None`); with
    `per_step_bias=True` it has one value per step (as in the Keras 2 layer of the blog post this
    package started from), which needs a fixed length.

    Because tanh bounds every score to [-1, 1], two weights of one sequence differ by at most a
    factor e² ≈ 7.4. `score_activation=None` drops the tanh (a linear score), so the weights can be
    as sharp as training makes them.

    Keras masking is honoured: masked steps get exactly zero weight and their values cannot change
    the output; a fully masked sequence gives a zero context (not NaN). The mask is consumed: the
    output is one vector per sequence.

    Args:
        score_activation: applied to the scores before the softmax: "tanh" (default, Raffel &
            Ellis), None for a linear score, or any Keras activation.
        use_bias: whether the score has a bias.
        per_step_bias: one bias per time step instead of one scalar (needs a known number of steps).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: as for `keras.layers.Dense`.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `(batch, steps, features)`.
        mask: optional boolean `(batch, steps)`; False marks padding.
        return_attention_scores: if True, also return the weights `alpha`, `(batch, steps)`.

    Returns:
        `c` of shape `(batch, features)`, or `(c, alpha)`.

    Example:
        >>> import keras
        >>> from attention_helpers.layers import FeedForwardAttention
        >>> inputs = keras.Input(shape=(None, 2))
        >>> masked = keras.layers.Masking(0.0)(inputs)
        >>> context, weights = FeedForwardAttention()(masked, return_attention_scores=True)

    References:
        Colin Raffel and Daniel P. W. Ellis, "Feed-Forward Networks with Attention Can Solve Some
        Long-Term Memory Problems", https://arxiv.org/abs/1512.08756
    """

    def __init__(
        self,
        score_activation="tanh",
        use_bias=True,
        per_step_bias=False,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (("use_bias", use_bias), ("per_step_bias", per_step_bias)):
            check_bool(name, value)
        if per_step_bias and not use_bias:
            raise ValueError("`per_step_bias=True` needs `use_bias=True`. Received: use_bias=False")
        self.score_activation = keras.activations.get(score_activation)
        self.use_bias = bool(use_bias)
        self.per_step_bias = bool(per_step_bias)
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
        check_known(self, input_shape, 2, "number of features")
        if self.per_step_bias and input_shape[1] is None:
            raise ValueError(
                "`per_step_bias=True` needs a fixed number of time steps (one bias per step). "
                f"Received: inputs.shape={tuple(input_shape)}. Use per_step_bias=False for "
                "variable-length sequences."
            )
        bias_shape = None
        if self.use_bias:
            bias_shape = (input_shape[1],) if self.per_step_bias else ()
        self._add_kernel_and_bias((input_shape[2],), bias_shape)

    def call(self, inputs, mask=None, return_attention_scores=False):
        if mask is not None:
            check_sequence_mask(self, inputs.shape, mask)
            mask = ops.cast(mask, "bool")
            # Padding values must not reach the output, even multiplied by a zero weight (inf * 0 = NaN).
            inputs = ops.where(mask[:, :, None], inputs, ops.zeros_like(inputs))
        scores = ops.einsum("bsf,f->bs", inputs, self.kernel)  # (batch, steps)
        if self.bias is not None:
            scores = scores + self.bias
        scores = self.score_activation(scores)
        weights = stable_softmax(scores, axis=-1, mask=mask)  # (batch, steps), exact zeros where masked
        context = ops.einsum("bs,bsf->bf", weights, inputs)  # (batch, features)
        if return_attention_scores:
            return context, weights
        return context

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape, return_attention_scores=False):
        context_shape = (input_shape[0], input_shape[2])
        if return_attention_scores:
            return context_shape, (input_shape[0], input_shape[1])
        return context_shape

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False):
        context = keras.KerasTensor((inputs.shape[0], inputs.shape[2]), dtype=self.compute_dtype)
        if return_attention_scores:
            return context, keras.KerasTensor(inputs.shape[:2], dtype=self.compute_dtype)
        return context

    def get_config(self):
        base_config = super().get_config()
        config = {
            "score_activation": keras.activations.serialize(self.score_activation),
            "use_bias": self.use_bias,
            "per_step_bias": self.per_step_bias,
            **self._weight_args_config(),
        }
        return {**base_config, **config}
