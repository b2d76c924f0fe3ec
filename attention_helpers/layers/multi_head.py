"""`MultiHeadAttention`: Transformer attention written out for teaching, equal to `keras.layers.MultiHeadAttention`.

With `num_key_value_heads` (grouped-query attention), `sliding_window` and `rotary` it also covers
what `keras.layers.GroupQueryAttention` and today's decoder-only models add to it.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from attention_helpers._validation import check_bool, check_key_value_heads, check_layer_int, check_rate
from attention_helpers.layers._common import (
    SERIALIZATION_PACKAGE,
    KernelBiasArgs,
    check_known,
    check_rank,
    check_sequence_mask,
    check_start_index,
    output_spec,
    stable_softmax,
)
from attention_helpers.layers.rotary import RotaryPositionEmbedding, check_max_wavelength


def _as_shape(name, shape):
    """A shape given to `build` or `compute_output_shape`: a tuple or list (a TensorShape too), as a tuple."""
    if shape is None or isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise ValueError(f"`{name}` must be a shape (a tuple or list). Received: {name}={shape!r}")
    return tuple(shape)


def _check_output_shape(output_shape):
    """None, a positive int, or a tuple/list of positive ints; returned as None or a tuple."""
    if output_shape is None:
        return None
    dims = output_shape if isinstance(output_shape, (list, tuple)) else (output_shape,)
    if not dims:
        raise ValueError(
            f"`output_shape` must be None, an integer or a tuple of integers. Received: output_shape={dims}"
        )
    return tuple(check_layer_int("output_shape", dim) for dim in dims)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class MultiHeadAttention(KernelBiasArgs, keras.layers.Layer):
    """Multi-head scaled dot-product attention (Vaswani et al.), with optional grouped keys and values, window and RoPE.

    Every head h has its own learned projections of the query, key and value, attends with scaled
    dot products, and the heads' results are concatenated and projected back:

        q_h = query W_q[h] + b_q[h]        (batch, Tq, key_dim)        for each of `num_heads` heads
        k_h = key   W_k[h] + b_k[h]        (batch, Tv, key_dim)
        v_h = value W_v[h] + b_v[h]        (batch, Tv, value_dim)
        weights_h = softmax over Tv of q_h k_hᵀ / sqrt(key_dim)          (batch, Tq, Tv)
        head_h = weights_h v_h                                           (batch, Tq, value_dim)
        output = concat(head_1, ..., head_H) W_o + b_o                   (batch, Tq, output_shape)

    The weights have the layout of `keras.layers.MultiHeadAttention` (query, key, value kernels
    `(features, num_heads, key_dim or value_dim)`, output kernel `(num_heads, value_dim, *output)`,
    in the same order), so `layer.set_weights(keras_layer.get_weights())` copies a Keras layer into
    this one, and the two then give the same outputs and scores. Differences, all deliberate:

    - a query row whose keys are all masked gets all-zero weights (its output is the output bias).
      Keras does the same when it returns scores; when it does not, it calls
      `keras.ops.dot_product_attention`, which gives such a row uniform weights over every value;
    - an explicit `query_mask=` is honoured (Keras's layer reads only the query's implicit mask);
    - `attention_mask` must be `(batch, Tq, Tv)`, `(1, Tq, Tv)` or `(Tq, Tv)`; other shapes that
      Keras lets broadcast, such as `(batch, 1, Tv)`, raise a `ValueError` here;
    - inputs are `(batch, steps, features)`: there is no `attention_axes`, `use_gate` or
      `flash_attention`;
    - symbolic scores have shape `(batch, heads, Tq, Tv)` (Keras declares `(batch, heads, Tq, Tq)`);
    - what sits at a masked step never reaches the output: a key/value step that no query may see and
      a query step that may see no key are zeroed before the products, so a NaN or inf there changes
      nothing (in Keras's layer, 0 × NaN makes every output NaN);
    - a float64 layer computes its softmax in float64, as accurate as float64 NumPy.

    Three options, all off by default (the layer is then exactly the one above):

    - **Grouped-query attention** (`num_key_value_heads`, Ainslie et al. 2023): only
      `num_key_value_heads` key and value heads are projected, and query head h uses key/value head
      `h // (num_heads // num_key_value_heads)`. The key and value kernels become
      `(features, num_key_value_heads, key_dim or value_dim)` and their biases
      `(num_key_value_heads, dim)`; a KV cache shrinks by `num_heads / num_key_value_heads`.
      `num_key_value_heads=1` is multi-query attention (Shazeer 2019). With `value_dim=None`,
      `output_shape=None` and the same three arguments the layer equals
      `keras.layers.GroupQueryAttention(head_dim=key_dim, num_query_heads=num_heads,
      num_key_value_heads=...)`: its weights come in the same order and shapes, so
      `layer.set_weights(keras_layer.get_weights())` copies one into the other.
    - **Sliding window** (`sliding_window=w`, as in Longformer, Beltagy et al. 2020, and Mistral):
      query i may attend only to keys j with `|i − j| < w`, a band of `2w − 1` keys; with
      `use_causal_mask=True` that leaves `i − w < j <= i`, the w most recent keys. This is the
      band of `keras.layers.GroupQueryAttention(sliding_window=w)` and
      `keras.layers.MultiHeadAttention(sliding_window=w)` (added in Keras 3.15; Keras 3.13 has
      neither). It is ANDed with every other mask; weights outside it are exactly zero.
    - **Rotary positions** (`rotary=True`, Su et al. 2021): a `RotaryPositionEmbedding` (half-split
      pairs) rotates each head's projected queries and keys before the scores, so the scores
      depend on relative positions. `key_dim` must then be even.

    Positions. Query step i is at position `query_start_index + i` and key step j at
    `key_start_index + j` (call arguments, both 0 by default, as in Keras). The rotary angles, the
    causal mask (`key position <= query position`) and the sliding window
    (`|query position − key position| < w`) all use these positions, so a decoder with a cache can
    pass one new query step at position t (`query_start_index=t`) against keys that start at 0, or
    only the last w cached keys (`key_start_index=t − w + 1`) with a sliding window, and get the
    rows of the full computation.

    Args:
        num_heads: number of attention heads.
        key_dim: width of each head's queries and keys.
        value_dim: width of each head's values. None: `key_dim`.
        dropout: fraction of attention weights dropped in training.
        use_bias: whether the four projections have biases.
        output_shape: trailing shape of the output (an int or a tuple). None: the query's features.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
            kernel_constraint, bias_constraint: for the four projections, as in `keras.layers.Dense`.
        seed: seed of the dropout.
        num_key_value_heads: number of key and value heads; `num_heads` must be a multiple of it.
            None: `num_heads` (plain multi-head attention). 1: multi-query attention.
        sliding_window: None (every key), or an int w >= 1: query i sees only keys j with
            `|i − j| < w` (and, with the causal mask, `i − w < j <= i`).
        rotary: whether to rotate the projected queries and keys with rotary position embeddings.
        rotary_max_wavelength: the base of the rotary frequencies (10000 in the paper).
        **kwargs: base layer arguments.

    Integer arguments that are not integers (2.5, "4") raise a `ValueError` naming the argument.

    Call arguments:
        query: `(batch, Tq, features)`.
        value: `(batch, Tv, value_features)`.
        key: optional `(batch, Tv, key_features)`; the value when not given.
        query_mask: optional boolean `(batch, Tq)`; masked query steps attend to nothing. Filled in
            from the query's implicit Keras mask (for example from `Embedding(mask_zero=True)`).
        value_mask: optional boolean `(batch, Tv)`; masked value steps get exactly zero weight.
            Filled in from the value's implicit mask.
        key_mask: optional boolean `(batch, Tv)`, like `value_mask`, from the key's implicit mask.
        attention_mask: optional boolean `(batch, Tq, Tv)`: True where query i may look at key j.
            `(1, Tq, Tv)` or `(Tq, Tv)` is broadcast over the batch, as in
            `keras.layers.MultiHeadAttention`, so one causal or padding pattern can serve every
            sequence. Any other shape raises a `ValueError`.
        return_attention_scores: if True, also return the weights `(batch, num_heads, Tq, Tv)`
            (before dropout, as Keras returns them).
        training: whether dropout is applied.
        use_causal_mask: if True, query step i may only look at value steps j <= i (by position,
            see `query_start_index`).
        query_start_index: position of the first query step (an int or an integer tensor of shape ()).
            Default 0.
        key_start_index: position of the first key and value step. Default 0.

    Returns:
        `output` `(batch, Tq, *output_shape)`, or `(output, weights)`.

    Attributes (after build):
        query_kernel, key_kernel, value_kernel, output_kernel, and the matching `*_bias` (None
        without biases): W_q, W_k, W_v, W_o and their biases, so a notebook can show each step.
        rotary_embedding: the `RotaryPositionEmbedding` applied to queries and keys (None unless
        `rotary=True`).

    Example:
        >>> import keras
        >>> from attention_helpers.layers import MultiHeadAttention
        >>> query, value = keras.Input(shape=(5, 16)), keras.Input(shape=(7, 16))
        >>> layer = MultiHeadAttention(num_heads=4, key_dim=8)
        >>> output, weights = layer(query, value, return_attention_scores=True)
        >>> tuple(output.shape), tuple(weights.shape)
        ((None, 5, 16), (None, 4, 5, 7))
        >>> # Two key/value heads shared by four query heads, a causal window of 3, rotary positions.
        >>> decoder = MultiHeadAttention(4, 8, num_key_value_heads=2, sliding_window=3, rotary=True)
        >>> tuple(decoder(query, query, use_causal_mask=True).shape)
        (None, 5, 16)

    References:
        Ashish Vaswani, Noam Shazeer, Niki Parmar, Jakob Uszkoreit, Llion Jones, Aidan N. Gomez,
        Łukasz Kaiser, Illia Polosukhin, "Attention Is All You Need", https://arxiv.org/abs/1706.03762

        Noam Shazeer, "Fast Transformer Decoding: One Write-Head is All You Need", 2019,
        https://arxiv.org/abs/1911.02150

        Joshua Ainslie, James Lee-Thorp, Michiel de Jong, Yury Zemlyanskiy, Federico Lebrón, Sumit
        Sanghai, "GQA: Training Generalized Multi-Query Transformer Models from Multi-Head
        Checkpoints", 2023, https://arxiv.org/abs/2305.13245

        Iz Beltagy, Matthew E. Peters, Arman Cohan, "Longformer: The Long-Document Transformer",
        2020, https://arxiv.org/abs/2004.05150

        Jianlin Su, Yu Lu, Shengfeng Pan, Ahmed Murtadha, Bo Wen, Yunfeng Liu, "RoFormer: Enhanced
        Transformer with Rotary Position Embedding", 2021, https://arxiv.org/abs/2104.09864
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        seed=None,
        num_key_value_heads=None,
        sliding_window=None,
        rotary=False,
        rotary_max_wavelength=10000,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_layer_int("num_heads", num_heads)
        self.key_dim = check_layer_int("key_dim", key_dim)
        self.value_dim = self.key_dim if value_dim is None else check_layer_int("value_dim", value_dim)
        self.dropout = check_rate("dropout", dropout)
        self.use_bias = check_bool("use_bias", use_bias)
        # Not `self.output_shape`: Keras's model summary reads an attribute of that name as the
        # layer's own output shape.
        self._output_shape = _check_output_shape(output_shape)
        self._set_weight_args(
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        self.seed = seed
        self.num_key_value_heads = check_key_value_heads(self.num_heads, num_key_value_heads) or self.num_heads
        self.sliding_window = None if sliding_window is None else check_layer_int("sliding_window", sliding_window)
        self.rotary = check_bool("rotary", rotary)
        self.rotary_max_wavelength = check_max_wavelength("rotary_max_wavelength", rotary_max_wavelength)
        if self.rotary and self.key_dim % 2:
            raise ValueError(
                "`key_dim` must be even when `rotary=True` (features are rotated in pairs). "
                f"Received: key_dim={self.key_dim}"
            )
        self.dropout_layer = keras.layers.Dropout(self.dropout, seed=seed, dtype=self.dtype_policy)
        self.rotary_embedding = (
            RotaryPositionEmbedding(self.rotary_max_wavelength, dtype=self.dtype_policy) if self.rotary else None
        )
        self.supports_masking = True

    def _check_shapes(self, query_shape, value_shape, key_shape):
        query_shape, value_shape = _as_shape("query_shape", query_shape), _as_shape("value_shape", value_shape)
        key_shape = value_shape if key_shape is None else _as_shape("key_shape", key_shape)
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            check_rank(self, shape, 3, "(batch, steps, features)", argument=name)
            check_known(self, shape, 2, "number of features", argument=name)
        for name, shape in (("value", value_shape), ("key", key_shape)):
            if query_shape[0] is not None and shape[0] is not None and query_shape[0] != shape[0]:
                raise ValueError(
                    f"MultiHeadAttention needs query and {name} with the same batch size. "
                    f"Received: query.shape={query_shape}, {name}.shape={shape}"
                )
        if value_shape[1] is not None and key_shape[1] is not None and value_shape[1] != key_shape[1]:
            raise ValueError(
                "MultiHeadAttention needs key and value with the same number of steps. "
                f"Received: key.shape={key_shape}, value.shape={value_shape}"
            )
        return query_shape, value_shape, key_shape

    def build(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape, key_shape = self._check_shapes(query_shape, value_shape, key_shape)
        output_shape = self._output_shape or (query_shape[-1],)
        heads, kv_heads = self.num_heads, self.num_key_value_heads

        def projection(prefix, kernel_shape, bias_shape):
            return self._make_kernel_and_bias(kernel_shape, bias_shape if self.use_bias else None, prefix)

        # Created in the order of keras.layers.MultiHeadAttention's weights, so get/set_weights line up.
        self.query_kernel, self.query_bias = projection(
            "query_", (query_shape[-1], heads, self.key_dim), (heads, self.key_dim)
        )
        # Grouped-query attention: only `num_key_value_heads` key and value heads.
        self.key_kernel, self.key_bias = projection(
            "key_", (key_shape[-1], kv_heads, self.key_dim), (kv_heads, self.key_dim)
        )
        self.value_kernel, self.value_bias = projection(
            "value_", (value_shape[-1], kv_heads, self.value_dim), (kv_heads, self.value_dim)
        )
        self.output_kernel, self.output_bias = projection(
            "output_", (heads, self.value_dim, *output_shape), output_shape
        )

    def _project(self, x, kernel, bias):
        # (batch, T, features) · (features, heads, dim) -> (batch, T, heads, dim)
        projected = ops.einsum("btf,fnd->btnd", x, ops.cast(kernel, x.dtype))
        return projected if bias is None else projected + ops.cast(bias, x.dtype)

    def _check_attention_mask(self, query_shape, value_shape, mask_shape):
        """`(batch, Tq, Tv)`, `(1, Tq, Tv)` or `(Tq, Tv)`, as `keras.layers.MultiHeadAttention` broadcasts it.

        A None (unknown) dimension on either side is not checked; it is checked again when the
        layer is called on tensors of known shape.
        """
        batch, tq, tv = query_shape[0], query_shape[1], value_shape[1]
        received = tuple(mask_shape)
        if len(received) == 2:
            pairs = zip((tq, tv), received)
        elif len(received) == 3:
            # A batch dimension of 1 is shared by every sequence in the batch.
            pairs = zip((batch, tq, tv), (batch if received[0] == 1 else received[0], *received[1:]))
        else:
            pairs = None
        if pairs is None or any(e is not None and r is not None and e != r for e, r in pairs):
            raise ValueError(
                f"MultiHeadAttention expects `attention_mask` of shape (batch, Tq, Tv) = {(batch, tq, tv)}. "
                f"Received: attention_mask.shape={received}. One mask shared by the batch may also have "
                f"shape (1, Tq, Tv) = {(1, tq, tv)} or (Tq, Tv) = {(tq, tv)}."
            )

    def _position_mask(self, query_steps, key_steps, query_start_index, key_start_index, use_causal_mask):
        """Causal and sliding-window masks from positions, as a boolean `(1, Tq, Tv)`, or None.

        Query step i is at `query_start_index + i`, key step j at `key_start_index + j`; with both
        0 the causal mask is `causal_mask(Tq, Tv)` and the window that of Keras.
        """
        if not use_causal_mask and self.sliding_window is None:
            return None
        query_positions = ops.arange(query_steps, dtype="int32") + ops.cast(query_start_index, "int32")
        key_positions = ops.arange(key_steps, dtype="int32") + ops.cast(key_start_index, "int32")
        offset = query_positions[:, None] - key_positions[None, :]  # (Tq, Tv): how far back key j is
        mask = None
        if use_causal_mask:
            mask = ops.greater_equal(offset, 0)  # key position <= query position
        if self.sliding_window is not None:
            window = ops.less(ops.abs(offset), self.sliding_window)  # |i − j| < w
            mask = window if mask is None else ops.logical_and(mask, window)
        return mask[None]  # (1, Tq, Tv)

    def _attention_mask(
        self,
        query,
        value,
        key,
        query_mask,
        value_mask,
        key_mask,
        attention_mask,
        use_causal_mask,
        query_start_index=0,
        key_start_index=0,
    ):
        """AND of every mask given, as a boolean `(batch or 1, Tq or 1, Tv or 1)`, or None."""
        masks = []
        if query_mask is not None:
            check_sequence_mask(self, query.shape, query_mask, "query_mask", "query")
            masks.append(ops.cast(query_mask, "bool")[:, :, None])  # (batch, Tq, 1)
        for name, mask, tensor in (("value_mask", value_mask, value), ("key_mask", key_mask, key)):
            if mask is not None:
                check_sequence_mask(self, tensor.shape, mask, name, name.split("_")[0])
                masks.append(ops.cast(mask, "bool")[:, None, :])  # (batch, 1, Tv)
        if attention_mask is not None:
            self._check_attention_mask(query.shape, value.shape, attention_mask.shape)
            attention_mask = ops.cast(attention_mask, "bool")
            if len(attention_mask.shape) == 2:
                attention_mask = attention_mask[None]  # (Tq, Tv) -> (1, Tq, Tv)
            masks.append(attention_mask)  # (batch or 1, Tq, Tv)
        position_mask = self._position_mask(
            ops.shape(query)[1], ops.shape(value)[1], query_start_index, key_start_index, use_causal_mask
        )
        if position_mask is not None:
            masks.append(position_mask)  # (1, Tq, Tv)
        if not masks:
            return None
        combined = masks[0]
        for mask in masks[1:]:
            combined = ops.logical_and(combined, mask)
        return combined

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
        query_start_index=0,
        key_start_index=0,
    ):
        key = value if key is None else key
        self._check_shapes(query.shape, value.shape, key.shape)
        query_start_index = check_start_index("query_start_index", query_start_index)
        key_start_index = check_start_index("key_start_index", key_start_index)
        mask = self._attention_mask(
            query,
            value,
            key,
            query_mask,
            value_mask,
            key_mask,
            attention_mask,
            use_causal_mask,
            query_start_index,
            key_start_index,
        )
        if mask is not None:
            # A key step that no query may see, or a query step that may see no key, gets exactly zero
            # weight, but 0 × NaN is NaN (and 0 × inf too): zero such steps before any product, so what
            # sits there never reaches the output or the gradients. Finite values are left unchanged.
            key_seen = ops.any(mask, axis=1)[:, :, None]  # (batch or 1, Tv or 1, 1)
            query_sees = ops.any(mask, axis=2)[:, :, None]  # (batch or 1, Tq or 1, 1)
            query = ops.where(query_sees, query, ops.zeros_like(query))
            key = ops.where(key_seen, key, ops.zeros_like(key))
            value = ops.where(key_seen, value, ops.zeros_like(value))

        q = self._project(query, self.query_kernel, self.query_bias)  # (batch, Tq, heads, key_dim)
        k = self._project(key, self.key_kernel, self.key_bias)  # (batch, Tv, kv_heads, key_dim)
        v = self._project(value, self.value_kernel, self.value_bias)  # (batch, Tv, kv_heads, value_dim)
        if self.rotary_embedding is not None:
            # Rotate each head's queries and keys by their positions (not the values).
            q = self.rotary_embedding(q, start_index=query_start_index)  # (batch, Tq, heads, key_dim)
            k = self.rotary_embedding(k, start_index=key_start_index)  # (batch, Tv, kv_heads, key_dim)
        group = self.num_heads // self.num_key_value_heads
        if group > 1:
            # Query head h uses key/value head h // group, as keras.layers.GroupQueryAttention repeats them:
            # (batch, Tv, kv_heads, dim) -> (batch, Tv, heads, dim)
            k = ops.repeat(k, group, axis=2)
            v = ops.repeat(v, group, axis=2)

        # Scaling q (not the scores) keeps float16 products smaller; it is the same maths.
        q = q * ops.cast(1.0 / math.sqrt(self.key_dim), q.dtype)
        scores = ops.einsum("bqnd,bknd->bnqk", q, k)  # (batch, heads, Tq, Tv)
        head_mask = None if mask is None else mask[:, None, :, :]  # (batch, 1, Tq, Tv)
        weights = stable_softmax(scores, axis=-1, mask=head_mask)  # (batch, heads, Tq, Tv)
        dropped = self.dropout_layer(weights, training=training)
        heads = ops.einsum("bnqk,bknd->bqnd", dropped, v)  # (batch, Tq, heads, value_dim)

        # Concatenate the heads, then apply W_o as one matrix (an einsum over heads and value_dim
        # would do both at once): (batch, Tq, heads, value_dim) -> (batch, Tq, heads * value_dim)
        shape = ops.shape(heads)
        concatenated = ops.reshape(heads, (shape[0], shape[1], self.num_heads * self.value_dim))
        output_shape = tuple(self.output_kernel.shape[2:])
        # (heads, value_dim, *output_shape) -> (heads * value_dim, prod(output_shape))
        w_o = ops.reshape(
            ops.cast(self.output_kernel, heads.dtype), (self.num_heads * self.value_dim, math.prod(output_shape))
        )
        output = ops.matmul(concatenated, w_o)  # (batch, Tq, prod(output_shape))
        output = ops.reshape(output, (shape[0], shape[1], *output_shape))  # (batch, Tq, *output_shape)
        if self.output_bias is not None:
            output = output + ops.cast(self.output_bias, output.dtype)
        if return_attention_scores:
            return output, weights
        return output

    def compute_output_shape(self, query_shape, value_shape, key_shape=None, return_attention_scores=False):
        query_shape, value_shape, _ = self._check_shapes(query_shape, value_shape, key_shape)
        output = (*query_shape[:-1], *(self._output_shape or query_shape[-1:]))
        if return_attention_scores:
            return output, (query_shape[0], self.num_heads, query_shape[1], value_shape[1])
        return output

    def compute_output_spec(self, query, value, key=None, return_attention_scores=False, **call_kwargs):
        attention_mask = call_kwargs.get("attention_mask")
        if attention_mask is not None:  # a bad mask fails when the functional model is made
            self._check_attention_mask(query.shape, value.shape, attention_mask.shape)
        shapes = self.compute_output_shape(
            query.shape, value.shape, None if key is None else key.shape, return_attention_scores
        )
        return output_spec(self, shapes, return_attention_scores)

    def get_config(self):
        base_config = super().get_config()
        config = {
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self._output_shape,
            **self._weight_args_config(),
            "seed": self.seed,
            "num_key_value_heads": self.num_key_value_heads,
            "sliding_window": self.sliding_window,
            "rotary": self.rotary,
            "rotary_max_wavelength": self.rotary_max_wavelength,
        }
        return {**base_config, **config}
