"""ipywidgets explorers for the notebooks (core widgets only: sliders, buttons, Output).

Each explorer keeps its computation in plain methods (`update`, `draw`) that tests call without a
browser; `widget()` only wires sliders to them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from attention_helpers import reference
from attention_helpers._validation import as_array, check_index, check_int, check_one_of
from attention_helpers.plotting import plot_attention_vector


def _show(fig):
    """Display `fig` in the current output (a widget's Output, inside `with output:`) and close it."""
    from IPython.display import display

    display(fig)
    plt.close(fig)


def _interactive(controls, redraw):
    """VBox of `controls` above an Output that shows `redraw(**values)`; redrawn on every change."""
    import ipywidgets as widgets

    output = widgets.Output()

    def refresh(_change=None):
        with output:
            output.clear_output(wait=True)
            _show(redraw(**{name: control.value for name, control in controls.items()}))

    for control in controls.values():
        control.observe(refresh, names="value")
    refresh()
    return widgets.VBox([*controls.values(), output])


def _known_result(name, result, size):
    """A result an explorer draws without training: `{"attention": (size,), "accuracy": float}`, checked."""
    attention = as_array(f"{name}['attention']", result["attention"], ndim=1)
    if attention.shape != (size,):
        raise ValueError(f"`{name}['attention']` must have shape ({size},). Received: shape {attention.shape}")
    return {"attention": attention, "accuracy": float(result["accuracy"])}


def _retrain_on_click(slider, label, draw, first_message, ready=False):
    """A slider and a button above an Output; the button shows `draw(slider.value)` (it retrains).

    Training takes seconds, so it runs on the button, not on every slider move, nor when the
    widget appears (running a notebook top to bottom trains nothing here): the Output shows
    `first_message` until the first press, or, when `ready` (the slider's first value has a result
    already, nothing to train), that value's figure.
    """
    import ipywidgets as widgets

    button = widgets.Button(description=label, icon="refresh")
    output = widgets.Output()

    def retrain(_button=None):
        with output:
            output.clear_output(wait=True)
            _show(draw(slider.value))

    button.on_click(retrain)
    if ready:
        retrain()
    else:
        with output:
            print(first_message)
    return widgets.VBox([widgets.HBox([slider, button]), output])


class QueryExplorer:
    """Notebook 00: move a 2-D query around a fixed set of 2-D keys and watch the weights change.

    Args:
        keys: `(n_keys, 2)` array of keys (2-D so they can be drawn).
        score: "dot" or "scaled_dot".
        key_labels: optional names of the keys.
    """

    def __init__(self, keys, score="scaled_dot", key_labels=None):
        self.keys = as_array("keys", keys, ndim=2)
        if self.keys.shape[1] != 2 or self.keys.shape[0] < 2:
            raise ValueError(f"`keys` must have shape (n_keys >= 2, 2). Received: keys.shape={self.keys.shape}")
        self.score = check_one_of("score", score, set(reference.SCORES))
        n_keys = self.keys.shape[0]
        self.key_labels = list(key_labels) if key_labels is not None else [f"k{i}" for i in range(n_keys)]
        if len(self.key_labels) != n_keys:
            raise ValueError(f"`key_labels` must have {n_keys} entries. Received: {len(self.key_labels)}")
        self.last_weights = None

    def query(self, angle_degrees, length):
        angle = np.deg2rad(float(angle_degrees))
        return float(length) * np.array([np.cos(angle), np.sin(angle)])

    def update(self, angle_degrees=0.0, length=1.0):
        """Weights `(n_keys,)` of the query at this angle (degrees) and length."""
        if not np.isfinite(length) or length < 0:
            raise ValueError(f"`length` must be a finite number >= 0. Received: length={length!r}")
        q = self.query(angle_degrees, length)[None, :]
        weights = reference.softmax(reference.SCORES[self.score](q, self.keys))[0]
        self.last_weights = weights
        return weights

    def draw(self, angle_degrees=0.0, length=1.0):
        weights = self.update(angle_degrees, length)
        q = self.query(angle_degrees, length)
        fig, (ax_plane, ax_bars) = plt.subplots(1, 2, figsize=(8.5, 3.4))
        ax_plane.scatter(
            self.keys[:, 0],
            self.keys[:, 1],
            s=80 + 900 * weights,
            c=weights,
            cmap="Reds",
            vmin=0,
            vmax=1,
            edgecolors="black",
            zorder=3,
        )
        for label, (kx, ky) in zip(self.key_labels, self.keys):
            ax_plane.annotate(label, (kx, ky), textcoords="offset points", xytext=(6, 6))
        ax_plane.annotate("", xy=q, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "black", "lw": 2})
        ax_plane.text(q[0], q[1], " query", va="bottom")
        bound = max(np.abs(self.keys).max(), length) * 1.3
        ax_plane.set_xlim(-bound, bound)
        ax_plane.set_ylim(-bound, bound)
        ax_plane.set_aspect("equal")
        ax_plane.set_title("keys (size = weight) and the query")
        ax_bars.bar(self.key_labels, weights, color="#d62728")
        ax_bars.set_ylim(0, 1)
        ax_bars.set_ylabel("attention weight")
        ax_bars.set_title(f"softmax of {self.score.replace('_', '-')} scores")
        fig.tight_layout()
        return fig

    def widget(self, angle_degrees=0.0, length=1.0):
        """Sliders for the angle and the length, starting at this view (`draw` with the same values
        gives the same figure, for a static copy of the notebook)."""
        import ipywidgets as widgets

        self.update(angle_degrees, length)  # checks the values
        controls = {
            "angle_degrees": widgets.FloatSlider(
                value=angle_degrees, min=-180, max=180, step=5, description="angle (°)"
            ),
            "length": widgets.FloatSlider(value=length, min=0.0, max=6.0, step=0.25, description="length"),
        }
        return _interactive(controls, self.draw)


class DenseTaskExplorer:
    """Notebook 01: plant the target at another index, retrain, and see where the attention goes.

    Training takes a few seconds, so the explorer retrains when the button is pressed rather
    than on every slider move. `known` maps a target index to a result the notebook already has,
    `{"attention": (dims,) mean attention vector, "accuracy": test accuracy}`: that index is drawn
    from it, without training (the widget's first view, and a static figure of it).
    """

    def __init__(self, dims=32, n_train=3000, epochs=4, seed=0, known=None):
        self.dims = check_int("dims", dims, minimum=2)
        self.n_train = check_int("n_train", n_train, minimum=10)
        self.epochs = check_int("epochs", epochs, minimum=1)
        self.seed = check_int("seed", seed, minimum=0)
        self.known = {}
        for index, result in (known or {}).items():
            index = check_index("known target index", index, self.dims, "dims")
            self.known[index] = _known_result(f"known[{index}]", result, self.dims)
        self.last_result = None

    def update(self, target_index):
        """Train on the task with the target at `target_index` (unless `known` has it); return the mean attention."""
        from attention_helpers.models import train_dense_task

        target_index = check_index("target_index", target_index, self.dims, "dims")
        if target_index in self.known:
            self.last_result = self.known[target_index]
            return self.last_result["attention"]
        self.last_result = train_dense_task(
            target_index, dims=self.dims, n_train=self.n_train, n_test=500, epochs=self.epochs, seed=self.seed
        )
        return self.last_result["attention"]

    def draw(self, target_index):
        attention = self.update(target_index)
        fig, ax = plt.subplots(figsize=(7, 3))
        accuracy = self.last_result["accuracy"]
        plot_attention_vector(
            attention,
            target_index,
            ax=ax,
            title=f"target at {target_index}: peak at {int(np.argmax(attention))}, test accuracy {accuracy:.2f}",
        )
        return fig

    def widget(self, target_index=1):
        import ipywidgets as widgets

        target_index = check_index("target_index", target_index, self.dims, "dims")
        slider = widgets.IntSlider(value=target_index, min=0, max=self.dims - 1, description="target index")
        return _retrain_on_click(
            slider, "Retrain", self.draw, "Pick a target index and press 'Retrain' (a few seconds).",
            ready=target_index in self.known,
        )


class PlacementExplorer:
    """Notebook 02: move the planted step, retrain attention before and after the LSTM, compare.

    Both models train on the same data with the same budget (about 8 s together on one CPU core),
    so the explorer retrains when the button is pressed. `known` maps a planted step to results the
    notebook already has, `{"before": {"attention": (steps,), "accuracy": float}, "after": {...}}`:
    that step is drawn from them, without training (the widget's first view, and a static figure of it).
    """

    def __init__(self, steps=12, dims=2, n_train=3000, epochs=10, seed=0, known=None):
        self.steps = check_int("steps", steps, minimum=2)
        self.dims = check_int("dims", dims, minimum=1)
        self.n_train = check_int("n_train", n_train, minimum=10)
        self.epochs = check_int("epochs", epochs, minimum=1)
        self.seed = check_int("seed", seed, minimum=0)
        self.known = {}
        for step, results in (known or {}).items():
            step = check_index("known planted step", step, self.steps, "steps")
            if set(results) != {"before", "after"}:
                raise ValueError(
                    f"`known[{step}]` must have the keys 'before' and 'after'. Received: {sorted(results)}"
                )
            self.known[step] = {
                placement: _known_result(f"known[{step}][{placement!r}]", result, self.steps)
                for placement, result in results.items()
            }
        self.last_results = None

    def update(self, target_step):
        """Train both models with the label at `target_step` (unless `known` has it); {placement: attention}."""
        from attention_helpers.models import train_placement

        target_step = check_index("target_step", target_step, self.steps, "steps")
        if target_step in self.known:
            self.last_results = self.known[target_step]
            return {placement: result["attention"] for placement, result in self.last_results.items()}
        self.last_results = train_placement(
            target_step,
            steps=self.steps,
            dims=self.dims,
            n_train=self.n_train,
            n_test=500,
            epochs=self.epochs,
            seed=self.seed,
        )
        return {placement: result["attention"] for placement, result in self.last_results.items()}

    def draw(self, target_step):
        attention = self.update(target_step)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3), sharey=True)
        for ax, (placement, vector) in zip(axes, attention.items()):
            accuracy = self.last_results[placement]["accuracy"]
            plot_attention_vector(
                vector,
                target_step,
                ax=ax,
                xlabel="time step",
                title=f"attention {placement} the LSTM (accuracy {accuracy:.2f})",
                target_label=f"planted step ({target_step})",
            )
        fig.tight_layout()
        return fig

    def widget(self, target_step=None):
        import ipywidgets as widgets

        target_step = (self.steps - 1) // 2 if target_step is None else target_step
        target_step = check_index("target_step", target_step, self.steps, "steps")
        slider = widgets.IntSlider(value=target_step, min=0, max=self.steps - 1, description="planted step")
        return _retrain_on_click(
            slider, "Retrain both", self.draw, "Pick the planted step and press 'Retrain both' (about 8 s).",
            ready=target_step in self.known,
        )


class AttentionMapExplorer:
    """Notebooks 06 and 07: pick an image and a query pixel, see where that pixel attends.

    Args:
        images: `(n, H, W, channels)` images.
        attention: `(n, H*W, keys)` attention matrices (one head), row j = where pixel j looks.
            keys = H*W (one key per pixel), or ceil(H/2)*ceil(W/2) for keys and values max-pooled
            2×2 (`SelfAttention2D(pool_keys_values=True)`): then each key stands for a 2×2 block of
            pixels, and every pixel of the block shows that key's weight.
        objects: optional `(n, H, W)` integer object map (0 = background), for example from
            `two_objects_task(..., return_objects=True)`: the objects are outlined, the marked ones
            other than the query's in a solid line, the query's own object dotted, the rest dashed.
        marked: the object ids that count as marked.
        vmax: top of the colour scale shared by every view; None for each view's largest weight.
    """

    def __init__(self, images, attention, objects=None, marked=(1, 2), vmax=None):
        self.images = as_array("images", images, ndim=4)
        self.attention = as_array("attention", attention, ndim=3)
        n, height, width = self.images.shape[:3]
        pooled = -(-height // 2) * -(-width // 2)
        if self.attention.shape[:2] != (n, height * width) or self.attention.shape[2] not in (height * width, pooled):
            raise ValueError(
                f"`attention` must have shape (n, H*W, H*W) = {(n, height * width, height * width)}, or "
                f"{(n, height * width, pooled)} with 2×2-pooled keys, for images of shape "
                f"{self.images.shape}. Received: attention.shape={self.attention.shape}"
            )
        self.pooled_keys = self.attention.shape[2] != height * width
        self.objects = None
        if objects is not None:
            self.objects = np.asarray(objects)
            if self.objects.shape != (n, height, width):
                raise ValueError(
                    f"`objects` must have shape (n, H, W) = {(n, height, width)}. "
                    f"Received: objects.shape={self.objects.shape}"
                )
        self.marked = tuple(int(k) for k in marked)
        self.vmax = vmax

    def update(self, index, row, col):
        """The `(H, W)` attention map of pixel (row, col) in image `index`."""
        n, height, width = self.images.shape[:3]
        index = check_index("index", index, n, "number of images")
        row = check_index("row", row, height, "height")
        col = check_index("col", col, width, "width")
        weights = self.attention[index, row * width + col]
        if not self.pooled_keys:
            return weights.reshape(height, width)
        blocks = weights.reshape(-(-height // 2), -(-width // 2))  # one weight per 2×2 block of pixels
        return np.repeat(np.repeat(blocks, 2, axis=0), 2, axis=1)[:height, :width]

    def outlines(self, index, row, col):
        """The regions `draw` outlines for this query: {label: [masks]}, in `OUTLINE_STYLES` order."""
        if self.objects is None:
            return None
        objects = self.objects[index]
        own = int(objects[row, col])
        ids = [int(k) for k in np.unique(objects) if k != 0 and k != own]
        return {
            "other marked object": [objects == k for k in ids if k in self.marked],
            "query's own object": [objects == own] if own else [],
            "unmarked objects": [objects == k for k in ids if k not in self.marked],
        }

    def draw(self, index=0, row=0, col=0):
        from attention_helpers.plotting import plot_attention_map

        fig, _ = plot_attention_map(
            self.images[index],
            self.update(index, row, col),
            query=(row, col),
            title=f"image {index}, query pixel ({row}, {col})",
            vmax=self.vmax,
            outlines=self.outlines(index, row, col),
        )
        return fig

    def widget(self, index=0, row=None, col=None):
        """Sliders for the image and the query pixel, starting at this view (the centre pixel by default);
        `draw` with the same values gives the same figure, for a static copy of the notebook."""
        import ipywidgets as widgets

        n, height, width = self.images.shape[:3]
        row = height // 2 if row is None else row
        col = width // 2 if col is None else col
        self.update(index, row, col)  # checks the values
        controls = {
            "index": widgets.IntSlider(value=index, min=0, max=n - 1, description="image"),
            "row": widgets.IntSlider(value=row, min=0, max=height - 1, description="query row"),
            "col": widgets.IntSlider(value=col, min=0, max=width - 1, description="query column"),
        }
        return _interactive(controls, self.draw)
