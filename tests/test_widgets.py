import numpy as np
import pytest

from attention_helpers import reference
from attention_helpers.widgets import DenseTaskExplorer, QueryExplorer

KEYS = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])


def test_query_explorer_update_matches_reference():
    explorer = QueryExplorer(KEYS, score="dot")
    weights = explorer.update(angle_degrees=90, length=3.0)
    expected = reference.softmax(KEYS @ np.array([0.0, 3.0]))
    np.testing.assert_allclose(weights, expected, atol=1e-12)
    assert weights.argmax() == 1
    np.testing.assert_allclose(explorer.update(angle_degrees=45, length=0.0), 1 / 3)


def test_query_explorer_widget_redraws_on_slider_change():
    explorer = QueryExplorer(KEYS, score="scaled_dot")
    box = explorer.widget()
    angle, length, _ = box.children
    angle.value, length.value = 180, 4.0
    assert explorer.last_weights.argmax() == 2
    np.testing.assert_allclose(
        explorer.last_weights, reference.softmax(KEYS @ np.array([-4.0, 0.0]) / np.sqrt(2)), atol=1e-9
    )


def test_query_explorer_draw_returns_a_figure():
    fig = QueryExplorer(KEYS).draw(0, 1.0)
    assert len(fig.axes) == 2


def test_query_explorer_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`keys` must have shape \(n_keys >= 2, 2\). Received: keys.shape=\(3, 3\)"):
        QueryExplorer(np.ones((3, 3)))
    with pytest.raises(ValueError, match="Expected one of"):
        QueryExplorer(KEYS, score="cosine")
    with pytest.raises(ValueError, match=r"`length` must be a finite number >= 0. Received: length=-1"):
        QueryExplorer(KEYS).update(0, -1)
    with pytest.raises(ValueError, match="`key_labels` must have 3 entries"):
        QueryExplorer(KEYS, key_labels=["a"])


def test_dense_task_explorer_update_follows_the_target():
    explorer = DenseTaskExplorer(dims=8, n_train=1500, epochs=3)
    attention = explorer.update(5)
    assert attention.shape == (8,)
    assert int(np.argmax(attention)) == 5
    assert explorer.last_result["accuracy"] > 0.9


def test_dense_task_explorer_rejects_bad_target():
    with pytest.raises(ValueError, match=r"`target_index` must be in \[0, 7\] \(dims=8\). Received: target_index=8"):
        DenseTaskExplorer(dims=8).update(8)


def test_placement_explorer_trains_both_and_before_finds_the_step():
    from attention_helpers.widgets import PlacementExplorer

    explorer = PlacementExplorer(steps=10, n_train=1200, epochs=4)
    attention = explorer.update(3)
    assert set(attention) == {"before", "after"}
    assert all(v.shape == (10,) for v in attention.values())
    assert int(np.argmax(attention["before"])) == 3
    box = explorer.widget()
    assert len(box.children) == 2


def test_placement_explorer_rejects_bad_step():
    from attention_helpers.widgets import PlacementExplorer

    with pytest.raises(ValueError, match=r"`target_step` must be in \[0, 9\] \(steps=10\). Received: target_step=10"):
        PlacementExplorer(steps=10).update(10)


def test_attention_map_explorer_reads_the_query_row():
    from attention_helpers.widgets import AttentionMapExplorer

    images = np.zeros((2, 3, 4, 1))
    attention = np.random.default_rng(0).random((2, 12, 12))
    explorer = AttentionMapExplorer(images, attention)
    np.testing.assert_array_equal(explorer.update(1, 2, 3), attention[1, 11].reshape(3, 4))
    box = explorer.widget()
    index, row, col, _ = box.children
    index.value, row.value, col.value = 0, 0, 1
    with pytest.raises(ValueError, match=r"`row` must be in \[0, 2\] \(height=3\). Received: row=3"):
        explorer.update(0, 3, 0)
    with pytest.raises(ValueError, match=r"`attention` must have shape \(n, H\*W, H\*W\) = \(2, 12, 12\)"):
        AttentionMapExplorer(images, attention[:, :6])
    with pytest.raises(
        ValueError, match=r"or \(2, 12, 4\) with 2×2-pooled keys.*Received: attention.shape=\(2, 12, 5\)"
    ):
        AttentionMapExplorer(images, attention[:, :, :5])


def test_attention_map_explorer_spreads_pooled_keys_over_their_blocks():
    from attention_helpers.widgets import AttentionMapExplorer

    images = np.zeros((1, 3, 5, 1))  # odd sizes: the pooled grid is 2 x 3 ("same" padding)
    attention = np.zeros((1, 15, 6))
    attention[0, 7, 5] = 0.75  # query pixel (1, 2) puts 0.75 on the bottom-right block ...
    attention[0, 7, 0] = 0.25  # ... and 0.25 on the top-left block
    explorer = AttentionMapExplorer(images, attention)
    expected = np.zeros((3, 5))
    expected[2:, 4:] = 0.75  # the bottom-right block holds only pixel (2, 4) at this size
    expected[:2, :2] = 0.25
    np.testing.assert_array_equal(explorer.update(0, 1, 2), expected)
    assert explorer.draw(0, 1, 2).axes


def test_attention_map_explorer_outlines_objects_by_role_on_one_scale():
    import matplotlib.pyplot as plt

    from attention_helpers.data import two_objects_task
    from attention_helpers.plotting import OUTLINE_STYLES
    from attention_helpers.widgets import AttentionMapExplorer

    images, _, corners, objects = two_objects_task(2, seed=0, return_objects=True)
    attention = np.full((2, 144, 144), 1 / 144)
    explorer = AttentionMapExplorer(images, attention, objects=objects, vmax=0.05)
    (r, c), _ = corners[1]
    regions = explorer.outlines(1, r, c)  # a query on the first marked square
    assert list(regions) == ["other marked object", "query's own object", "unmarked objects"]
    np.testing.assert_array_equal(regions["other marked object"][0], objects[1] == 2)
    np.testing.assert_array_equal(regions["query's own object"][0], objects[1] == 1)
    assert len(regions["unmarked objects"]) == 3
    background = np.argwhere(objects[1] == 0)[0]
    assert explorer.outlines(1, *background)["query's own object"] == []
    fig = explorer.draw(1, r, c)
    ax = fig.axes[0]
    assert ax.get_images()[1].get_clim() == (0.0, 0.05)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "query",
        "other marked object",
        "query's own object",
        "unmarked objects",
    ]
    np.testing.assert_allclose(
        ax.collections[0].get_color()[0], plt.matplotlib.colors.to_rgba(OUTLINE_STYLES[0]["color"])
    )
    fig = explorer.draw(1, *background)  # no own object: the others keep their styles
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["query", "other marked object", "unmarked objects"]
    assert (
        ax.collections[-1].get_linestyle()
        == plt.matplotlib.collections.LineCollection([], linestyle=OUTLINE_STYLES[2]["linestyle"]).get_linestyle()
    )
    with pytest.raises(ValueError, match=r"`objects` must have shape \(n, H, W\) = \(2, 12, 12\)"):
        AttentionMapExplorer(images, attention, objects=objects[:1])


def test_retrain_buttons_draw_for_the_slider_value():
    import matplotlib.pyplot as plt

    from attention_helpers.widgets import PlacementExplorer

    for explorer in (DenseTaskExplorer(dims=6), PlacementExplorer(steps=6)):
        calls = []
        explorer.draw = lambda value, calls=calls: calls.append(value) or plt.figure()  # no training here
        box = explorer.widget()
        assert calls == []  # nothing trains until the button is pressed
        slider, button = box.children[0].children
        slider.value = 4
        assert calls[-1:] != [4]  # moving the slider alone does not retrain
        button.click()
        assert calls[-1] == 4


def test_explorers_start_where_asked_and_draw_known_results_without_training():
    import matplotlib.pyplot as plt

    from attention_helpers.widgets import AttentionMapExplorer, PlacementExplorer

    box = QueryExplorer(KEYS).widget(angle_degrees=45, length=3.0)
    assert [control.value for control in box.children[:2]] == [45, 3.0]

    images, attention = np.zeros((2, 4, 4, 1)), np.full((2, 16, 16), 1 / 16)
    box = AttentionMapExplorer(images, attention).widget(index=1, row=3, col=0)
    assert [control.value for control in box.children[:3]] == [1, 3, 0]
    assert [control.value for control in AttentionMapExplorer(images, attention).widget().children[:3]] == [0, 2, 2]

    known_vector = np.eye(6)[2] * 0.5 + 0.1
    dense = DenseTaskExplorer(dims=6, known={2: {"attention": known_vector, "accuracy": 0.97}})
    assert np.array_equal(dense.update(2), known_vector) and dense.last_result["accuracy"] == 0.97  # no training
    placement = PlacementExplorer(steps=6, known={4: {p: {"attention": known_vector, "accuracy": 1.0}
                                                      for p in ("before", "after")}})
    assert np.array_equal(placement.update(4)["after"], known_vector)
    for explorer, start in ((dense, 2), (placement, 4)):
        calls = []
        explorer.draw = lambda value, calls=calls: calls.append(value) or plt.figure()
        explorer.widget(start)
        assert calls == [start]  # a known start is drawn at once; an unknown one waits for the button
        explorer.widget(0)
        assert calls == [start]


def test_known_results_must_fit_the_explorer():
    from attention_helpers.widgets import PlacementExplorer

    with pytest.raises(ValueError, match=r"`known\[1\]\['attention'\]` must have shape \(6,\). Received: shape \(5,\)"):
        DenseTaskExplorer(dims=6, known={1: {"attention": np.ones(5), "accuracy": 1.0}})
    with pytest.raises(ValueError, match=r"`known\[1\]` must have the keys 'before' and 'after'. Received: \['before'\]"):
        PlacementExplorer(steps=6, known={1: {"before": {"attention": np.ones(6), "accuracy": 1.0}}})
    with pytest.raises(ValueError, match="known target index"):
        DenseTaskExplorer(dims=6, known={9: {"attention": np.ones(6), "accuracy": 1.0}})
