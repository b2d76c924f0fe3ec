"""`TransformerBlock`: self-attention and a feed-forward network, each with a residual and LayerNorm."""

from __future__ import annotations

import numbers

import keras

from attention_helpers._validation import check_bool, check_int, check_rate
from attention_helpers.layers._common import (
    SERIALIZATION_PACKAGE,
    check_known,
    check_rank,
    check_sequence_mask,
    fresh_initializer,
    output_spec,
)
from attention_helpers.layers.multi_head import MultiHeadAttention


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class TransformerBlock(keras.layers.Layer):
    """One Transformer encoder block: multi-head self-attention, then a position-wise feed-forward net.

    For `x` of shape `(batch, steps, d_model)`, with the package's `MultiHeadAttention` as MHA and
    FFN(x) = Dense(d_model)(activation(Dense(ff_dim)(x))) applied at every step on its own:

        norm_first=False (post-norm, as in the paper):
            x = LayerNorm(x + Dropout(MHA(x, x)))
            y = LayerNorm(x + Dropout(FFN(x)))
        norm_first=True (pre-norm, as in GPT-2 and most models since):
            x = x + Dropout(MHA(LayerNorm(x), LayerNorm(x)))
            y = x + Dropout(FFN(LayerNorm(x)))

    Attention is the only place where steps exchange information; the residuals keep each step's
    own content, and the normalisations keep the scale of the sum steady through a stack of blocks.
    Pre-norm leaves the residual path untouched, which makes deep stacks easier to train; such a
    stack usually ends with one more LayerNorm.

    Args:
        num_heads: attention heads.
        key_dim: width of each head's queries and keys (and values).
        ff_dim: width of the feed-forward network's hidden layer (often 4 × d_model).
        dropout: rate of the attention-weight dropout and of the dropout on both residual branches.
        norm_first: False for post-norm, True for pre-norm (see above).
        activation: of the feed-forward hidden layer.
        num_key_value_heads: key/value heads of the attention (grouped-query attention, see
            `MultiHeadAttention`). None: one per head, plain multi-head attention.
        layer_norm_epsilon: added to the variance in both LayerNorms.
        kernel_initializer, bias_initializer: for the attention projections and the two Dense layers.
        seed: seed of the dropout.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `(batch, steps, d_model)`; d_model must be known.
        mask: optional boolean `(batch, steps)`, True at real steps. Padded steps get exactly zero
            attention, as keys and as queries. Filled in from the implicit Keras mask (for example
            from `Embedding(mask_zero=True)`), and passed on to the output.
        training: whether dropout is applied.
        use_causal_mask: if True, step i may only attend to steps j <= i (a decoder block).
        return_attention_scores: if True, also return the weights `(batch, num_heads, steps, steps)`.

    Returns:
        `(batch, steps, d_model)`, or `(output, weights)`.

    Attributes (after build):
        attention, attention_norm, feed_forward_in, feed_forward_out, feed_forward_norm: the
        sublayers, in the order of `weights`, so a notebook can show or check each step.

    Example:
        >>> import keras
        >>> from attention_helpers.layers import TransformerBlock
        >>> tokens = keras.Input(shape=(None,), dtype="int32")
        >>> x = keras.layers.Embedding(1000, 32, mask_zero=True)(tokens)
        >>> y, weights = TransformerBlock(num_heads=4, key_dim=8, ff_dim=64)(x, return_attention_scores=True)
        >>> tuple(y.shape), tuple(weights.shape)
        ((None, None, 32), (None, 4, None, None))

    References:
        Ashish Vaswani et al., "Attention Is All You Need", https://arxiv.org/abs/1706.03762
        Ruibin Xiong et al., "On Layer Normalization in the Transformer Architecture" (pre-norm),
        https://arxiv.org/abs/2002.04745
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        ff_dim,
        dropout=0.0,
        norm_first=False,
        activation="relu",
        num_key_value_heads=None,
        layer_norm_epsilon=1e-5,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_int("num_heads", num_heads, minimum=1)
        self.key_dim = check_int("key_dim", key_dim, minimum=1)
        self.ff_dim = check_int("ff_dim", ff_dim, minimum=1)
        self.dropout = check_rate("dropout", dropout)
        self.norm_first = check_bool("norm_first", norm_first)
        self.activation = keras.activations.get(activation)
        self.num_key_value_heads = (None if num_key_value_heads is None
                                    else check_int("num_key_value_heads", num_key_value_heads, minimum=1))
        if (
            isinstance(layer_norm_epsilon, bool)
            or not isinstance(layer_norm_epsilon, numbers.Real)
            or layer_norm_epsilon <= 0
        ):
            raise ValueError(
                f"`layer_norm_epsilon` must be a positive number. Received: layer_norm_epsilon={layer_norm_epsilon!r}"
            )
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.seed = seed
        self.supports_masking = True

    def _sublayer_args(self):
        return {
            "kernel_initializer": fresh_initializer(self.kernel_initializer),
            "bias_initializer": fresh_initializer(self.bias_initializer),
            "dtype": self.dtype_policy,
        }

    def _layer_norm(self, name):
        return keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name)

    def build(self, input_shape):
        check_rank(self, input_shape, 3, "(batch, steps, d_model)")
        check_known(self, input_shape, 2, "model width d_model")
        input_shape = tuple(input_shape)
        self.attention = MultiHeadAttention(
            self.num_heads,
            self.key_dim,
            dropout=self.dropout,
            seed=self.seed,
            name="attention",
            **({} if self.num_key_value_heads is None else {"num_key_value_heads": self.num_key_value_heads}),
            **self._sublayer_args(),
        )
        self.attention.build(input_shape, input_shape)
        self.attention_norm = self._layer_norm("attention_norm")
        self.attention_norm.build(input_shape)
        self.feed_forward_in = keras.layers.Dense(
            self.ff_dim, activation=self.activation, name="feed_forward_in", **self._sublayer_args()
        )
        self.feed_forward_in.build(input_shape)
        self.feed_forward_out = keras.layers.Dense(input_shape[-1], name="feed_forward_out", **self._sublayer_args())
        self.feed_forward_out.build((*input_shape[:-1], self.ff_dim))
        self.feed_forward_norm = self._layer_norm("feed_forward_norm")
        self.feed_forward_norm.build(input_shape)
        self.dropout_layer = keras.layers.Dropout(self.dropout, seed=self.seed, dtype=self.dtype_policy)

    def _attend(self, x, mask, training, use_causal_mask):
        # Self-attention: x is the query, the key and the value; `mask` hides padded steps as both.
        return self.attention(
            x,
            x,
            query_mask=mask,
            value_mask=mask,
            use_causal_mask=use_causal_mask,
            return_attention_scores=True,
            training=training,
        )  # (batch, steps, d_model), (batch, heads, steps, steps)

    def _feed_forward(self, x, training):
        hidden = self.feed_forward_in(x, training=training)  # (batch, steps, ff_dim)
        return self.dropout_layer(self.feed_forward_out(hidden, training=training), training=training)

    def call(self, inputs, mask=None, training=None, use_causal_mask=False, return_attention_scores=False):
        if mask is not None:
            check_sequence_mask(self, inputs.shape, mask)
        x = inputs  # (batch, steps, d_model)
        if self.norm_first:
            normed = self.attention_norm(x, training=training)
            attended, weights = self._attend(normed, mask, training, use_causal_mask)
            x = x + self.dropout_layer(attended, training=training)
            outputs = x + self._feed_forward(self.feed_forward_norm(x, training=training), training)
        else:
            attended, weights = self._attend(x, mask, training, use_causal_mask)
            x = self.attention_norm(x + self.dropout_layer(attended, training=training), training=training)
            outputs = self.feed_forward_norm(x + self._feed_forward(x, training), training=training)
        if return_attention_scores:
            return outputs, weights
        return outputs

    def compute_output_shape(self, input_shape, return_attention_scores=False):
        output = tuple(input_shape)
        if return_attention_scores:
            return output, (output[0], self.num_heads, output[1], output[1])
        return output

    def compute_output_spec(
        self, inputs, mask=None, training=None, use_causal_mask=False, return_attention_scores=False
    ):
        shapes = self.compute_output_shape(tuple(inputs.shape), return_attention_scores)
        return output_spec(self, shapes, return_attention_scores)

    def get_config(self):
        base_config = super().get_config()
        config = {
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "ff_dim": self.ff_dim,
            "dropout": self.dropout,
            "norm_first": self.norm_first,
            "activation": keras.activations.serialize(self.activation),
            "num_key_value_heads": self.num_key_value_heads,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "seed": self.seed,
        }
        return {**base_config, **config}
