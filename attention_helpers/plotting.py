"""Plots of attention: bar charts of attention vectors and grids of attention heatmaps.

Every function takes `ax=None` (or draws a new figure) and returns what it drew.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from attention_helpers._validation import as_array, check_index

HIGHLIGHT = "#d62728"
BASE = "#1f77b4"


def plot_attention_vector(vector, target_index=None, ax=None, title=None, xlabel="input index", target_label=None):
    """Bar chart of one attention vector, one index highlighted in red and the uniform share dashed.

    The highlighted index gets a red bar and a light red band behind it, so that it shows even
    where its weight is zero.

    Args:
        vector: 1-D array of attention weights (for example the mean over a test set).
        target_index: the index to highlight (for example where the label is planted); None for none.
        ax: an existing matplotlib Axes, or None for a new figure.
        title: optional title.
        xlabel: label of the x axis.
        target_label: legend entry of the highlighted index; default "expected peak (index i)".

    Returns:
        `(fig, ax)`.
    """
    vector = as_array("vector", vector, ndim=1)
    if vector.size == 0:
        raise ValueError("`vector` must not be empty. Received: vector with shape (0,)")
    if target_index is not None:
        target_index = check_index("target_index", target_index, vector.size, "len(vector)")
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    positions = np.arange(vector.size)
    colors = [HIGHLIGHT if i == target_index else BASE for i in positions]
    ax.bar(positions, vector, color=colors)
    uniform = 1.0 / vector.size
    ax.axhline(uniform, color="gray", linestyle="--", linewidth=1)
    handles = [Line2D([], [], color="gray", linestyle="--", label=f"uniform (1/{vector.size})")]
    if target_index is not None:
        ax.axvspan(target_index - 0.5, target_index + 0.5, color=HIGHLIGHT, alpha=0.12, linewidth=0)
        label = target_label or f"expected peak (index {target_index})"
        # The legend shows the band (always there) edged with the bar's colour (only as tall as the weight).
        handles.append(Patch(facecolor=(*to_rgb(HIGHLIGHT), 0.25), edgecolor=HIGHLIGHT, label=label))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("attention weight")
    step = 1 if vector.size <= 20 else max(1, vector.size // 16)
    ax.set_xticks(positions[::step])
    ax.set_xlim(-0.7, vector.size - 0.3)
    ax.set_ylim(0, max(float(vector.max()), uniform) * 1.35)  # head room for the legend
    ax.legend(handles=handles, loc="best", frameon=False)
    if title:
        ax.set_title(title)
    return fig, ax


def show_heatmaps(
    matrices,
    xlabel,
    ylabel,
    titles=None,
    figsize=(2.8, 2.8),
    cmap="Reds",
    xticklabels=None,
    yticklabels=None,
    vmin=0.0,
    vmax=None,
    annotate=False,
):
    """A grid of heatmaps with one shared colorbar (after d2l's `show_heatmaps`).

    Args:
        matrices: array of shape `(rows, cols, queries, keys)`.
        xlabel, ylabel: axis labels, shown on the bottom row and the left column.
        titles: None, or a list of `cols` titles (one per column), or a `(rows, cols)` nested list.
        figsize: size of one panel, in inches.
        cmap: matplotlib colormap.
        xticklabels, yticklabels: optional labels for the keys and queries (for example tokens).
        vmin, vmax: colour range shared by every panel (vmax defaults to the largest value).
        annotate: write each weight (rounded to 2 decimals) in its cell; for small matrices.

    Returns:
        `(fig, axes)` with `axes` a `(rows, cols)` array.
    """
    matrices = as_array("matrices", matrices, ndim=4)
    rows, cols, n_queries, n_keys = matrices.shape
    if min(matrices.shape) == 0:
        raise ValueError(f"`matrices` must not have an empty axis. Received: matrices.shape={matrices.shape}")
    if titles is not None:
        titles = np.asarray(titles, dtype=object)
        if titles.shape == (cols,):
            titles = np.tile(titles, (rows, 1))
        if titles.shape != (rows, cols):
            raise ValueError(
                f"`titles` must have {cols} entries or shape ({rows}, {cols}). Received: shape {titles.shape}"
            )
    for name, labels, size in (("xticklabels", xticklabels, n_keys), ("yticklabels", yticklabels, n_queries)):
        if labels is not None and len(labels) != size:
            raise ValueError(f"`{name}` must have {size} labels. Received: {len(labels)} labels")
    vmax = float(matrices.max()) if vmax is None else vmax
    fig, axes = plt.subplots(
        rows, cols, figsize=(figsize[0] * cols + 0.8, figsize[1] * rows), squeeze=False, sharex=True, sharey=True
    )
    image = None
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            image = ax.imshow(matrices[r, c], cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
            ax.grid(False)
            if r == rows - 1:
                ax.set_xlabel(xlabel)
            if c == 0:
                ax.set_ylabel(ylabel)
            if titles is not None:
                ax.set_title(str(titles[r, c]))
            if xticklabels is not None:
                ax.set_xticks(range(n_keys), labels=list(xticklabels), rotation=90 if n_keys > 8 else 0)
            if yticklabels is not None:
                ax.set_yticks(range(n_queries), labels=list(yticklabels))
            if annotate:
                for (i, j), value in np.ndenumerate(matrices[r, c]):
                    dark = value > (vmin + vmax) / 2
                    ax.text(
                        j, i, f"{value:.2f}", ha="center", va="center", fontsize=8, color="white" if dark else "black"
                    )
    fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
    return fig, axes


def plot_sequence_attention(weights, length=None, highlight=(), ax=None, title=None):
    """Attention weights over the steps of one padded sequence: padding shaded, chosen steps in red.

    Args:
        weights: 1-D weights over the (padded) steps.
        length: number of real steps; steps from `length` on are drawn as padding. None for no padding.
        highlight: indices of steps to draw in red (for example the marked steps of a task).
        ax: matplotlib Axes or None.
        title: optional title.

    Returns:
        `(fig, ax)`.
    """
    weights = as_array("weights", weights, ndim=1)
    steps = weights.size
    if length is not None:
        length = check_index("length", length, steps + 1, "len(weights) + 1")
    highlight = [check_index("highlight", int(i), steps, "len(weights)") for i in highlight]
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 2.6))
    else:
        fig = ax.figure
    colors = [HIGHLIGHT if i in highlight else BASE for i in range(steps)]
    ax.bar(np.arange(steps), weights, color=colors)
    handles = [Patch(color=HIGHLIGHT, label="marked steps")] if highlight else []
    if length is not None and length < steps:
        ax.axvspan(length - 0.5, steps - 0.5, color="gray", alpha=0.25)
        handles.append(Patch(color="gray", alpha=0.25, label="padding (masked)"))
    ax.set_xlim(-0.7, steps - 0.3)
    ax.set_xlabel("time step")
    ax.set_ylabel("attention weight")
    if handles:
        ax.legend(handles=handles, loc="upper right", frameon=False)
    if title:
        ax.set_title(title)
    return fig, ax


def plot_attention_map(image, attention_map, query=None, ax=None, title=None, alpha=0.9, cmap="autumn_r"):
    """Overlay one query pixel's attention over all positions on the image it was computed from.

    Args:
        image: `(H, W)` or `(H, W, channels)`; the first channel is drawn in grey.
        attention_map: `(H, W)` weights (the query's row of the attention matrix, reshaped).
        query: optional `(row, column)` of the query pixel, drawn as a star.
        ax: matplotlib Axes or None.
        title: optional title.
        alpha: opacity of the overlay where the weight is largest (it fades to 0 with the weight).
        cmap: colormap of the overlay.

    Returns:
        `(fig, ax)`.
    """
    image = as_array("image", image, min_ndim=2)
    if image.ndim == 3:
        image = image[..., 0]
    attention_map = as_array("attention_map", attention_map, ndim=2)
    if attention_map.shape != image.shape[:2]:
        raise ValueError(
            f"`attention_map` must have the image's height and width {image.shape[:2]}. "
            f"Received: attention_map.shape={attention_map.shape}"
        )
    if ax is None:
        fig, ax = plt.subplots(figsize=(3.2, 3.2))
    else:
        fig = ax.figure
    ax.imshow(image, cmap="gray", vmin=0, vmax=max(1.0, float(image.max())))
    # Opacity follows the weight, so the image stays visible where the query does not look.
    top = float(attention_map.max()) or 1.0
    norm = plt.Normalize(vmin=0.0, vmax=top)
    colours = plt.get_cmap(cmap)(norm(attention_map))
    colours[..., 3] = alpha * np.clip(attention_map / top, 0.0, 1.0) ** 0.5
    ax.imshow(colours)
    overlay = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    if query is not None:
        row = check_index("query[0]", query[0], image.shape[0], "height")
        col = check_index("query[1]", query[1], image.shape[1], "width")
        ax.plot(col, row, marker="*", markersize=14, color="#1f77b4", markeredgecolor="white")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    fig.colorbar(overlay, ax=ax, shrink=0.8, label="attention weight")
    if title:
        ax.set_title(title)
    return fig, ax


def plot_image_grid(images, labels=None, columns=10, ax=None, title=None, vmin=-1.0, vmax=1.0):
    """Many small grey images tiled into one picture (one `imshow`, fast), with optional labels.

    Args:
        images: `(n, H, W)` or `(n, H, W, 1)`.
        labels: None, or n short strings or numbers, written at each image's top-left corner.
        columns: images per row; the last row is padded with blank tiles.
        ax: matplotlib Axes or None.
        title: optional title.
        vmin, vmax: the grey scale shared by every image (default [-1, 1], a tanh generator's range).

    Returns:
        `(fig, ax)`.
    """
    images = as_array("images", images, min_ndim=3)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError(f"`images` must have shape (n, H, W) or (n, H, W, 1). Received: shape {images.shape}")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"`labels` must have one entry per image ({len(images)}). Received: {len(labels)}")
    n, height, width = images.shape
    rows = -(-n // columns)
    gap = 1  # pixels of background between tiles
    mosaic = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), vmin, dtype=float)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        mosaic[r * (height + gap) : r * (height + gap) + height, c * (width + gap) : c * (width + gap) + width] = image
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.8 * columns, 0.8 * rows + 0.4))
    else:
        fig = ax.figure
    ax.imshow(mosaic, cmap="gray", vmin=vmin, vmax=vmax)
    if labels is not None:
        for i, label in enumerate(labels):
            r, c = divmod(i, columns)
            ax.text(c * (width + gap), r * (height + gap), str(label), color=HIGHLIGHT, fontsize=8, va="top")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title)
    return fig, ax
