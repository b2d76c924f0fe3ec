"""`DotProductAttention`: Luong-style attention written out for teaching, equal to `keras.layers.Attention`."""

from __future__ import annotations

import keras
from keras import ops

from attention_helpers._validation import check_bool, check_rate, check_seed
from attention_helpers.layers._common import (
    SERIALIZATION_PACKAGE,
    check_rank,
    output_spec,
    stable_softmax,
)


def causal_mask(query_steps, value_steps):
    """Boolean `(1, Tq, Tv)`: query step i may look at value steps j <= i (lower triangle)."""
    rows = ops.arange(query_steps)[:, None]
    cols = ops.arange(value_steps)[None, :]
    return ops.expand_dims(ops.greater_equal(rows, cols), 0)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class DotProductAttention(keras.layers.Layer):
    """Dot-product (Luong) attention between a query sequence and a value sequence.

    For query `q` `(batch, Tq, d)`, value `v` `(batch, Tv, dv)` and key `k` `(batch, Tv, d)`
    (the value when no key is given):

        scores = scale * q kᵀ                  (batch, Tq, Tv)
        weights = softmax over Tv of scores    masked entries get exactly zero
        output = weights v                     (batch, Tq, dv)

    `scale` is a trainable scalar starting at 1 when `use_scale=True` (a learned temperature), and 1
    otherwise. For the same inputs, masks and scale it returns what `keras.layers.Attention` returns,
    with two differences: a query whose keys are all masked gets all-zero weights here and uniform
    weights there; and a key or value step that no query may see (masked, or after the last query
    with the causal mask) is zeroed before the products here, so that a NaN or inf there cannot
    reach the output (0 × NaN is NaN: in Keras's layer it makes every output NaN). The weights of
    a masked query step are computed from it, as in Keras (only its output is zeroed).

    Args:
        use_scale: learn a scalar that multiplies the scores.
        dropout: fraction of attention weights dropped in training.
        seed: seed of the dropout, None or a non-negative integer.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `[query, value]` or `[query, value, key]`.
        mask: optional `[query_mask, value_mask]`, booleans `(batch, Tq)` and `(batch, Tv)`, or
            shapes that broadcast to them as in `keras.layers.Attention` (`(1, Tv)` or `(Tv,)` for a
            mask shared by the batch). Value steps where the mask is False get zero weight; outputs
            at masked query steps are zero.
        training: whether dropout is applied.
        return_attention_scores: if True, also return the weights `(batch, Tq, Tv)`.
        use_causal_mask: if True, query step i may only look at value steps j <= i (for decoder
            self-attention). In TensorFlow 2.0 this was the constructor argument `causal=True`.

    Returns:
        `output` `(batch, Tq, dv)`, or `(output, weights)`.

    Example:
        >>> import keras
        >>> from attention_helpers.layers import DotProductAttention
        >>> query, value = keras.Input(shape=(5, 8)), keras.Input(shape=(7, 8))
        >>> output, weights = DotProductAttention()([query, value], return_attention_scores=True)
        >>> tuple(weights.shape)
        (None, 5, 7)

    References:
        Minh-Thang Luong, Hieu Pham, Christopher D. Manning, "Effective Approaches to Attention-based
        Neural Machine Translation", https://arxiv.org/abs/1508.04025
    """

    def __init__(self, use_scale=False, dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        check_bool("use_scale", use_scale)
        self.use_scale = bool(use_scale)
        self.dropout = check_rate("dropout", dropout)
        self.seed = check_seed(seed)
        self.dropout_layer = None
        if self.dropout > 0:
            # The layer's dtype policy: a default Dropout would cast the attention weights to the global policy.
            self.dropout_layer = keras.layers.Dropout(self.dropout, seed=self.seed, dtype=self.dtype_policy)
        self.supports_masking = True

    def _split_shapes(self, shapes):
        if (
            not isinstance(shapes, (list, tuple))
            or len(shapes) not in (2, 3)
            or not all(isinstance(s, (list, tuple)) for s in shapes)
        ):
            raise ValueError(
                "DotProductAttention expects `inputs` to be a list [query, value] or [query, value, key]. "
                f"Received: {shapes!r}"
            )
        query, value = tuple(shapes[0]), tuple(shapes[1])
        key = tuple(shapes[2]) if len(shapes) == 3 else value
        for name, shape in (("query", query), ("value", value), ("key", key)):
            check_rank(self, shape, 3, "(batch, steps, features)", argument=name)
        if query[-1] is not None and key[-1] is not None and query[-1] != key[-1]:
            raise ValueError(
                "DotProductAttention needs query and key with the same number of features (their dot product "
                f"is the score). Received: query.shape={query}, key.shape={key}"
            )
        for name, shape in (("value", value), ("key", key)):
            if query[0] is not None and shape[0] is not None and query[0] != shape[0]:
                raise ValueError(
                    f"DotProductAttention needs query and {name} with the same batch size. "
                    f"Received: query.shape={query}, {name}.shape={shape}"
                )
        if value[1] is not None and key[1] is not None and value[1] != key[1]:
            raise ValueError(
                f"DotProductAttention needs key and value with the same number of steps. "
                f"Received: key.shape={key}, value.shape={value}"
            )
        return query, value, key

    def build(self, input_shape):
        self._split_shapes(input_shape)
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")

    def _split_masks(self, inputs, mask):
        if mask is None:
            return None, None
        if not isinstance(mask, (list, tuple)) or len(mask) not in (2, 3):
            raise ValueError(
                "DotProductAttention expects `mask` to be a list [query_mask, value_mask]. "
                f"Received: mask of type {type(mask).__name__}"
            )
        query_mask, value_mask = mask[0], mask[1]
        if query_mask is not None:
            query_mask = self._check_mask(inputs[0].shape, query_mask, "query_mask", "query")
        if value_mask is not None:
            value_mask = self._check_mask(inputs[1].shape, value_mask, "value_mask", "value")
        return query_mask, value_mask

    def _check_mask(self, inputs_shape, mask, argument, inputs_name):
        """A boolean `(batch, steps)` mask, or one that broadcasts to it as Keras's Attention lets it:
        `(1, steps)` or `(steps,)` shared by the batch, `(batch, 1)` for whole sequences. Returned as
        a boolean of rank 2."""
        expected, received = tuple(inputs_shape[:2]), tuple(mask.shape)
        aligned = zip(expected[2 - len(received) :], received) if len(received) in (1, 2) else None
        if aligned is None or any(e is not None and r is not None and r not in (e, 1) for e, r in aligned):
            raise ValueError(
                f"DotProductAttention expects `{argument}` of shape (batch, steps) = {expected}, matching "
                f"{inputs_name}.shape={tuple(inputs_shape)}, or one that broadcasts to it, such as (1, steps) "
                f"for a mask shared by the batch. Received: {argument}.shape={received}"
            )
        mask = ops.cast(mask, "bool")
        return mask[None] if len(received) == 1 else mask  # (steps,) -> (1, steps)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        self._split_shapes([tuple(t.shape) for t in inputs] if isinstance(inputs, (list, tuple)) else inputs)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        query_mask, value_mask = self._split_masks(inputs, mask)

        score_mask = None if value_mask is None else value_mask[:, None, :]  # (batch or 1, 1, Tv)
        if use_causal_mask:
            causal = causal_mask(ops.shape(query)[1], ops.shape(key)[1])  # (1, Tq, Tv)
            score_mask = causal if score_mask is None else ops.logical_and(score_mask, causal)
        if score_mask is not None:
            # A key step that no query may see gets exactly zero weight, but 0 × NaN is NaN: zero it
            # before the products, so what sits there never reaches the output. Finite values: unchanged.
            key_seen = ops.any(score_mask, axis=1)[:, :, None]  # (batch or 1, Tv, 1)
            key = ops.where(key_seen, key, ops.zeros_like(key))
            value = ops.where(key_seen, value, ops.zeros_like(value))

        scores = ops.matmul(query, ops.swapaxes(key, -2, -1))  # (batch, Tq, Tv)
        if self.scale is not None:
            scores = scores * ops.cast(self.scale, scores.dtype)
        weights = stable_softmax(scores, axis=-1, mask=score_mask)  # (batch, Tq, Tv)
        if self.dropout_layer is not None:
            weights = self.dropout_layer(weights, training=training)
        output = ops.matmul(weights, value)  # (batch, Tq, dv)
        if query_mask is not None:
            output = ops.where(query_mask[:, :, None], output, ops.zeros_like(output))
        if return_attention_scores:
            return output, weights
        return output

    def compute_mask(self, inputs, mask=None):
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape, return_attention_scores=False, use_causal_mask=False):
        query, value, _ = self._split_shapes(input_shape)
        output = (*query[:-1], value[-1])
        if return_attention_scores:
            return output, (query[0], query[1], value[1])
        return output

    def compute_output_spec(
        self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False
    ):
        shape = self.compute_output_shape([tuple(t.shape) for t in inputs], return_attention_scores)
        return output_spec(self, shape, return_attention_scores)

    def get_config(self):
        base_config = super().get_config()
        config = {"use_scale": self.use_scale, "dropout": self.dropout, "seed": self.seed}
        return {**base_config, **config}
