"""Layer cases run under two Keras backends with identical weights and inputs (see test_backends.py).

`run(weights)` builds every case on the current backend, loads `weights` when given (else keeps the
fresh ones), and returns `(outputs, weights)` as dicts of NumPy arrays keyed by case name.
"""

from __future__ import annotations

import sys

import keras
import numpy as np

from attention_helpers import gpt, layers, seq2seq


def _inputs():
    rng = np.random.default_rng(0)
    seq = rng.normal(size=(2, 6, 3)).astype("float32")
    mask = np.ones((2, 6), bool)
    mask[0, 4:] = False
    return {
        "vector": rng.normal(size=(4, 8)).astype("float32"),
        "seq": seq,
        "mask": mask,
        "query": rng.normal(size=(2, 5, 3)).astype("float32"),
        "image": rng.normal(size=(2, 5, 6, 16)).astype("float32"),
        "key": rng.normal(size=(2, 6, 4)).astype("float32"),
        "attention_mask": rng.random((2, 5, 6)) > 0.3,
        "tokens": np.array([[3, 1, 4, 1, 5, 9], [2, 7, 1, 0, 0, 0]], "int32"),  # 0 is padding
    }


def _embedded_transformer():
    """Embedding(mask_zero=True) into a TransformerBlock: the mask reaches it implicitly."""
    tokens = keras.Input(shape=(6,), dtype="int32")
    embedded = keras.layers.Embedding(10, 8, mask_zero=True)(tokens)
    return keras.Model(tokens, layers.TransformerBlock(2, 4, 8)(embedded, return_attention_scores=True))


def _cases(x):
    return {
        "dense": (layers.DenseAttention(), lambda layer: layer(x["vector"], return_attention_scores=True)),
        "temporal": (
            layers.TemporalAttention(),
            lambda layer: layer(x["seq"], mask=x["mask"], return_attention_scores=True),
        ),
        "temporal_shared": (
            layers.TemporalAttention(shared=True),
            lambda layer: layer(x["seq"], return_attention_scores=True),
        ),
        "feed_forward": (
            layers.FeedForwardAttention(bias_initializer="random_normal"),
            lambda layer: layer(x["seq"], mask=x["mask"], return_attention_scores=True),
        ),
        "dot_product": (
            layers.DotProductAttention(use_scale=True),
            lambda layer: layer(
                [x["query"], x["seq"]],
                mask=[None, x["mask"]],
                return_attention_scores=True,
                use_causal_mask=True,
            ),
        ),
        "self_attention_scores": (
            layers.SelfAttention2D(gamma_initializer=0.5, num_heads=2, pool_keys_values=True),
            lambda layer: layer(x["image"], return_attention_scores=True),
        ),
        "self_attention_fused": (
            layers.SelfAttention2D(gamma_initializer=0.5, num_heads=2),
            lambda layer: layer(x["image"]),
        ),
        "self_attention_projected": (
            layers.SelfAttention2D(gamma_initializer=0.5, num_heads=4, output_projection=True),
            lambda layer: layer(x["image"], return_attention_scores=True),
        ),
        "position": (layers.PositionEmbedding(8), lambda layer: layer(x["seq"])),
        "sinusoidal": (layers.SinusoidalPositionEncoding(), lambda layer: layer(x["seq"], start_index=2)),
        "multi_head": (
            layers.MultiHeadAttention(num_heads=2, key_dim=3, bias_initializer="random_normal"),
            lambda layer: layer(
                x["query"], x["seq"], value_mask=x["mask"], use_causal_mask=True, return_attention_scores=True
            ),
        ),
        "multi_head_key": (
            layers.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=4, output_shape=(2, 3)),
            lambda layer: layer(
                x["query"], x["seq"], key=x["key"], attention_mask=x["attention_mask"], return_attention_scores=True
            ),
        ),
        "multi_head_shared_mask": (  # one (Tq, Tv) attention mask for the whole batch, with a padding mask
            layers.MultiHeadAttention(num_heads=2, key_dim=3, bias_initializer="random_normal"),
            lambda layer: layer(
                x["query"],
                x["seq"],
                value_mask=x["mask"],
                attention_mask=x["attention_mask"][0],
                return_attention_scores=True,
            ),
        ),
        **{
            f"transformer_{name}": (
                layers.TransformerBlock(num_heads=2, key_dim=4, ff_dim=8, norm_first=norm_first),
                lambda layer: layer(x["seq"], mask=x["mask"], use_causal_mask=True, return_attention_scores=True),
            )
            for name, norm_first in (("post_norm", False), ("pre_norm", True))
        },
        "transformer_implicit_mask": (_embedded_transformer(), lambda model: model(x["tokens"])),
        "tiny_gpt": (  # notebook 10's model: embeddings, pre-norm GELU blocks with a causal mask, logits
            gpt.build_gpt(context=8, d_model=8, num_heads=2, num_layers=2, dropout=0.0),
            lambda model: model(x["tokens"]),
        ),
        "cross_attention": (  # a decoder's second attention: queries from the target, keys and values from a source
            layers.CrossAttentionBlock(num_heads=2, key_dim=4, ff_dim=8, bias_initializer="random_normal"),
            lambda layer: layer(x["query"], x["seq"], context_mask=x["mask"], return_attention_scores=True),
        ),
        "translator": (  # notebook 09's encoder-decoder: padded source, causal decoder, cross-attention weights
            seq2seq.with_cross_attention(seq2seq.build_translator(d_model=8, num_heads=2, ff_dim=8)),
            lambda model: model([x["tokens"][:, :5], x["tokens"][::-1]]),
        ),
        "multi_head_gqa": (  # multi-query attention (one key/value head) with a causal window of 2
            layers.MultiHeadAttention(
                num_heads=4, key_dim=2, num_key_value_heads=1, sliding_window=2, bias_initializer="random_normal"
            ),
            lambda layer: layer(
                x["query"], x["seq"], value_mask=x["mask"], use_causal_mask=True, return_attention_scores=True
            ),
        ),
        "multi_head_rotary": (  # rotary queries and keys, two key/value heads for four query heads, shifted queries
            layers.MultiHeadAttention(
                num_heads=4, key_dim=4, num_key_value_heads=2, rotary=True, bias_initializer="random_normal"
            ),
            lambda layer: layer(
                x["query"],
                x["seq"],
                value_mask=x["mask"],
                use_causal_mask=True,
                query_start_index=1,
                return_attention_scores=True,
            ),
        ),
        "patch": (  # images (2, 4, 6, 16) cut into 2×2 patches: 6 tokens and the CLS token
            layers.PatchEmbedding(2, 4, class_token_initializer="random_normal", bias_initializer="random_normal"),
            lambda layer: layer(x["image"][:, :4]),
        ),
        "rotary": (  # (batch, steps, heads, head_dim) = (2, 5, 6, 16), from position 3
            layers.RotaryPositionEmbedding(),
            lambda layer: layer(x["image"], start_index=3),
        ),
    }


def run(weights=None):
    x = _inputs()
    outputs, used = {}, {}
    for name, (layer, call) in _cases(x).items():
        call(layer)  # build
        if weights is not None:
            layer.set_weights([weights[f"{name}/{i}"] for i in range(len(layer.get_weights()))])
        for i, w in enumerate(layer.get_weights()):
            used[f"{name}/{i}"] = w
        result = call(layer)
        for i, value in enumerate(result if isinstance(result, (list, tuple)) else [result]):
            outputs[f"{name}/{i}"] = keras.ops.convert_to_numpy(value)
    return outputs, used


if __name__ == "__main__":  # python -m tests.backend_cases WEIGHTS.npz OUTPUTS.npz
    weights_path, outputs_path = sys.argv[1], sys.argv[2]
    outputs, _ = run(dict(np.load(weights_path)))
    np.savez(outputs_path, backend=keras.backend.backend(), **outputs)
