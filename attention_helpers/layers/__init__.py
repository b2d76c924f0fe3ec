"""Attention layers for Keras 3, written with `keras.ops` only (TensorFlow, JAX and PyTorch).

Every layer is registered for `.keras` saving under the package name "attention_helpers".
"""

from attention_helpers.layers.dense import DenseAttention
from attention_helpers.layers.dot_product import DotProductAttention, causal_mask
from attention_helpers.layers.feed_forward import FeedForwardAttention
from attention_helpers.layers.multi_head import MultiHeadAttention
from attention_helpers.layers.patch import PatchEmbedding
from attention_helpers.layers.position import PositionEmbedding, SinusoidalPositionEncoding
from attention_helpers.layers.rotary import RotaryPositionEmbedding
from attention_helpers.layers.self_attention_2d import SelfAttention2D
from attention_helpers.layers.temporal import TemporalAttention
from attention_helpers.layers.transformer import CrossAttentionBlock, TransformerBlock

__all__ = [
    "CrossAttentionBlock",
    "DenseAttention",
    "DotProductAttention",
    "FeedForwardAttention",
    "MultiHeadAttention",
    "PatchEmbedding",
    "PositionEmbedding",
    "RotaryPositionEmbedding",
    "SelfAttention2D",
    "SinusoidalPositionEncoding",
    "TemporalAttention",
    "TransformerBlock",
    "causal_mask",
]
