"""Plots of attention: bar charts of attention vectors and grids of attention heatmaps.

Every function takes `ax=None` (or draws a new figure) and returns what it drew.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap, Normalize, to_rgb
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


#: How `plot_attention_map` outlines regions, in the order the labels of `outlines` come: a thick
#: solid cyan line first (the region the reader should look for), then dotted violet, dashed grey.
OUTLINE_STYLES = (
    {"color": "#00e5ff", "linestyle": "-", "linewidth": 2.5},
    {"color": "#c77dff", "linestyle": ":", "linewidth": 2.0},
    {"color": "#9e9e9e", "linestyle": "--", "linewidth": 1.5},
    {"color": "#2ca02c", "linestyle": "-.", "linewidth": 1.5},
)
QUERY_COLOR = "#1f77b4"


def attention_overlay_cmap(cmap="autumn_r", alpha=0.9):
    """The overlay colormap of `plot_attention_map`: `cmap`'s colours, transparent at zero weight.

    Opacity grows as the square root of the weight (so small weights stay visible), from 0 at
    the bottom of the scale to `alpha` at the top. A colour bar drawn with this colormap over the
    image's zero colour (black) shows exactly the colours drawn over the image's background.

    Returns:
        A `matplotlib.colors.ListedColormap` with 256 RGBA entries.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 < alpha <= 1.0:
        raise ValueError(f"`alpha` must be a number in (0, 1]. Received: alpha={alpha!r}")
    colours = plt.get_cmap(cmap)(np.linspace(0.0, 1.0, 256))
    colours[:, 3] = alpha * np.linspace(0.0, 1.0, 256) ** 0.5
    return ListedColormap(colours, name=f"{plt.get_cmap(cmap).name}_fading")


def _masks(name, value, shape):
    masks = list(value) if isinstance(value, (list, tuple)) else [value]
    out = []
    for mask in masks:
        mask = np.asarray(mask)
        if mask.shape != shape:
            raise ValueError(
                f"`outlines[{name!r}]` must hold masks of the image's shape {shape}. "
                f"Received: a mask of shape {mask.shape}"
            )
        out.append(mask.astype(bool))
    return out


def _outline_segments(mask):
    """The pixel edges between `mask` and the rest, as line segments in imshow coordinates."""
    padded = np.pad(mask, 1)
    segments = []
    for row, col in np.argwhere(mask):
        r, c = row + 1, col + 1  # in padded coordinates
        top, bottom, left, right = row - 0.5, row + 0.5, col - 0.5, col + 0.5
        if not padded[r - 1, c]:
            segments.append([(left, top), (right, top)])
        if not padded[r + 1, c]:
            segments.append([(left, bottom), (right, bottom)])
        if not padded[r, c - 1]:
            segments.append([(left, top), (left, bottom)])
        if not padded[r, c + 1]:
            segments.append([(right, top), (right, bottom)])
    return segments


def draw_outlines(ax, outlines, styles=OUTLINE_STYLES):
    """Outline regions on an image drawn with `imshow`, along pixel edges, one style per label.

    Args:
        ax: the Axes the image is drawn on.
        outlines: dict from a label to a boolean `(H, W)` mask or a list of masks; the labels take
            `styles` in order (a label with an empty list keeps its style's place).
        styles: line styles (`LineCollection` keyword dicts), one per label; `OUTLINE_STYLES` by
            default, or a selection of it, so that a region keeps its style from figure to figure.

    Returns:
        The legend handles of the labels that have a region, in order.
    """
    if not isinstance(outlines, dict):
        raise TypeError(f"`outlines` must be a dict from a label to masks. Received: {type(outlines).__name__}")
    if len(outlines) > len(styles):
        raise ValueError(f"`outlines` can name at most {len(styles)} labels. Received: {len(outlines)}")
    shown = []
    for (label, masks), style in zip(outlines.items(), styles):
        masks = list(masks) if isinstance(masks, (list, tuple)) else [masks]
        segments = [segment for mask in masks for segment in _outline_segments(np.asarray(mask, bool))]
        ax.add_collection(LineCollection(segments, **style))
        shown.append(label if masks else None)
    return _legend_handles(shown, query=False, styles=styles)


def _legend_handles(labels, query, styles=OUTLINE_STYLES):
    handles = [Line2D([], [], label=label, **style) for label, style in zip(labels, styles) if label]
    if query:
        handles.insert(0, Line2D([], [], marker="*", markersize=11, color=QUERY_COLOR, linestyle="none", label="query"))
    return handles


def plot_attention_map(
    image,
    attention_map,
    query=None,
    ax=None,
    title=None,
    vmax=None,
    outlines=None,
    colorbar=True,
    legend=True,
    alpha=0.9,
    cmap="autumn_r",
):
    """Overlay one query pixel's attention over all positions on the image it was computed from.

    The image is drawn in grey (0 is black). The attention is drawn on top with
    `attention_overlay_cmap(cmap, alpha)`: transparent at weight 0, more opaque and redder as the
    weight grows, clipped at `vmax`. The colour bar uses the same colormap over black, so it shows
    the colours exactly as drawn over the image's background.

    Args:
        image: `(H, W)` or `(H, W, channels)`; the first channel is drawn in grey.
        attention_map: `(H, W)` weights (the query's row of the attention matrix, reshaped).
        query: optional `(row, column)` of the query pixel, drawn as a blue star.
        ax: matplotlib Axes or None.
        title: optional title.
        vmax: the weight drawn fully opaque, top of the colour bar; None for this map's largest
            weight. Pass the same `vmax` to every panel that should share one colour scale.
        outlines: optional dict from a label to a boolean `(H, W)` mask or a list of masks; each
            region is outlined along its pixel edges, each label in its own style
            (`OUTLINE_STYLES`, in order), and named in a legend below the axes. A label with an
            empty list keeps its style's place and is left out of the legend.
        colorbar: draw a colour bar beside the axes (False when a figure shares one,
            `attention_map_colorbar`).
        legend: name the outlined regions and the query in a legend below the axes.
        alpha: opacity of the overlay at `vmax`.
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
    if vmax is None:
        vmax = float(attention_map.max()) or 1.0
    elif isinstance(vmax, bool) or not isinstance(vmax, (int, float)) or not vmax > 0:
        raise ValueError(f"`vmax` must be a number > 0 (or None). Received: vmax={vmax!r}")
    if outlines is not None and not isinstance(outlines, dict):
        raise TypeError(f"`outlines` must be a dict from a label to masks. Received: {type(outlines).__name__}")
    outlines = {label: _masks(label, masks, image.shape) for label, masks in (outlines or {}).items()}
    if ax is None:
        fig, ax = plt.subplots(figsize=(3.6 if colorbar else 3.0, 3.4 if legend and (outlines or query) else 3.0))
    else:
        fig = ax.figure
    ax.imshow(image, cmap="gray", vmin=0, vmax=max(1.0, float(image.max())), interpolation="nearest")
    overlay = ax.imshow(
        attention_map,
        cmap=attention_overlay_cmap(cmap, alpha),
        norm=Normalize(vmin=0.0, vmax=float(vmax), clip=True),
        interpolation="nearest",
    )
    draw_outlines(ax, outlines)
    if query is not None:
        row = check_index("query[0]", query[0], image.shape[0], "height")
        col = check_index("query[1]", query[1], image.shape[1], "width")
        ax.plot(col, row, marker="*", markersize=14, color=QUERY_COLOR, markeredgecolor="white", linestyle="none")
    handles = _legend_handles([label if masks else None for label, masks in outlines.items()], query is not None)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if colorbar:
        attention_map_colorbar(overlay, ax)
    if legend and handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=2, frameon=False, fontsize=8)
    if title:
        ax.set_title(title)
    return fig, ax


def attention_map_colorbar(overlay, ax, label="attention weight"):
    """One colour bar for `plot_attention_map` overlays, drawn over black like the image's background.

    Args:
        overlay: the overlay image of a panel (`ax.get_images()[-1]` after `plot_attention_map`).
        ax: the Axes (or list of Axes) the colour bar belongs to; space is taken from them.
        label: the colour bar's label.

    Returns:
        The `matplotlib.colorbar.Colorbar`.
    """
    if isinstance(ax, plt.Axes):
        fig = ax.figure
    else:
        ax = list(np.ravel(ax))
        fig = ax[0].figure
    bar = fig.colorbar(overlay, ax=ax, shrink=0.8, label=label)
    bar.ax.set_facecolor("black")  # transparent weights show the image's zero colour, as over the background
    return bar


def plot_attention_maps(images, attention_maps, queries=None, titles=None, outlines=None, vmax=None, suptitle=None):
    """A row of `plot_attention_map` panels with one colour scale, one colour bar and one legend.

    Args:
        images: `(k, H, W)` or `(k, H, W, channels)`.
        attention_maps: `(k, H, W)`.
        queries: None or k `(row, column)` pairs.
        titles: None or k titles.
        outlines: None or k dicts as in `plot_attention_map`, with the same labels in the same order
            (so that each label keeps one style across the panels).
        vmax: the shared top of the colour scale; None for the largest weight of all the maps.
        suptitle: title of the figure.

    Returns:
        `(fig, axes)`, `axes` a 1-D array of k Axes.
    """
    images = as_array("images", images, min_ndim=3)
    attention_maps = as_array("attention_maps", attention_maps, ndim=3)
    k = len(attention_maps)
    if len(images) != k or k == 0:
        raise ValueError(
            f"`images` and `attention_maps` must hold the same number (>= 1) of panels. "
            f"Received: {len(images)} images and {k} attention maps"
        )
    for name, value in (("queries", queries), ("titles", titles), ("outlines", outlines)):
        if value is not None and len(value) != k:
            raise ValueError(f"`{name}` must have one entry per panel ({k}). Received: {len(value)} entries")
    labels = [list(panel) for panel in outlines] if outlines is not None else [[]]
    if any(panel != labels[0] for panel in labels):
        raise ValueError(f"every panel's `outlines` must have the same labels in the same order. Received: {labels}")
    vmax = float(attention_maps.max()) or 1.0 if vmax is None else vmax
    fig, axes = plt.subplots(1, k, figsize=(2.6 * k + 1.0, 3.4), squeeze=False, layout="constrained")
    axes = axes[0]
    for i, ax in enumerate(axes):
        plot_attention_map(
            images[i],
            attention_maps[i],
            query=None if queries is None else queries[i],
            ax=ax,
            title=None if titles is None else titles[i],
            vmax=vmax,
            outlines=None if outlines is None else outlines[i],
            colorbar=False,
            legend=False,
        )
    attention_map_colorbar(axes[0].get_images()[-1], axes)
    shown = (
        [
            label if any(len(_masks(label, panel[label], images.shape[1:3])) for panel in outlines) else None
            for label in labels[0]
        ]
        if outlines is not None
        else []
    )
    handles = _legend_handles(shown, queries is not None)
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False, fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    return fig, axes


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
