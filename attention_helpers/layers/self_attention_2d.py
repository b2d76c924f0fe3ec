"""`SelfAttention2D`: SAGAN self-attention over every position of a feature map, with 1×1 convolutions."""

from __future__ import annotations

import keras
from keras import ops

from attention_helpers._validation import check_bool, check_int
from attention_helpers.layers._common import SERIALIZATION_PACKAGE, check_rank, output_spec, stable_softmax


def fused_attention(query, key, value):
    """Unscaled softmax attention through `keras.ops.dot_product_attention`, for any head widths.

    Args:
        query: `(batch, N, heads, dk)`; key: `(batch, Nk, heads, dk)`; value: `(batch, Nk, heads, dv)`.

    Returns:
        `(batch, N, heads, dv)`: `softmax(query · keyᵀ) · value` per head, scale 1 (SAGAN's scores).

    `dot_product_attention` needs one width for queries, keys and values on some backends (JAX);
    SAGAN's queries and keys are narrower (C/8) than its values (C). Padding the narrower side with
    zero channels changes no score (zeros add nothing to a dot product) and no output.
    """
    key_width, value_width = query.shape[-1], value.shape[-1]
    if key_width < value_width:
        padding = [[0, 0], [0, 0], [0, 0], [0, value_width - key_width]]
        query, key = ops.pad(query, padding), ops.pad(key, padding)
    elif value_width < key_width:
        value = ops.pad(value, [[0, 0], [0, 0], [0, 0], [0, key_width - value_width]])
    attended = ops.dot_product_attention(query, key, value, scale=1.0)
    return attended[..., :value_width]


def default_key_channels(channels, num_heads):
    """SAGAN's C/8 key channels (at least 1), rounded up to the next multiple of `num_heads`.

    So that the head count never makes a valid channel count fail: 16 channels give 2 key channels,
    or 4 with 4 heads (each head then has 1 key channel).
    """
    sagan = max(1, channels // 8)
    return -(-sagan // num_heads) * num_heads


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class SelfAttention2D(keras.layers.Layer):
    """Self-attention for images (SAGAN): every position can look at every other position.

    For a feature map `x` of shape `(batch, H, W, C)` with N = H·W positions:

        query(x), key(x), value(x)   1×1 convolutions: queries and keys (C/8 channels), values (`filters`)
        s[j, i] = query(x_j) · key(x_i)                            scores, (N × N) per head
        beta[j, :] = softmax over all i of s[j, :]                 position j attends to every i
        o_j = sum_i beta[j, i] value(x_i)
        y = gamma · o + x                                          gamma is trainable, starts at 0

    In the paper's letters, s_ij = f(x_i)ᵀ g(x_j) with j the query: its g makes the queries (`query`
    here), its f the keys (`key`) and its h the values (`value`). With `output_projection=True`, a
    fourth 1×1 convolution (the paper's v, `projection` here) maps the attention output before gamma,
    `y = gamma · v(o) + x`, as in the paper's later version and SAGAN's official code.

    The positions are flattened before the softmax, so attention spans the whole map (not one row).
    At gamma = 0 the layer returns its input exactly: the residual path has no bias or projection.
    With `filters` different from the input channels (for example a model's first layer,
    `filters=8` on `(28, 28, 1)`), the residual is a bias-free 1×1 projection of `x` instead, since
    `x` has the wrong number of channels to be added.

    When attention scores are not requested, the layer calls `keras.ops.dot_product_attention`,
    which on backends with a fused kernel (JAX on a GPU, for example) never builds the N × N matrix.

    Args:
        filters: output channels (`value`'s channels). None: as many as the input.
        key_channels: channels of `query` and `key`. None: `max(1, filters // 8)`, as in SAGAN, rounded up
            to the next multiple of `num_heads` (16 channels and 4 heads: 4 key channels, not 2).
        num_heads: split queries, keys and values into this many heads; the output shape does not
            change. It must divide `filters` (each head gets an equal share of the values) and an
            explicit `key_channels`; the default `key_channels` always fits it.
        activation: applied to `query`, `key` and `value` (default linear, as in SAGAN).
        gamma_initializer: initial value of gamma (default 0.0); learned during training.
        pool_keys_values: 2×2 max-pool `key(x)` and `value(x)` (SAGAN's official code), 4× fewer keys.
        spectral_normalization: wrap the 1×1 convolutions in `keras.layers.SpectralNormalization`.
        output_projection: apply a 1×1 convolution, `projection` (`filters` to `filters` channels), to the
            attention output before gamma (the paper's later version, arXiv v2). Default False.
        use_bias: whether `query`, `key`, `value` (and `projection`) have biases.
        kernel_initializer, kernel_regularizer: for the 1×1 convolutions.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `(batch, H, W, C)`; H and W may be unknown (`keras.Input(shape=(None, None, C))`).
        return_attention_scores: if True, also return `beta`, `(batch, heads, H·W, keys)` where
            keys = H·W, or about H·W/4 with `pool_keys_values`.

    Returns:
        `y` of shape `(batch, H, W, filters)`, or `(y, beta)`.

    Attributes (after build):
        query, key, value: the 1×1 convolutions (the paper's g, f, h), so a notebook can show each step.
        projection: the output projection (the paper's v), or None without `output_projection`.
        gamma: the trainable scalar weight of the attention branch.

    Example:
        >>> import keras
        >>> from attention_helpers.layers import SelfAttention2D
        >>> inputs = keras.Input(shape=(None, None, 64))
        >>> outputs = SelfAttention2D()(inputs)   # same shape as the input

    References:
        Han Zhang, Ian Goodfellow, Dimitris Metaxas, Augustus Odena, "Self-Attention Generative
        Adversarial Networks", https://arxiv.org/abs/1805.08318
    """

    def __init__(
        self,
        filters=None,
        key_channels=None,
        num_heads=1,
        activation=None,
        gamma_initializer=0.0,
        pool_keys_values=False,
        spectral_normalization=False,
        output_projection=False,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = None if filters is None else check_int("filters", filters, minimum=1)
        self.key_channels = None if key_channels is None else check_int("key_channels", key_channels, minimum=1)
        self.num_heads = check_int("num_heads", num_heads, minimum=1)
        self.activation = keras.activations.get(activation)
        if isinstance(gamma_initializer, bool) or not isinstance(gamma_initializer, (int, float)):
            raise TypeError(
                "`gamma_initializer` must be a number (the initial gamma). "
                f"Received: gamma_initializer={gamma_initializer!r}"
            )
        self.gamma_initializer = float(gamma_initializer)
        for name, value in (
            ("pool_keys_values", pool_keys_values),
            ("spectral_normalization", spectral_normalization),
            ("output_projection", output_projection),
            ("use_bias", use_bias),
        ):
            check_bool(name, value)
        self.pool_keys_values = bool(pool_keys_values)
        self.spectral_normalization = bool(spectral_normalization)
        self.output_projection = bool(output_projection)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def _conv(self, channels, name, use_bias, input_shape):
        conv = keras.layers.Conv2D(
            channels,
            1,
            use_bias=use_bias,
            kernel_initializer=self.kernel_initializer,
            kernel_regularizer=self.kernel_regularizer,
            dtype=self.dtype_policy,
            name=name,
        )
        if self.spectral_normalization:
            conv = keras.layers.SpectralNormalization(conv, dtype=self.dtype_policy, name=f"{name}_sn")
        conv.build(input_shape)
        return conv

    def build(self, input_shape):
        check_rank(self, input_shape, 4, "(batch, height, width, channels)")
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                "SelfAttention2D needs the number of channels (last axis) to be known. "
                f"Received: inputs.shape={tuple(input_shape)}"
            )
        self.value_channels = self.filters or channels
        self.query_channels = self.key_channels or default_key_channels(self.value_channels, self.num_heads)
        for what, size in (("key_channels", self.query_channels), ("filters", self.value_channels)):
            if size % self.num_heads:
                raise ValueError(f"`num_heads` must divide {what} ({size}). Received: num_heads={self.num_heads}")
        # Created in this order (the order of the layer's weights): queries, keys, values, projection.
        self.query = self._conv(self.query_channels, "query", self.use_bias, input_shape)
        self.key = self._conv(self.query_channels, "key", self.use_bias, input_shape)
        self.value = self._conv(self.value_channels, "value", self.use_bias, input_shape)
        self.projection = None
        if self.output_projection:
            attended_shape = (*tuple(input_shape)[:3], self.value_channels)
            self.projection = self._conv(self.value_channels, "projection", self.use_bias, attended_shape)
        # Residual: x itself when shapes match (so gamma = 0 is the identity), else a bias-free projection.
        self.residual = None
        if self.value_channels != channels:
            self.residual = self._conv(self.value_channels, "residual_projection", False, input_shape)
        self.pool = (
            keras.layers.MaxPooling2D(2, padding="same", dtype=self.dtype_policy) if self.pool_keys_values else None
        )
        self.gamma = self.add_weight(
            name="gamma", shape=(), initializer=keras.initializers.Constant(self.gamma_initializer)
        )

    def _heads(self, x, channels):
        # (batch, h, w, channels) -> (batch, h*w, heads, channels // heads)
        shape = ops.shape(x)
        return ops.reshape(x, (shape[0], shape[1] * shape[2], self.num_heads, channels // self.num_heads))

    def call(self, inputs, return_attention_scores=False, training=None):
        shape = ops.shape(inputs)
        query = self.activation(self.query(inputs, training=training))
        key = self.activation(self.key(inputs, training=training))
        value = self.activation(self.value(inputs, training=training))
        if self.pool is not None:
            key, value = self.pool(key), self.pool(value)
        query = self._heads(query, self.query_channels)  # (batch, N, heads, dk)
        key = self._heads(key, self.query_channels)  # (batch, Nk, heads, dk)
        value = self._heads(value, self.value_channels)  # (batch, Nk, heads, dv)
        if return_attention_scores:
            scores = ops.einsum("bqhd,bkhd->bhqk", query, key)  # (batch, heads, N, Nk)
            beta = stable_softmax(scores, axis=-1)
            attended = ops.einsum("bhqk,bkhd->bqhd", beta, value)  # (batch, N, heads, dv)
        else:
            attended = fused_attention(query, key, value)
        attended = ops.reshape(attended, (shape[0], shape[1], shape[2], self.value_channels))  # (batch, H, W, filters)
        if self.projection is not None:
            attended = self.projection(attended, training=training)
        residual = inputs if self.residual is None else self.residual(inputs, training=training)
        outputs = ops.cast(self.gamma, attended.dtype) * attended + residual
        if return_attention_scores:
            return outputs, beta
        return outputs

    def compute_output_shape(self, input_shape, return_attention_scores=False):
        channels = self.filters or input_shape[-1]
        output = (*tuple(input_shape)[:3], channels)
        if not return_attention_scores:
            return output
        height, width = input_shape[1], input_shape[2]
        positions = None if height is None or width is None else height * width
        keys = positions
        if self.pool_keys_values and positions is not None:
            keys = ((height + 1) // 2) * ((width + 1) // 2)
        return output, (input_shape[0], self.num_heads, positions, keys)

    def compute_output_spec(self, inputs, return_attention_scores=False, training=None):
        shapes = self.compute_output_shape(tuple(inputs.shape), return_attention_scores)
        return output_spec(self, shapes, return_attention_scores)

    def get_config(self):
        base_config = super().get_config()
        config = {
            "filters": self.filters,
            "key_channels": self.key_channels,
            "num_heads": self.num_heads,
            "activation": keras.activations.serialize(self.activation),
            "gamma_initializer": self.gamma_initializer,
            "pool_keys_values": self.pool_keys_values,
            "spectral_normalization": self.spectral_normalization,
            "output_projection": self.output_projection,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        }
        return {**base_config, **config}
