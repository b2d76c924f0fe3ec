"""`TransformerBlock`: self-attention and a feed-forward network, each with a residual and LayerNorm."""

from __future__ import annotations

import numbers

import keras

from attention_helpers._validation import check_bool, check_key_value_heads, check_layer_int, check_rate
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
        # The checks of MultiHeadAttention: a ValueError for a non-integer, at construction, not the first call.
        self.num_heads = check_layer_int("num_heads", num_heads)
        self.key_dim = check_layer_int("key_dim", key_dim)
        self.ff_dim = check_layer_int("ff_dim", ff_dim)
        self.dropout = check_rate("dropout", dropout)
        self.norm_first = check_bool("norm_first", norm_first)
        self.activation = keras.activations.get(activation)
        self.num_key_value_heads = check_key_value_heads(self.num_heads, num_key_value_heads)
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
        self._build_sublayers(tuple(input_shape), tuple(input_shape))

    def _build_sublayers(self, input_shape, key_value_shape):
        """The sublayers; the attention's keys and values have `key_value_shape` (the input's, or a context's)."""
        self.attention = MultiHeadAttention(
            self.num_heads,
            self.key_dim,
            dropout=self.dropout,
            seed=self.seed,
            name="attention",
            **({} if self.num_key_value_heads is None else {"num_key_value_heads": self.num_key_value_heads}),
            **self._sublayer_args(),
        )
        self.attention.build(input_shape, key_value_shape)
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


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class CrossAttentionBlock(TransformerBlock):
    """A Transformer decoder's cross-attention block: queries from the decoder, keys and values from an encoder.

    The same block as `TransformerBlock` (attention, then a feed-forward net, each with a residual and
    LayerNorm, post-norm or pre-norm), except that the attention reads a second sequence, the
    `context` (the encoder's output), instead of `inputs` itself:

        norm_first=False:  x = LayerNorm(x + Dropout(MHA(query=x, key=value=context)))
                           y = LayerNorm(x + Dropout(FFN(x)))
        norm_first=True:   x = x + Dropout(MHA(query=LayerNorm(x), key=value=context))
                           y = x + Dropout(FFN(LayerNorm(x)))

    Each decoder step (a query) gets a weighted average of the encoder's steps: the weights
    `(batch, heads, target_steps, source_steps)` say which source steps it read, which is what
    translation models show as an alignment. In pre-norm the context is not normalised here: an
    encoder stack of pre-norm blocks ends with its own LayerNorm. A Transformer decoder layer
    (Vaswani et al.) is a causal `TransformerBlock` (self-attention over the target so far) followed
    by this block; the two feed-forward nets are one more than the paper's layer has.

    Args:
        Those of `TransformerBlock`.

    Call arguments:
        inputs: the decoder's sequence `(batch, target_steps, d_model)`; d_model must be known.
        context: the encoder's output `(batch, source_steps, context_dim)`; context_dim must be known
            (it may differ from d_model).
        mask: optional boolean `(batch, target_steps)`, True at real target steps; padded target
            steps get all-zero weights. Filled in from the implicit Keras mask of `inputs`, and
            passed on to the output.
        context_mask: optional boolean `(batch, source_steps)`, True at real source steps: padded
            source steps get exactly zero weight. Pass it explicitly (Keras's implicit mask reaches
            only `inputs`).
        training: whether dropout is applied.
        return_attention_scores: if True, also return the weights `(batch, num_heads, target_steps,
            source_steps)`.

    Returns:
        `(batch, target_steps, d_model)`, or `(output, weights)`.

    Example:
        >>> import keras
        >>> from attention_helpers.layers import CrossAttentionBlock
        >>> target, source = keras.random.normal((2, 7, 16)), keras.random.normal((2, 5, 16))
        >>> source_mask = keras.ops.array([[True] * 5, [True] * 3 + [False] * 2])
        >>> y, weights = CrossAttentionBlock(num_heads=2, key_dim=8, ff_dim=32)(
        ...     target, source, context_mask=source_mask, return_attention_scores=True)
        >>> tuple(y.shape), tuple(weights.shape)
        ((2, 7, 16), (2, 2, 7, 5))

    References:
        Ashish Vaswani et al., "Attention Is All You Need", https://arxiv.org/abs/1706.03762
        Dzmitry Bahdanau, Kyunghyun Cho, Yoshua Bengio, "Neural Machine Translation by Jointly Learning
        to Align and Translate", https://arxiv.org/abs/1409.0473
    """

    def build(self, inputs_shape, context_shape):
        check_rank(self, inputs_shape, 3, "(batch, target_steps, d_model)")
        check_known(self, inputs_shape, 2, "model width d_model")
        check_rank(self, context_shape, 3, "(batch, source_steps, context_dim)", argument="context")
        check_known(self, context_shape, 2, "context width", argument="context")
        self._check_batch(inputs_shape, context_shape)
        self._build_sublayers(tuple(inputs_shape), tuple(context_shape))

    def _check_batch(self, inputs_shape, context_shape):
        batch, context_batch = inputs_shape[0], context_shape[0]
        if batch is not None and context_batch is not None and batch != context_batch:
            raise ValueError(
                "CrossAttentionBlock needs inputs and context with the same batch size. "
                f"Received: inputs.shape={tuple(inputs_shape)}, context.shape={tuple(context_shape)}"
            )

    def call(self, inputs, context, mask=None, context_mask=None, training=None, return_attention_scores=False):
        self._check_batch(inputs.shape, context.shape)
        if mask is not None:
            check_sequence_mask(self, inputs.shape, mask)
        if context_mask is not None:
            check_sequence_mask(self, context.shape, context_mask, argument="context_mask", inputs_name="context")
        x = inputs  # (batch, target_steps, d_model)

        def attend(queries):  # (batch, target_steps, d_model), (batch, heads, target_steps, source_steps)
            return self.attention(queries, context, query_mask=mask, value_mask=context_mask,
                                  return_attention_scores=True, training=training)

        if self.norm_first:
            attended, weights = attend(self.attention_norm(x, training=training))
            x = x + self.dropout_layer(attended, training=training)
            outputs = x + self._feed_forward(self.feed_forward_norm(x, training=training), training)
        else:
            attended, weights = attend(x)
            x = self.attention_norm(x + self.dropout_layer(attended, training=training), training=training)
            outputs = self.feed_forward_norm(x + self._feed_forward(x, training), training=training)
        if return_attention_scores:
            return outputs, weights
        return outputs

    def compute_output_shape(self, inputs_shape, context_shape, return_attention_scores=False):
        output = tuple(inputs_shape)
        if return_attention_scores:
            return output, (output[0], self.num_heads, output[1], tuple(context_shape)[1])
        return output

    def compute_output_spec(self, inputs, context, mask=None, context_mask=None, training=None,
                            return_attention_scores=False):
        shapes = self.compute_output_shape(tuple(inputs.shape), tuple(context.shape), return_attention_scores)
        return output_spec(self, shapes, return_attention_scores)
