import matplotlib.pyplot as plt
import numpy as np
import pytest

from attention_helpers.plotting import HIGHLIGHT, plot_attention_vector, show_heatmaps


def test_attention_vector_highlights_the_target_and_marks_uniform():
    vector = np.full(8, 0.1)
    vector[3] = 0.3
    _, ax = plot_attention_vector(vector, target_index=3)
    bars = ax.containers[0].patches
    assert len(bars) == 8
    np.testing.assert_allclose([b.get_height() for b in bars], vector)
    red = [i for i, b in enumerate(bars) if np.allclose(b.get_facecolor()[:3], plt.matplotlib.colors.to_rgb(HIGHLIGHT))]
    assert red == [3]
    assert any(np.allclose(line.get_ydata(), 1 / 8) for line in ax.get_lines())
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["uniform (1/8)", "expected peak (index 3)"]


@pytest.mark.parametrize("target", [0, 5, 11])
def test_attention_vector_legend_covers_no_bar_and_a_zero_target_still_shows(target):
    vector = np.full(12, 0.02)
    vector[5], vector[7] = 0.55, 0.3  # a tall bar in the middle, where a fixed corner legend would sit
    vector[target] = 0.0 if target != 5 else vector[target]
    fig, ax = plot_attention_vector(vector, target_index=target, target_label=f"planted step {target}")
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert not any(legend.overlaps(bar.get_window_extent()) for bar in ax.containers[0].patches)
    band = [p for p in ax.patches if p not in ax.containers[0].patches]  # the band behind the target
    assert len(band) == 1 and band[0].get_x() == pytest.approx(target - 0.5)
    assert ax.get_legend().get_texts()[1].get_text() == f"planted step {target}"


def test_attention_vector_draws_on_given_axes():
    fig, ax = plt.subplots()
    got_fig, got_ax = plot_attention_vector([0.5, 0.5], ax=ax)
    assert got_ax is ax and got_fig is fig


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (([[0.5, 0.5]],), ValueError, r"`vector` must have rank 1. Received: vector with shape \(1, 2\)"),
        (([0.5, 0.5], 2), ValueError, r"`target_index` must be in \[0, 1\]"),
        ((["a", "b"],), TypeError, r"`vector` must be array-like of numbers"),
    ],
)
def test_attention_vector_rejects_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        plot_attention_vector(*args)


def test_heatmaps_identity_grid_with_one_colorbar():
    matrices = np.tile(np.eye(4), (2, 3, 1, 1))  # (2 rows, 3 cols, 4, 4)
    fig, axes = show_heatmaps(matrices, "keys", "queries", titles=["a", "b", "c"])
    assert axes.shape == (2, 3)
    np.testing.assert_array_equal(axes[1, 2].get_images()[0].get_array(), np.eye(4))
    assert axes[0, 1].get_title() == "b" and axes[1, 0].get_xlabel() == "keys" and axes[1, 0].get_ylabel() == "queries"
    assert len(fig.axes) == 7  # six panels and one shared colorbar
    limits = {ax.get_images()[0].get_clim() for ax in axes.ravel()}
    assert limits == {(0.0, 1.0)}


def test_heatmaps_reject_bad_shapes():
    with pytest.raises(ValueError, match=r"`matrices` must have rank 4. Received: matrices with shape \(4, 4\)"):
        show_heatmaps(np.eye(4), "k", "q")
    with pytest.raises(ValueError, match=r"`titles` must have 1 entries"):
        show_heatmaps(np.ones((1, 1, 2, 2)), "k", "q", titles=["a", "b"])
    with pytest.raises(ValueError, match=r"`xticklabels` must have 2 labels. Received: 3"):
        show_heatmaps(np.ones((1, 1, 2, 2)), "k", "q", xticklabels=["a", "b", "c"])


def test_sequence_attention_shades_padding_and_highlights_steps():
    from attention_helpers.plotting import plot_sequence_attention

    weights = np.array([0.1, 0.5, 0.1, 0.3, 0.0, 0.0])
    _, ax = plot_sequence_attention(weights, length=4, highlight=[1, 3])
    bars = ax.patches[: len(weights)]
    np.testing.assert_allclose([b.get_height() for b in bars], weights)
    red = [i for i, b in enumerate(bars) if np.allclose(b.get_facecolor()[:3], plt.matplotlib.colors.to_rgb(HIGHLIGHT))]
    assert red == [1, 3]
    shaded = [p for p in ax.patches[len(weights) :]]
    assert len(shaded) == 1 and shaded[0].get_x() == pytest.approx(3.5)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["marked steps", "padding (masked)"]
    with pytest.raises(ValueError, match=r"`length` must be in \[0, 6\]"):
        plot_sequence_attention(weights, length=7)


def test_attention_map_overlay_fades_with_the_weight():
    from attention_helpers.plotting import plot_attention_map

    image = np.zeros((4, 5, 2))
    weights = np.zeros((4, 5))
    weights[1, 2], weights[3, 4] = 0.75, 0.25
    fig, ax = plot_attention_map(image, weights, query=(0, 1))
    overlay = ax.get_images()[1]
    rgba = overlay.to_rgba(overlay.get_array())
    assert rgba.shape == (4, 5, 4)
    assert rgba[1, 2, 3] > rgba[3, 4, 3] > rgba[0, 0, 3] == 0.0  # opacity follows the weight
    assert rgba[1, 2, 3] == pytest.approx(0.9)  # the largest weight is drawn at `alpha`
    star = ax.get_lines()[0]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (1, 0)
    assert len(fig.axes) == 2  # the map and its colorbar
    with pytest.raises(
        ValueError,
        match=r"`attention_map` must have the image's height and width \(4, 5\). Received: attention_map.shape=\(5, 4\)",
    ):
        plot_attention_map(image, weights.T)


def test_attention_map_colorbar_shows_the_colours_drawn():
    from attention_helpers.plotting import plot_attention_map

    weights = np.array([[0.0, 0.1], [0.2, 0.4]])
    fig, ax = plot_attention_map(np.zeros((2, 2)), weights, vmax=0.5)
    overlay = ax.get_images()[1]
    bar = fig.axes[1]
    (solids,) = [c for c in bar.collections if isinstance(c, plt.matplotlib.collections.QuadMesh)]
    levels = np.array([0.0, 0.1, 0.25, 0.5])
    np.testing.assert_allclose(solids.to_rgba(levels), overlay.to_rgba(levels))  # same RGBA mapping
    fig.canvas.draw()
    drawn = solids.get_facecolors()  # the bar's colours, bottom to top
    assert drawn[0, 3] < 0.1 and drawn[-1, 3] == pytest.approx(0.9)  # transparent at zero in the bar too ...
    assert plt.matplotlib.colors.to_rgba(bar.get_facecolor()) == (0.0, 0.0, 0.0, 1.0)  # ... over black, as drawn
    assert overlay.get_clim() == (0.0, 0.5) and bar.get_ylim() == (0.0, 0.5)  # vmax sets the scale
    assert bar.get_ylabel() == "attention weight"


def test_attention_map_outlines_each_label_in_its_own_style():
    from attention_helpers.plotting import OUTLINE_STYLES, plot_attention_map

    first, second, third = np.zeros((3, 6, 6), bool)
    first[0:2, 0:2] = True
    second[3:6, 3:6] = True
    third[0, 5] = True
    _, ax = plot_attention_map(
        np.zeros((6, 6)), np.full((6, 6), 1 / 36), outlines={"target": second, "others": [first, third]}
    )
    target, others = ax.collections
    assert len(target.get_segments()) == 12  # the edge of a 3×3 square: 3 unit segments per side
    assert len(others.get_segments()) == 8 + 4
    assert target.get_linestyle() != others.get_linestyle()
    np.testing.assert_allclose(target.get_color()[0], plt.matplotlib.colors.to_rgba(OUTLINE_STYLES[0]["color"]))
    xs = np.array(target.get_segments())[..., 0]
    assert xs.min() == 2.5 and xs.max() == 5.5  # along pixel edges
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["target", "others"]


def test_attention_map_rejects_bad_arguments():
    from attention_helpers.plotting import plot_attention_map

    image, weights = np.zeros((3, 3)), np.full((3, 3), 1 / 9)
    with pytest.raises(ValueError, match=r"`vmax` must be a number > 0 \(or None\). Received: vmax=0"):
        plot_attention_map(image, weights, vmax=0)
    with pytest.raises(ValueError, match=r"`outlines\['a'\]` must hold masks of the image's shape \(3, 3\)"):
        plot_attention_map(image, weights, outlines={"a": np.ones((2, 2), bool)})
    with pytest.raises(TypeError, match=r"`outlines` must be a dict"):
        plot_attention_map(image, weights, outlines=[np.ones((3, 3), bool)])
    with pytest.raises(ValueError, match=r"`alpha` must be a number in \(0, 1\]. Received: alpha=2"):
        plot_attention_map(image, weights, alpha=2)


def test_attention_maps_share_one_scale_one_colorbar_and_one_legend():
    from attention_helpers.plotting import plot_attention_maps

    images = np.zeros((3, 4, 4, 2))
    maps = np.full((3, 4, 4), 1 / 16)
    maps[1, 0, 0] = 0.5
    masks = [{"mine": np.eye(4, dtype=bool), "rest": ~np.eye(4, dtype=bool)} for _ in range(3)]
    fig, axes = plot_attention_maps(
        images, maps, queries=[(0, 0)] * 3, titles=["a", "b", "c"], outlines=masks, suptitle="t"
    )
    assert len(axes) == 3 and len(fig.axes) == 4  # three panels and one colour bar
    assert {ax.get_images()[1].get_clim() for ax in axes} == {(0.0, 0.5)}  # the largest weight of all
    assert [ax.get_title() for ax in axes] == ["a", "b", "c"] and fig.get_suptitle() == "t"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["query", "mine", "rest"]
    assert all(ax.get_legend() is None for ax in axes)
    _, axes = plot_attention_maps(images, maps, vmax=0.2)
    assert {ax.get_images()[1].get_clim() for ax in axes} == {(0.0, 0.2)}
    with pytest.raises(ValueError, match=r"`titles` must have one entry per panel \(3\). Received: 2 entries"):
        plot_attention_maps(images, maps, titles=["a", "b"])
    with pytest.raises(ValueError, match=r"the same labels in the same order"):
        plot_attention_maps(images, maps, outlines=[masks[0], masks[1], {"rest": masks[0]["rest"]}])
    with pytest.raises(ValueError, match=r"Received: 2 images and 3 attention maps"):
        plot_attention_maps(images[:2], maps)


def test_draw_outlines_on_any_image_returns_the_legend_handles():
    from attention_helpers.plotting import OUTLINE_STYLES, draw_outlines

    _, ax = plt.subplots()
    ax.imshow(np.zeros((4, 4, 3)))
    square = np.zeros((4, 4), bool)
    square[1:3, 1:3] = True
    handles = draw_outlines(ax, {"marked": [square], "none here": [], "corner": np.eye(4, dtype=bool)})
    assert [h.get_label() for h in handles] == ["marked", "corner"]
    assert len(ax.collections) == 3 and len(ax.collections[0].get_segments()) == 8
    assert ax.collections[2].get_linestyle() != ax.collections[0].get_linestyle()  # "corner" keeps the third style
    with pytest.raises(ValueError, match=r"`outlines` can name at most 4 labels. Received: 5"):
        draw_outlines(ax, {str(k): square for k in range(5)})
    picked = (OUTLINE_STYLES[0], OUTLINE_STYLES[2])
    (_, second) = draw_outlines(ax, {"a": square, "b": np.eye(4, dtype=bool)}, styles=picked)
    assert second.get_linestyle() == OUTLINE_STYLES[2]["linestyle"] and second.get_label() == "b"
    assert ax.collections[-1].get_linestyle() == ax.collections[2].get_linestyle()


def test_plot_image_grid_tiles_images_with_gaps_and_labels():
    from attention_helpers.plotting import plot_image_grid

    images = np.stack([np.full((2, 3), v) for v in (0.1, 0.2, 0.3)])  # three 2x3 tiles
    _, ax = plot_image_grid(images, labels=["a", "b", 7], columns=2, title="grid")
    mosaic = ax.images[0].get_array()
    assert mosaic.shape == (2 * 2 + 1, 2 * 3 + 1)  # two rows and two columns of tiles, 1-pixel gaps
    np.testing.assert_allclose(mosaic[:2, :3], 0.1)
    np.testing.assert_allclose(mosaic[:2, 4:], 0.2)
    np.testing.assert_allclose(mosaic[3:, :3], 0.3)
    np.testing.assert_allclose(mosaic[3:, 4:], -1.0)  # the padding tile is background
    assert [t.get_text() for t in ax.texts] == ["a", "b", "7"] and ax.get_title() == "grid"
    with pytest.raises(ValueError, match=r"one entry per image \(3\). Received: 2"):
        plot_image_grid(images, labels=["a", "b"])
    with pytest.raises(ValueError, match=r"\(n, H, W\) or \(n, H, W, 1\). Received: shape \(3, 2, 3, 2\)"):
        plot_image_grid(np.zeros((3, 2, 3, 2)))
