"""`PatchEmbedding`: an image cut into square patches, each a token (the Vision Transformer's input)."""

from __future__ import annotations

import keras
from keras import ops

from attention_helpers._validation import check_bool, check_int
from attention_helpers.layers._common import SERIALIZATION_PACKAGE, KernelBiasArgs, check_known, check_rank


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class PatchEmbedding(KernelBiasArgs, keras.layers.Layer):
    """Cut images into `patch_size × patch_size` patches, project each linearly, prepend a class token.

    An image `(height, width, channels)` becomes `T = (height / p) · (width / p)` patches, read row
    by row (left to right, then top to bottom); each patch is flattened (its pixel rows, then its
    columns, then its channels: `p · p · channels` numbers) and multiplied by one shared
    `(p · p · channels, d_model)` kernel, plus a bias. That is exactly a `Conv2D(d_model, p,
    strides=p)` whose kernel is this kernel reshaped to `(p, p, channels, d_model)`. With
    `class_token=True` a learned vector (the CLS token) is put in front of the patches: it belongs
    to no patch, and a classifier reads its final state. Positions are not added here (add a
    `PositionEmbedding` of `T + 1` steps, or none).

    Args:
        patch_size: side of a square patch, in pixels; must divide the image's height and width.
        d_model: width of every token's vector.
        class_token: whether to prepend the learned CLS token.
        kernel_initializer, bias_initializer: of the projection.
        class_token_initializer: of the CLS vector (zeros, as in the ViT paper's code).
        kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint: of the projection.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: images `(batch, height, width, channels)`, height and width known and multiples of
            `patch_size`.

    Returns:
        `(batch, T + 1, d_model)` with the CLS token first, or `(batch, T, d_model)` without it.

    Example:
        >>> import keras
        >>> from attention_helpers.layers import PatchEmbedding
        >>> images = keras.Input(shape=(16, 16, 1))
        >>> tuple(PatchEmbedding(patch_size=4, d_model=32)(images).shape)
        (None, 17, 32)

    References:
        Alexey Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for Image Recognition
        at Scale", section 3.1, https://arxiv.org/abs/2010.11929
    """

    def __init__(
        self,
        patch_size,
        d_model,
        class_token=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        class_token_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.patch_size = check_int("patch_size", patch_size, minimum=1)
        self.d_model = check_int("d_model", d_model, minimum=1)
        self.class_token = check_bool("class_token", class_token)
        self.class_token_initializer = keras.initializers.get(class_token_initializer)
        self._set_weight_args(
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )

    def build(self, input_shape):
        check_rank(self, input_shape, 4, "(batch, height, width, channels)")
        for axis, what in ((1, "height"), (2, "width"), (3, "number of channels")):
            check_known(self, input_shape, axis, what)
        height, width = input_shape[1], input_shape[2]
        if height % self.patch_size or width % self.patch_size:
            raise ValueError(
                f"PatchEmbedding's `patch_size` must divide the image's height and width. Received: "
                f"patch_size={self.patch_size} for inputs.shape={tuple(input_shape)} "
                f"(height {height}, width {width})"
            )
        features = self.patch_size * self.patch_size * input_shape[3]
        self._add_kernel_and_bias((features, self.d_model), (self.d_model,))
        if self.class_token:
            self.token = self.add_weight(name="class_token", shape=(self.d_model,),
                                         initializer=self.class_token_initializer)

    def call(self, inputs):
        p = self.patch_size
        _, height, width, channels = inputs.shape
        rows, cols = height // p, width // p
        x = ops.reshape(inputs, (-1, rows, p, cols, p, channels))  # (batch, rows, p, cols, p, channels)
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))  # (batch, rows, cols, p, p, channels)
        x = ops.reshape(x, (-1, rows * cols, p * p * channels))  # (batch, T, p·p·channels): one row per patch
        tokens = ops.matmul(x, self.kernel) + self.bias  # (batch, T, d_model)
        if not self.class_token:
            return tokens
        token = ops.cast(self.token, tokens.dtype)
        cls = ops.broadcast_to(token[None, None, :], (ops.shape(tokens)[0], 1, self.d_model))  # (batch, 1, d_model)
        return ops.concatenate([cls, tokens], axis=1)  # (batch, 1 + T, d_model)

    def compute_output_shape(self, input_shape):
        tokens = (input_shape[1] // self.patch_size) * (input_shape[2] // self.patch_size)
        return (input_shape[0], tokens + int(self.class_token), self.d_model)

    def get_config(self):
        base_config = super().get_config()
        config = {
            "patch_size": self.patch_size,
            "d_model": self.d_model,
            "class_token": self.class_token,
            "class_token_initializer": keras.initializers.serialize(self.class_token_initializer),
            **self._weight_args_config(),
        }
        return {**base_config, **config}
