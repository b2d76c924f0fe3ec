import keras
import numpy as np
import pytest

from attention_helpers.layers import CrossAttentionBlock, TransformerBlock
from attention_helpers.reference import masked_softmax
from tests.layer_testing import numpy_weights, random_array, run_layer_test, to_numpy


def _layer_norm(x, gamma, beta, epsilon):
    mean, variance = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def _block(layer, x, allowed, context=None):
    """A TransformerBlock or CrossAttentionBlock in NumPy from its 16 weights, in `layer.weights` order.

    Queries come from x; keys and values from x as well (self-attention: after the first layer norm when
    `norm_first`), or from `context` (cross-attention: as given). `allowed` is `(batch, queries, keys)`.
    """
    wq, bq, wk, bk, wv, bv, wo, bo, g1, b1, w_in, b_in, w_out, b_out, g2, b2 = numpy_weights(layer)
    eps = layer.layer_norm_epsilon

    def attention(h):
        source = h if context is None else context
        q = np.einsum("btf,fnd->bntd", h, wq) + bq[None, :, None]  # (batch, heads, T, key_dim)
        k = np.einsum("bsf,fnd->bnsd", source, wk) + bk[None, :, None]
        v = np.einsum("bsf,fnd->bnsd", source, wv) + bv[None, :, None]
        weights = masked_softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(q.shape[-1]), allowed[:, None])
        return np.einsum("bnts,bnsd,ndo->bto", weights, v, wo) + bo, weights

    def feed_forward(h):
        return np.maximum(h @ w_in + b_in, 0.0) @ w_out + b_out

    if layer.norm_first:
        attended, weights = attention(_layer_norm(x, g1, b1, eps))
        x = x + attended
        return x + feed_forward(_layer_norm(x, g2, b2, eps)), weights
    attended, weights = attention(x)
    x = _layer_norm(x + attended, g1, b1, eps)
    return _layer_norm(x + feed_forward(x), g2, b2, eps), weights


def reference(layer, x, mask=None, causal=False):
    """The block in NumPy: self-attention over x, with an optional padding mask and causal mask."""
    steps = x.shape[1]
    allowed = np.ones((x.shape[0], steps, steps), bool)
    if mask is not None:
        allowed &= mask[:, :, None] & mask[:, None, :]
    if causal:
        allowed &= np.tril(np.ones((steps, steps), bool))
    return _block(layer, x, allowed)


@pytest.mark.parametrize("norm_first", [False, True])
def test_layer_contract(tmp_path, norm_first):
    kwargs = {"num_heads": 2, "key_dim": 4, "ff_dim": 16, "norm_first": norm_first}
    run_layer_test(TransformerBlock, kwargs, (2, 5, 8), (2, 5, 8), 16, tmp_path)
    run_layer_test(
        TransformerBlock,
        {**kwargs, "dropout": 0.1, "activation": "gelu"},
        (2, 5, 8),
        [(2, 5, 8), (2, 2, 5, 5)],
        16,
        tmp_path,
        call_kwargs={"return_attention_scores": True},
    )


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize(("masked", "causal"), [(False, False), (True, False), (False, True), (True, True)])
def test_matches_numpy_reference(norm_first, masked, causal):
    x = random_array((3, 6, 8), 1)
    mask = np.array([[1] * 6, [1, 1, 1, 1, 0, 0], [1, 0, 0, 0, 0, 0]], bool) if masked else None
    layer = TransformerBlock(num_heads=2, key_dim=3, ff_dim=10, norm_first=norm_first, bias_initializer="random_normal")
    layer.build(x.shape)
    # LayerNorm starts at gamma = 1, beta = 0: give it other values so the reference must use them.
    for norm in (layer.attention_norm, layer.feed_forward_norm):
        norm.gamma.assign(np.linspace(0.5, 1.5, 8))
        norm.beta.assign(np.linspace(-0.2, 0.2, 8))
    out, weights = layer(x, mask=mask, use_causal_mask=causal, return_attention_scores=True)
    want_out, want_weights = reference(layer, x, mask, causal)
    np.testing.assert_allclose(to_numpy(weights), want_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(out), want_out, rtol=1e-4, atol=1e-4)


def test_implicit_mask_from_embedding_gives_exact_zeros_and_is_passed_on():
    tokens = np.array([[4, 2, 7, 0, 0], [3, 0, 0, 0, 0]])
    keep = tokens != 0
    inputs = keras.Input(shape=(None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 8, mask_zero=True)(inputs)
    block = TransformerBlock(num_heads=2, key_dim=4, ff_dim=16)
    out, weights = block(embedded, return_attention_scores=True)
    pooled = keras.layers.GlobalAveragePooling1D()(out)
    model = keras.Model(inputs, [out, weights, pooled, embedded])
    out, weights, pooled, embedded = (to_numpy(t) for t in model(tokens))

    padded_keys = np.broadcast_to(~keep[:, None, None, :], weights.shape)
    assert np.all(weights[padded_keys] == 0.0)
    np.testing.assert_allclose(weights.sum(-1)[np.broadcast_to(keep[:, None, :], weights.shape[:3])], 1.0, rtol=1e-5)
    # The implicit mask and an explicit one give the same block output.
    explicit, explicit_weights = block(embedded, mask=keep, return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(explicit_weights), weights, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(to_numpy(explicit), out, rtol=1e-5, atol=1e-6)
    # The mask reaches the pooling: it averages the real steps only.
    np.testing.assert_allclose(pooled, [out[0, :3].mean(0), out[1, 0]], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("norm_first", [False, True])
def test_causal_block_cannot_see_the_future(norm_first):
    x = random_array((1, 6, 8), 2)
    layer = TransformerBlock(num_heads=2, key_dim=4, ff_dim=16, norm_first=norm_first)
    before = to_numpy(layer(x, use_causal_mask=True))
    changed = x.copy()
    changed[0, 4] = random_array((8,), 9) * 3  # not a constant shift, which LayerNorm would remove
    after = to_numpy(layer(changed, use_causal_mask=True))
    np.testing.assert_allclose(after[0, :4], before[0, :4], rtol=1e-6, atol=1e-6)
    assert not np.allclose(after[0, 4:], before[0, 4:], atol=1e-3)
    # Without the causal mask the change reaches every step.
    assert not np.allclose(to_numpy(layer(changed))[0, :4], to_numpy(layer(x))[0, :4], atol=1e-3)


def test_dropout_only_in_training():
    x = random_array((2, 5, 8))
    layer = TransformerBlock(num_heads=2, key_dim=4, ff_dim=16, dropout=0.5, seed=3)
    inference = to_numpy(layer(x))
    np.testing.assert_array_equal(to_numpy(layer(x, training=False)), inference)
    assert not np.allclose(to_numpy(layer(x, training=True)), inference)


@pytest.mark.parametrize("policy_dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_mixed_precision_without_nan(policy_dtype, norm_first):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(f"mixed_{policy_dtype}")
    try:
        x = random_array((2, 6, 16)) * 50
        mask = np.ones((2, 6), bool)
        mask[1, 2:] = False
        layer = TransformerBlock(num_heads=2, key_dim=8, ff_dim=32, norm_first=norm_first)
        out, weights = layer(x, mask=mask, use_causal_mask=True, return_attention_scores=True)
        assert out.dtype == policy_dtype and weights.dtype == policy_dtype
        assert all(w.dtype == "float32" for w in layer.weights)
        for tensor in (out, weights):
            assert np.all(np.isfinite(to_numpy(keras.ops.cast(tensor, "float32"))))
        assert np.all(to_numpy(keras.ops.cast(weights, "float32"))[1, :, :, 2:] == 0.0)
    finally:
        keras.config.set_dtype_policy(previous)


def test_rejects_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match=r"`ff_dim` must be >= 1. Received: ff_dim=0"):
        TransformerBlock(num_heads=2, key_dim=4, ff_dim=0)
    with pytest.raises(TypeError, match=r"`norm_first` must be True or False. Received: norm_first='pre'"):
        TransformerBlock(num_heads=2, key_dim=4, ff_dim=8, norm_first="pre")
    with pytest.raises(ValueError, match=r"`dropout` must be a number in \[0, 1\). Received: dropout=-0.1"):
        TransformerBlock(num_heads=2, key_dim=4, ff_dim=8, dropout=-0.1)
    with pytest.raises(
        ValueError, match=r"`layer_norm_epsilon` must be a positive number. Received: layer_norm_epsilon=0"
    ):
        TransformerBlock(num_heads=2, key_dim=4, ff_dim=8, layer_norm_epsilon=0)
    block = TransformerBlock(num_heads=2, key_dim=4, ff_dim=8)
    with pytest.raises(ValueError, match=r"rank 3 \(batch, steps, d_model\). Received: inputs.shape=\(None, 8\)"):
        block(keras.Input(shape=(8,)))
    with pytest.raises(ValueError, match=r"model width d_model \(axis 2\).*Received: inputs.shape=\(None, 5, None\)"):
        block.build((None, 5, None))
    with pytest.raises(
        ValueError, match=r"expects `mask` of shape \(batch, steps\) = \(2, 5\).*Received: mask.shape=\(2, 4\)"
    ):
        block(random_array((2, 5, 8)), mask=np.ones((2, 4), bool))


def test_num_key_value_heads_reaches_the_attention_and_the_config(tmp_path):
    block = TransformerBlock(num_heads=4, key_dim=4, ff_dim=16, num_key_value_heads=2, norm_first=True)
    x = np.random.default_rng(0).normal(size=(2, 5, 16)).astype("float32")
    y, weights = block(x, use_causal_mask=True, return_attention_scores=True)
    assert tuple(block.attention.key_kernel.shape) == (16, 2, 4) and weights.shape == (2, 4, 5, 5) and y.shape == x.shape
    assert block.get_config()["num_key_value_heads"] == 2
    model = keras.Sequential([keras.Input((5, 16)), block])
    model.save(tmp_path / "block.keras")
    loaded = keras.saving.load_model(tmp_path / "block.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), atol=1e-6)
    with pytest.raises(ValueError, match="num_key_value_heads"):
        TransformerBlock(num_heads=4, key_dim=4, ff_dim=16, num_key_value_heads=3)


# CrossAttentionBlock: the decoder's second attention, queries from the target, keys and values from a context.


def cross_reference(layer, x, context, context_mask=None):
    """The cross-attention block in NumPy: queries from x, keys and values from context."""
    allowed = np.ones((x.shape[0], x.shape[1], context.shape[1]), bool)
    if context_mask is not None:
        allowed &= context_mask[:, None, :]
    return _block(layer, x, allowed, context)


@pytest.mark.parametrize("norm_first", [False, True])
def test_cross_attention_block_contract(tmp_path, norm_first):
    kwargs = {"num_heads": 2, "key_dim": 4, "ff_dim": 16, "norm_first": norm_first}
    run_layer_test(CrossAttentionBlock, kwargs, [(2, 5, 8), (2, 3, 6)], (2, 5, 8), 16, tmp_path, unpack_inputs=True,
                   sequential=False)
    run_layer_test(CrossAttentionBlock, kwargs, [(2, 5, 8), (2, 3, 6)], [(2, 5, 8), (2, 2, 5, 3)], 16, tmp_path,
                   unpack_inputs=True, sequential=False, call_kwargs={"return_attention_scores": True})


@pytest.mark.parametrize("norm_first", [False, True])
def test_cross_attention_block_matches_numpy_and_masks_padded_context_exactly(norm_first):
    x, context = random_array((2, 5, 8), seed=1), random_array((2, 6, 6), seed=2)
    context_mask = np.ones((2, 6), bool)
    context_mask[1, 4:] = False
    layer = CrossAttentionBlock(num_heads=2, key_dim=4, ff_dim=16, norm_first=norm_first,
                                bias_initializer="random_normal")
    output, weights = layer(x, context, context_mask=context_mask, return_attention_scores=True)
    want_output, want_weights = cross_reference(layer, x, context, context_mask)
    np.testing.assert_allclose(to_numpy(weights), want_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(output), want_output, rtol=1e-4, atol=1e-5)
    assert np.all(to_numpy(weights)[1, :, :, 4:] == 0.0)  # padded source steps: exactly zero
    changed = context.copy()
    changed[1, 4:] = 100.0  # what sits at padded steps changes nothing
    np.testing.assert_array_equal(to_numpy(layer(x, changed, context_mask=context_mask)), to_numpy(output))


def test_decoder_stack_is_causal_and_ignores_padding_exactly():
    """A causal TransformerBlock then a CrossAttentionBlock: a target step reads no later step, no padded source."""
    target, source = random_array((2, 5, 8), seed=3), random_array((2, 6, 8), seed=4)
    source_mask = np.array([[True] * 6, [True] * 3 + [False] * 3])
    decoder, cross = TransformerBlock(2, 4, 16), CrossAttentionBlock(2, 4, 16)

    def run(target, source):
        y, self_weights = decoder(target, use_causal_mask=True, return_attention_scores=True)
        out, cross_weights = cross(y, source, context_mask=source_mask, return_attention_scores=True)
        return to_numpy(out), to_numpy(self_weights), to_numpy(cross_weights)

    out, self_weights, cross_weights = run(target, source)
    assert np.all(self_weights[:, :, ~np.tri(5, dtype=bool)] == 0.0)  # causal: exact zeros above the diagonal
    assert np.all(cross_weights[1, :, :, 3:] == 0.0)  # padding: exact zeros
    later = target.copy()
    later[:, 3:] += 5.0  # change the target from step 3 on: steps 0-2 do not move
    np.testing.assert_array_equal(run(later, source)[0][:, :3], out[:, :3])


def test_cross_attention_block_rejects_bad_inputs():
    layer = CrossAttentionBlock(2, 4, 16)
    with pytest.raises(ValueError, match="context"):
        layer(random_array((2, 5, 8)), random_array((2, 6)))
    with pytest.raises(ValueError, match="context_mask"):
        CrossAttentionBlock(2, 4, 16)(random_array((2, 5, 8)), random_array((2, 6, 8)),
                                      context_mask=np.ones((2, 5), bool))


# Issue 25: what Keras's and keras-hub's own tests and malformed-input probes found.


@pytest.mark.parametrize("norm_first", [False, True])
def test_float64_blocks_equal_float64_numpy(norm_first):
    # The softmax used to run in float32 whatever the dtype: a float64 block was only float32-accurate.
    rng = np.random.default_rng(25)
    x, context = rng.normal(size=(2, 5, 8)), rng.normal(size=(2, 6, 6))
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    kwargs = {"num_heads": 2, "key_dim": 4, "ff_dim": 16, "norm_first": norm_first,
              "bias_initializer": "random_normal", "dtype": "float64"}
    block = TransformerBlock(**kwargs)
    output, weights = block(x, mask=mask, use_causal_mask=True, return_attention_scores=True)
    assert output.dtype == "float64"
    want_output, want_weights = reference(block, x, mask, causal=True)
    np.testing.assert_allclose(to_numpy(weights), want_weights, rtol=0, atol=1e-12)
    np.testing.assert_allclose(to_numpy(output), want_output, rtol=0, atol=1e-11)
    cross = CrossAttentionBlock(**kwargs)
    output, weights = cross(x, context, context_mask=mask[:, [0, 1, 2, 3, 4, 4]], return_attention_scores=True)
    want_output, want_weights = cross_reference(cross, x, context, mask[:, [0, 1, 2, 3, 4, 4]])
    np.testing.assert_allclose(to_numpy(weights), want_weights, rtol=0, atol=1e-12)
    np.testing.assert_allclose(to_numpy(output), want_output, rtol=0, atol=1e-11)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_nan_at_padded_steps_never_reaches_the_real_steps(norm_first, bad):
    # 0 × NaN is NaN: a NaN at a padded step used to make every output NaN, in both blocks.
    x, context = random_array((2, 5, 8), 1), random_array((2, 6, 6), 2)
    mask = np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1]], bool)
    context_mask = np.array([[1, 0, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], bool)
    block = TransformerBlock(2, 4, 16, norm_first=norm_first, bias_initializer="random_normal")
    cross = CrossAttentionBlock(2, 4, 16, norm_first=norm_first, bias_initializer="random_normal")

    def run(x, context):
        y = to_numpy(block(x, mask=mask, use_causal_mask=True))
        return y, to_numpy(cross(x, context, mask=mask, context_mask=context_mask))

    poisoned = run(np.where(mask[..., None], x, bad), np.where(context_mask[..., None], context, bad))
    garbage = run(np.where(mask[..., None], x, 1e3), np.where(context_mask[..., None], context, -1e3))
    for got, want in zip(poisoned, garbage):
        assert np.all(np.isfinite(got[mask]))
        np.testing.assert_array_equal(got[mask], want[mask])
    for b in range(2):  # the real steps alone give the same outputs
        alone = to_numpy(block(x[b : b + 1, mask[b]], use_causal_mask=True))
        np.testing.assert_allclose(poisoned[0][b, mask[b]], alone[0], rtol=1e-5, atol=1e-5)
        alone = to_numpy(cross(x[b : b + 1, mask[b]], context[b : b + 1, context_mask[b]]))
        np.testing.assert_allclose(poisoned[1][b, mask[b]], alone[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("block", [TransformerBlock, CrossAttentionBlock])
def test_arguments_fail_at_construction_with_the_errors_of_multi_head_attention(block):
    # num_key_value_heads=3 with 4 heads used to pass construction and fail at the first call.
    with pytest.raises(
        ValueError,
        match=r"`num_heads` must be a multiple of `num_key_value_heads`. Received: num_heads=4, num_key_value_heads=3",
    ):
        block(num_heads=4, key_dim=4, ff_dim=16, num_key_value_heads=3)
    # Non-integers raised TypeError here and ValueError in MultiHeadAttention.
    for argument, value in (("num_heads", 2.5), ("key_dim", "4"), ("ff_dim", 8.0), ("num_key_value_heads", 1.5)):
        kwargs = {"num_heads": 4, "key_dim": 4, "ff_dim": 16, argument: value}
        with pytest.raises(ValueError, match=rf"`{argument}` must be an integer. Received: {argument}={value!r}"):
            block(**kwargs)


def test_cross_attention_block_rejects_a_context_of_another_batch_size():
    with pytest.raises(
        ValueError, match=r"same batch size.*Received: inputs.shape=\(2, 5, 8\), context.shape=\(3, 6, 8\)"
    ):
        CrossAttentionBlock(2, 4, 16)(random_array((2, 5, 8)), random_array((3, 6, 8)))
