"""Notebook 13's Vision Transformer on handwritten digits, and the measurements it makes.

- `to_patches` / `from_patches`: images cut into square patches, one row of pixels per patch, and back;
  `patch_centres` and `grid_distances`: where each patch sits.
- `build_vit`: the ViT notebook 13 writes in its cells (`PatchEmbedding` with a CLS token, learned
  positions, pre-norm `TransformerBlock`s, the CLS token's final state → 10 logits); `build_cnn`, a
  convolutional network of about the same size; `attention_model`, the ViT's attention weights.
- `mean_attention_distance` (Dosovitskiy et al. 2020, Fig. 7), `attention_rollout` (Abnar & Zuidema
  2020), `occlusion_map`, `ink_map`, `position_similarity`, `spearman`: what the notebook measures,
  each a plain NumPy function of arrays, tested on cases whose answer is known exactly.
- `shift_images`: the random shifts of `scripts/train_vision.py`'s shift-trained runs.

Patches are numbered row by row: patch `i` of a `rows × cols` grid is at row `i // cols`, column
`i % cols`, the order `PatchEmbedding` uses.
"""

from __future__ import annotations

import numpy as np

from attention_helpers._validation import as_array, check_bool, check_int

__all__ = [
    "attention_model",
    "attention_rollout",
    "build_cnn",
    "build_vit",
    "from_patches",
    "grid_agreement",
    "grid_distances",
    "ink_map",
    "logistic_regression_accuracy",
    "mean_attention_distance",
    "neighbour_chance",
    "occlusion_map",
    "patch_centres",
    "position_similarity",
    "shift_images",
    "spearman",
    "to_patches",
]


def _check_divides(patch_size, height, width):
    patch_size = check_int("patch_size", patch_size, minimum=1)
    if height % patch_size or width % patch_size:
        raise ValueError(f"`patch_size` must divide the image's height and width. Received: patch_size={patch_size} "
                         f"for images of height {height} and width {width}")
    return patch_size


def to_patches(images, patch_size):
    """`(n, height, width, channels)` images → `(n, T, patch_size² · channels)` patches, row by row.

    Each patch is flattened in the order of its pixel rows, then columns, then channels: the order
    `PatchEmbedding` (and a `Conv2D` kernel reshaped to a matrix) uses.
    """
    images = as_array("images", images, ndim=4, dtype=None)
    n, height, width, channels = images.shape
    p = _check_divides(patch_size, height, width)
    x = images.reshape(n, height // p, p, width // p, p, channels)  # (n, rows, p, cols, p, channels)
    return x.transpose(0, 1, 3, 2, 4, 5).reshape(n, (height // p) * (width // p), p * p * channels)


def from_patches(patches, patch_size, height, width):
    """The inverse of `to_patches`: `(n, T, patch_size² · channels)` → `(n, height, width, channels)`."""
    patches = as_array("patches", patches, ndim=3, dtype=None)
    height = check_int("height", height, minimum=1)
    width = check_int("width", width, minimum=1)
    p = _check_divides(patch_size, height, width)
    rows, cols = height // p, width // p
    n, tokens, features = patches.shape
    if tokens != rows * cols or features % (p * p):
        raise ValueError(f"`patches` must be (n, {rows * cols}, {p}·{p}·channels) for {height}×{width} images cut "
                         f"into {p}×{p} patches. Received: patches with shape {patches.shape}")
    channels = features // (p * p)
    x = patches.reshape(n, rows, cols, p, p, channels).transpose(0, 1, 3, 2, 4, 5)  # (n, rows, p, cols, p, channels)
    return x.reshape(n, height, width, channels)


def patch_centres(grid_shape, patch_size=1):
    """`(T, 2)` (row, column) of every patch's centre, in pixels when `patch_size` is given, row by row."""
    rows, cols = (check_int("grid_shape", size, minimum=1) for size in grid_shape)
    patch_size = check_int("patch_size", patch_size, minimum=1)
    r, c = np.divmod(np.arange(rows * cols), cols)
    return (np.stack([r, c], axis=1) + 0.5) * patch_size


def grid_distances(grid_shape, patch_size=1):
    """`(T, T)` Euclidean distances between patch centres (in pixels for `patch_size` pixels a patch)."""
    centres = patch_centres(grid_shape, patch_size)
    return np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=-1)


def _grid_side(tokens, what):
    side = round(np.sqrt(tokens))
    if side * side != tokens:
        raise ValueError(f"{what}: expected a square grid of patches. Received {tokens} patch tokens")
    return side


def mean_attention_distance(weights, patch_size, class_token=True):
    """The mean distance, in pixels, between each patch and the patches it attends to (ViT paper, Fig. 7).

    For a query patch q, `Σ_k α_qk · distance(q, k)` over the patch keys k, with the weights over patch
    keys renormalised to sum to 1 (the CLS token has no place in the image); then the mean over query
    patches. An identity pattern gives 0; a uniform one gives the mean distance between two patches
    of the grid (self-pairs included).

    Args:
        weights: `(..., T_q, T_k)` attention weights over a square grid of patches, the CLS token first
            when `class_token` (its row and column are left out).
        patch_size: pixels per patch side.
        class_token: whether token 0 is a CLS token.

    Returns:
        `(...)`: the mean over query patches, e.g. `(batch, heads)` for `(batch, heads, T, T)`.
    """
    weights = as_array("weights", weights, min_ndim=2)
    class_token = check_bool("class_token", class_token)
    if class_token:
        weights = weights[..., 1:, 1:]
    side = _grid_side(weights.shape[-1], "mean_attention_distance")
    if weights.shape[-2] != weights.shape[-1]:
        raise ValueError(f"`weights` must be square over tokens. Received: weights with shape {weights.shape}")
    if np.any(weights < 0):
        raise ValueError("`weights` must be non-negative (attention weights). Received: weights with negative entries")
    total = weights.sum(axis=-1, keepdims=True)
    weights = weights / np.where(total > 0, total, 1.0)
    distance = (weights * grid_distances((side, side), patch_size)).sum(axis=-1)  # (..., T_q)
    return distance.mean(axis=-1)


def attention_rollout(weights_per_layer, residual=True):
    """Attention rollout (Abnar & Zuidema 2020): how much each token flows into each token through the layers.

    Per layer, the heads' weights are averaged; with `residual`, half of each token's flow is its own
    (the residual connection), `A' = (A + I) / 2`, rows renormalised; the layers' matrices are then
    multiplied, first layer rightmost: `R = A'_L ··· A'_1`. Row `i` of `R` says from which input tokens
    token `i` of the last layer draws; the CLS token's row over the patches is the usual map.

    Args:
        weights_per_layer: a list, first layer first, of `(batch, heads, T, T)` (or `(heads, T, T)`) weights.
        residual: add the identity for the residual connection (the paper's rollout).

    Returns:
        `(batch, T, T)` (or `(T, T)`): rows sum to 1 where the weights' rows do.
    """
    if not isinstance(weights_per_layer, (list, tuple)) or not weights_per_layer:
        raise TypeError(f"`weights_per_layer` must be a non-empty list of arrays, first layer first. Received: "
                        f"{type(weights_per_layer).__name__}")
    residual = check_bool("residual", residual)
    rollout = None
    for index, weights in enumerate(weights_per_layer):
        weights = as_array(f"weights_per_layer[{index}]", weights, min_ndim=3)
        if weights.shape[-1] != weights.shape[-2]:
            raise ValueError(f"`weights_per_layer[{index}]` must be (..., heads, T, T). "
                             f"Received: shape {weights.shape}")
        mixed = weights.mean(axis=-3)  # average over heads: (..., T, T)
        if residual:
            mixed = (mixed + np.eye(mixed.shape[-1])) / 2
            mixed = mixed / mixed.sum(axis=-1, keepdims=True)
        if rollout is not None and rollout.shape != mixed.shape:
            raise ValueError(f"every layer's weights must have the same shape. Received: {rollout.shape} before "
                             f"{mixed.shape} at weights_per_layer[{index}]")
        rollout = mixed if rollout is None else mixed @ rollout
    return rollout


def occlusion_map(predict, images, labels, patch_size, fill=-1.0, batch_size=2048):
    """How much hiding each patch lowers the probability of the true class.

    Each patch in turn is set to `fill` (-1, the digits' background), and the drop
    `p(label | image) - p(label | image with the patch hidden)` is recorded: a direct test of what the
    prediction needs, unlike an attention map.

    Args:
        predict: a function of images `(n, H, W, C)` returning class probabilities `(n, classes)`.
        images: `(n, H, W, C)`.
        labels: `(n,)` int classes.
        patch_size: side of a hidden square.
        fill: the value put in a hidden patch.
        batch_size: images given to `predict` at once.

    Returns:
        `(n, H / patch_size, W / patch_size)`: the drop for each patch, on the patch grid.
    """
    images = as_array("images", images, ndim=4, dtype="float32")
    labels = as_array("labels", labels, ndim=1, dtype=int)
    if len(labels) != len(images):
        raise ValueError(f"`labels` must have one entry per image. "
                         f"Received: {len(labels)} labels, {len(images)} images")
    n, height, width, _ = images.shape
    p = _check_divides(patch_size, height, width)
    rows, cols = height // p, width // p
    hidden = np.repeat(images[None], rows * cols, axis=0)  # (T, n, H, W, C)
    for index in range(rows * cols):
        r, c = divmod(index, cols)
        hidden[index, :, r * p:(r + 1) * p, c * p:(c + 1) * p, :] = fill
    everything = np.concatenate([images, hidden.reshape(-1, height, width, images.shape[-1])])
    probabilities = np.concatenate([np.asarray(predict(everything[start:start + batch_size]))
                                    for start in range(0, len(everything), batch_size)])
    true_class = probabilities[np.arange(len(everything)), np.tile(labels, rows * cols + 1)].reshape(-1, n)
    return (true_class[0][None] - true_class[1:]).T.reshape(n, rows, cols)  # (n, rows, cols)


def ink_map(images, patch_size):
    """`(n, rows, cols)`: the mean ink of each patch, 0 for background (-1) to 1 for a full stroke (+1)."""
    patches = to_patches(images, patch_size)
    n, height, width, _ = np.shape(images)
    return ((patches.mean(axis=-1) + 1) / 2).reshape(n, height // patch_size, width // patch_size)


def position_similarity(embeddings):
    """`(T, T)` cosine similarity between the rows of a `(T, d)` table of position embeddings."""
    embeddings = as_array("embeddings", embeddings, ndim=2)
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    return unit @ unit.T


def grid_agreement(similarity):
    """How grid-like a `(T, T)` similarity between the patches of a square grid is: two figures.

    Returns:
        `(rank correlation, neighbour share)`: the Spearman correlation between the similarity and
        minus the grid distance over all pairs of distinct patches (positive when nearby patches are
        more alike), and the share of patches whose most similar other patch is a grid neighbour
        (above, below, left or right; 3 neighbours of 15 on average on a 4 × 4 grid, 0.2 by chance).
    """
    similarity = as_array("similarity", similarity, ndim=2)
    side = _grid_side(similarity.shape[0], "grid_agreement")
    distances = grid_distances((side, side))
    other = ~np.eye(len(similarity), dtype=bool)
    correlation = float(spearman(similarity[other], -distances[other]))
    nearest = np.where(other, similarity, -np.inf).argmax(axis=1)
    share = float(np.mean(np.isclose(distances[np.arange(len(similarity)), nearest], 1.0)))
    return correlation, share


def neighbour_chance(side):
    """The share `grid_agreement` expects from a random nearest patch: mean neighbours / (T - 1)."""
    side = check_int("side", side, minimum=2)
    distances = grid_distances((side, side))
    return float(np.isclose(distances, 1.0).sum(axis=1).mean() / (side * side - 1))


def spearman(a, b, axis=None):
    """Spearman rank correlation of `a` and `b` (ties get their mean rank); along `axis`, or of all entries.

    With `axis`, one correlation per slice; a slice with a constant `a` or `b` gives NaN.
    """
    from scipy.stats import rankdata

    a, b = as_array("a", a), as_array("b", b)
    if a.shape != b.shape:
        raise ValueError(f"`a` and `b` must have the same shape. Received: {a.shape} and {b.shape}")
    if axis is None:
        a, b, axis = a.ravel(), b.ravel(), 0
    ra, rb = rankdata(a, axis=axis), rankdata(b, axis=axis)
    ra = ra - ra.mean(axis=axis, keepdims=True)
    rb = rb - rb.mean(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ra * rb).sum(axis=axis) / np.sqrt((ra**2).sum(axis=axis) * (rb**2).sum(axis=axis))


def shift_images(images, max_shift, seed=None, vertical=True, fill=-1.0):
    """Each image moved by a random whole number of pixels in [-max_shift, max_shift], rows and columns apart.

    What moves out of the frame is lost; what comes in is `fill` (the background). With
    `vertical=False` the images move sideways only.
    """
    images = as_array("images", images, ndim=4, dtype="float32")
    max_shift = check_int("max_shift", max_shift, minimum=0)
    vertical = check_bool("vertical", vertical)
    rng = np.random.default_rng(seed)
    n, height, width, _ = images.shape
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)), constant_values=fill)
    dy, dx = rng.integers(-max_shift, max_shift + 1, size=(2, n))
    if not vertical:
        dy = np.zeros_like(dy)
    out = np.empty_like(images)
    for i in range(n):
        top, left = max_shift - dy[i], max_shift - dx[i]
        out[i] = padded[i, top:top + height, left:left + width]
    return out


def logistic_regression_accuracy(train_images, train_labels, test_images, test_labels):
    """Test accuracy of scikit-learn's logistic regression on the raw pixels: the linear yardstick."""
    from sklearn.linear_model import LogisticRegression

    flat = [np.reshape(images, (len(images), -1)) for images in (train_images, test_images)]
    fitted = LogisticRegression(max_iter=1000).fit(flat[0], train_labels)
    return float(fitted.score(flat[1], test_labels))


def build_vit(
    image_size=16,
    patch_size=4,
    d_model=32,
    num_heads=2,
    num_layers=2,
    ff_dim=64,
    positions=True,
    learning_rate=3e-3,
    decay_steps=336,
):
    """The Vision Transformer notebook 13 writes in its cells, small.

    images `(batch, image_size, image_size, 1)` → `PatchEmbedding` (patches as tokens, CLS token first)
    → + `PositionEmbedding` (learned, one vector per token; left out with `positions=False`) →
    `num_layers` × pre-norm `TransformerBlock` (GELU) → LayerNorm → the CLS token's state → Dense: 10
    logits. Every block is called with `return_attention_scores=True`, so `attention_model` can read
    its weights.

    Args:
        image_size: side of the square input images, in pixels.
        patch_size: side of a patch; must divide `image_size`.
        d_model: width of every token's vector.
        num_heads: heads per block, each of width `d_model // num_heads`.
        num_layers: Transformer blocks.
        ff_dim: hidden width of each block's feed-forward network.
        positions: whether to add learned position embeddings.
        learning_rate: Adam's initial rate, decayed along a cosine to 0 over `decay_steps` steps.
        decay_steps: the training's number of steps.

    Returns:
        a `keras.Model` compiled with Adam and cross-entropy on logits, with an accuracy metric.
    """
    import keras

    from attention_helpers import layers

    image_size = check_int("image_size", image_size, minimum=1)
    _check_divides(patch_size, image_size, image_size)
    positions = check_bool("positions", positions)
    if d_model % num_heads:
        raise ValueError(f"`d_model` must be a multiple of `num_heads`. Received: d_model={d_model}, "
                         f"num_heads={num_heads}")
    tokens = (image_size // patch_size) ** 2 + 1  # the patches and the CLS token
    images = keras.Input(shape=(image_size, image_size, 1), name="images")
    x = layers.PatchEmbedding(patch_size, d_model, name="patch_embedding")(images)  # (batch, tokens, d_model)
    if positions:
        x = x + layers.PositionEmbedding(tokens, name="position_embedding")(x)
    for i in range(num_layers):
        block = layers.TransformerBlock(num_heads, d_model // num_heads, ff_dim, norm_first=True, activation="gelu",
                                        name=f"block_{i}")
        x, _ = block(x, return_attention_scores=True)  # the weights: (batch, heads, tokens, tokens)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    logits = keras.layers.Dense(10, name="head")(x[:, 0])  # the CLS token's final state → 10 classes
    model = keras.Model(images, logits, name="vit")
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def attention_model(model):
    """A model sharing `model`'s layers that returns every block's attention weights, first block first.

    Each output is `(batch, heads, tokens, tokens)`; `model` is a `build_vit` model.
    """
    import keras

    blocks = [layer for layer in model.layers if layer.name.startswith("block_")]
    if not blocks:
        names = [layer.name for layer in model.layers]
        raise ValueError(f"`model` has no layer named 'block_...'. Received layers: {names}")
    return keras.Model(model.inputs, [block.output[1] for block in blocks], name=f"{model.name}_attention")


def build_cnn(image_size=16, filters=(12, 24), hidden=40, learning_rate=3e-3, decay_steps=336):
    """A small convolutional network for the same digits, about as many weights as `build_vit()`'s.

    Two blocks of `Conv2D(3 × 3, same, ReLU)` + `MaxPooling2D(2)`, then Flatten → Dense(hidden, ReLU)
    → Dense(10) logits; compiled like `build_vit` (Adam with cosine decay, cross-entropy on logits).
    """
    import keras

    image_size = check_int("image_size", image_size, minimum=4)
    images = keras.Input(shape=(image_size, image_size, 1), name="images")
    x = images
    for i, width in enumerate(filters):
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv_{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool_{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(hidden, activation="relu", name="hidden")(x)
    logits = keras.layers.Dense(10, name="head")(x)
    model = keras.Model(images, logits, name="cnn")
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model
