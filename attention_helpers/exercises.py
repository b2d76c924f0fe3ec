"""Check functions for the notebooks' exercises: each says whether you got it, and why not.

Every check returns True or False and prints one line; it never raises on a wrong answer (only on
an answer of the wrong type or shape, with a message that says what was expected). Given None,
the untouched template, it asks you to fill in the YOUR CODE part.

The checks that take a trained model measure it themselves, with the figures the notebook uses.
"""

from __future__ import annotations

import numpy as np

from attention_helpers._validation import as_array, check_index


def _report(ok, message):
    print(("✓ Correct: " if ok else "✗ Not yet: ") + message)
    return ok


def _missing(name):
    return _report(False, f"`{name}` is None: fill in the YOUR CODE part, then run the check again.")


def _number(name, value):
    """`(float(value), None)`, or `(None, the report)` when the template's None is still there."""
    if value is None:
        return None, _missing(name)
    if isinstance(value, bool) or not np.isscalar(value) or not np.isreal(value):
        raise TypeError(f"`{name}` must be a single number. Received: {name}={value!r}")
    return float(value), None


def _model(name, value):
    import keras

    if not isinstance(value, keras.Model):
        raise TypeError(
            f"`{name}` must be a keras.Model (built and trained). Received: {name} of type {type(value).__name__}"
        )
    return value


def _layer(model, layer_cls, name="attention"):
    """The layer called `name` if it is a `layer_cls`, else None (after reporting why)."""
    names = [layer.name for layer in model.layers]
    if name not in names:
        _report(False, f"your model has no layer named {name!r} (its layers: {names}); pass name={name!r}.")
        return None
    layer = model.get_layer(name)
    if not isinstance(layer, layer_cls):
        _report(False, f"the layer named {name!r} is a {type(layer).__name__}, not a {layer_cls.__name__}.")
        return None
    return layer


def _attention_weights(model, x, name="attention"):
    from attention_helpers.activations import get_activations

    return get_activations(model, x, f"{name}/1")[f"{name}/1"]


def check_softmax(softmax_fn):
    """Exercise of notebook 00: is your `softmax_fn(scores)` right, and numerically stable?

    It is called on a `(3, 5)` array and must return weights over the last axis that match
    `attention_helpers.reference.softmax`, also for scores as large as 1000 (where a naive
    `exp(x) / exp(x).sum()` overflows to NaN).
    """
    if softmax_fn is None:
        return _missing("softmax_fn")
    if not callable(softmax_fn):
        return _report(False, f"pass your function itself, not {type(softmax_fn).__name__}.")
    from attention_helpers.reference import softmax

    rng = np.random.default_rng(0)
    cases = {"small scores": rng.normal(size=(3, 5)), "large scores (1000 and up)": 1000 + 50 * rng.normal(size=(3, 5))}
    for label, scores in cases.items():
        with np.errstate(all="ignore"):
            try:
                got = softmax_fn(scores.copy())
            except Exception as error:  # the student's code: report, don't crash the notebook
                return _report(False, f"your function raised {type(error).__name__}: {error}")
        if got is None:
            return _report(False, "your function returned None: fill in the YOUR CODE part.")
        got = np.asarray(got, dtype=float)
        if got.shape != scores.shape:
            return _report(False, f"on {label} it returned shape {got.shape}; expected {scores.shape}.")
        if not np.all(np.isfinite(got)):
            return _report(
                False,
                f"on {label} it returned NaN or inf: np.exp overflows float64 above about 709 (np.exp(1000) "
                "is inf, and inf / inf is NaN). The weights must not change, but the numbers you exponentiate can.",
            )
        if not np.allclose(got, softmax(scores), atol=1e-6):
            return _report(False, f"on {label} the weights differ from softmax over the last axis.")
    return _report(True, "your softmax matches the reference and is stable for large scores.")


def check_attention_without_bias(model, x, y, target_index):
    """Exercise of notebook 01: `DenseAttention(use_bias=False)`; where do label-0 samples look now?

    Passes when the model's layer "attention" is a `DenseAttention` without bias, the model is
    trained (test accuracy >= 0.95, as with the bias), label-0 samples put at most twice the uniform share on
    `target_index` (nothing in their input points there any more) and label-1 samples at least
    4× what label-0 samples put there.
    """
    from attention_helpers.layers import DenseAttention
    from attention_helpers.models import binary_accuracy

    if model is None:
        return _missing("model_without_bias")
    model = _model("model_without_bias", model)
    y = as_array("y", y, ndim=2)
    layer = _layer(model, DenseAttention)
    if layer is None:
        return False
    if layer.use_bias:
        return _report(False, "the attention layer still has a bias: pass use_bias=False to DenseAttention.")
    accuracy = binary_accuracy(model, x, y)
    if accuracy < 0.95:
        return _report(False, f"test accuracy is {accuracy:.2f}: train the model (fit) before you check it.")
    weights = _attention_weights(model, x)
    target_index = check_index("target_index", target_index, weights.shape[1], "number of inputs")
    uniform = 1.0 / weights.shape[1]
    label_0, label_1 = (float(weights[y[:, 0] == label, target_index].mean()) for label in (0, 1))
    if label_0 > 2 * uniform:
        return _report(
            False,
            f"label-0 samples still put {label_0:.3f} on index {target_index} (uniform {uniform:.3f}). "
            "Is this the model you trained without a bias?",
        )
    if label_1 < 4 * label_0:
        return _report(False, f"label-1 samples put only {label_1:.3f} on index {target_index}: train longer?")
    return _report(
        True,
        f"accuracy {accuracy:.2f}; weight on index {target_index}: label 0 -> {label_0:.3f} (uniform {uniform:.3f}), "
        f"label 1 -> {label_1:.2f}. Without the bias nothing points label-0 samples at x[{target_index}].",
    )


# Notebook 02 ---------------------------------------------------------------------------------------


def check_attention_without_memory(model, x, y, target_step):
    """Exercise of notebook 02: the "after" model with the LSTM replaced by a per-step Dense layer.

    Passes when the model has no recurrent layer, its "attention" layer is a `TemporalAttention`,
    it is trained (accuracy >= 0.9) and its mean attention peaks at `target_step`: without memory,
    only the state at the planted step knows the label.
    """
    import keras

    from attention_helpers.layers import TemporalAttention
    from attention_helpers.models import binary_accuracy

    if model is None:
        return _missing("model_without_memory")
    model = _model("model_without_memory", model)
    recurrent = [layer.name for layer in model.layers if isinstance(layer, keras.layers.RNN)]
    if recurrent:
        return _report(False, f"the model still has a recurrent layer ({recurrent}): replace it by a per-step Dense.")
    layer = _layer(model, TemporalAttention)
    if layer is None:
        return False
    if any(tensor is layer.input for tensor in model.inputs):
        return _report(False, "the attention reads the raw inputs: that is the \"before\" model. The exercise takes "
                       "the memory out of the \"after\" model, where the attention reads the per-step layer's states.")
    accuracy = binary_accuracy(model, x, y)
    if accuracy < 0.9:
        return _report(False, f"test accuracy is {accuracy:.2f}: train the model (fit) before you check it.")
    attention = _attention_weights(model, x).mean(axis=(0, 2))  # (steps,)
    target_step = check_index("target_step", target_step, attention.size, "steps")
    peak = int(np.argmax(attention))
    if peak != target_step:
        return _report(False, f"the attention peaks at step {peak}, not at the planted step {target_step}.")
    return _report(
        True,
        f"accuracy {accuracy:.2f}; without memory the attention goes back to the planted step {target_step} "
        f"(weight {attention[target_step]:.2f}): no later state knows the label.",
    )


# Notebook 03 ---------------------------------------------------------------------------------------


def check_two_shared_vectors(model, x, y, target_steps, shared_accuracy, per_dimension_accuracy=None):
    """Exercise of notebook 03: two shared attention vectors side by side instead of one.

    Grades the change: passes when the model has at least two `TemporalAttention(shared=True)` layers
    and none with `shared=False`, and it is trained (its accuracy beats the one-vector model's,
    `shared_accuracy`). It then reports what it measured without a verdict on it: where each vector
    peaks (one at each signal step, or both at the same one: that depends on the random start) and
    the accuracy, next to the one-vector model's and, with `per_dimension_accuracy`, the per-dimension
    model's.
    """
    from attention_helpers.layers import TemporalAttention
    from attention_helpers.models import binary_accuracy

    if model is None:
        return _missing("model_two_vectors")
    model = _model("model_two_vectors", model)
    attention = [layer for layer in model.layers if isinstance(layer, TemporalAttention)]
    if any(not layer.shared for layer in attention):
        return _report(False, "one of your attention layers has shared=False: that is the per-dimension model.")
    if len(attention) < 2:
        return _report(False, f"your model has {len(attention)} shared attention layer(s); give it two.")
    accuracy = binary_accuracy(model, x, y)
    if accuracy <= shared_accuracy:
        return _report(
            False, f"accuracy {accuracy:.2f} is no better than one shared vector ({shared_accuracy:.2f}): train it."
        )
    peaks = [int(np.argmax(_attention_weights(model, x, layer.name).mean(axis=0)[:, 0])) for layer in attention]
    targets = sorted(target_steps)
    if sorted(set(peaks)) == targets:
        where = f"the vectors split the work: they peak at steps {peaks}, one at each signal step"
    elif set(peaks) <= set(targets):
        where = (f"the vectors peak at steps {peaks}: both at the same signal step (which step a vector takes "
                 "depends on its random start)")
    else:
        where = f"the vectors peak at steps {peaks}; the signal steps are {targets}"
    compared = "" if per_dimension_accuracy is None else f" and {per_dimension_accuracy:.2f} with one per dimension"
    return _report(
        True, f"{where}; accuracy {accuracy:.2f} against {shared_accuracy:.2f} with one shared vector{compared}."
    )


# Notebook 04 ---------------------------------------------------------------------------------------


def check_unbounded_scores(model, x, y, tanh_model=None):
    """Exercise of notebook 04: feed-forward attention without the tanh; how sharp do the weights get?

    Grades the student's change: passes when the "attention" layer is a `FeedForwardAttention` with a
    linear score and the model is trained (a model whose test MSE is above half the target's variance
    counts as untrained). It then reports what it measured, without a verdict on it: the largest ratio
    between a marked step's weight and an unmarked step's of the same sequence (at most exp(2) with the
    tanh; the student predicts whether it stays below), the share of the weight on the marked steps and
    the test MSE; with `tanh_model` (the notebook's model with the tanh), each next to that model's.
    `x[:, :, 0] > 0` marks the real steps and `x[:, :, 1] == 1` the marked ones.
    """
    import keras

    from attention_helpers.layers import FeedForwardAttention

    if model is None:
        return _missing("model_linear_score")
    model = _model("model_linear_score", model)
    x = as_array("x", x, ndim=3)
    y = as_array("y", y, ndim=2)
    layer = _layer(model, FeedForwardAttention)
    if layer is None:
        return False
    if keras.activations.serialize(layer.score_activation) != "linear":
        name = keras.activations.serialize(layer.score_activation)
        return _report(False, f"the score activation is still {name!r}: the score must be linear, h·w + b.")
    real, marked = x[:, :, 0] > 0, x[:, :, 1] == 1

    def measure(m):
        mse = float(np.mean((keras.ops.convert_to_numpy(m(x, training=False)) - y) ** 2))
        weights = _attention_weights(m, x)
        ratio = max(weights[i, marked[i]].max() / weights[i, real[i] & ~marked[i]].min() for i in range(len(x)))
        return mse, ratio, float((weights * marked).sum(axis=1).mean())

    mse, ratio, share = measure(model)
    if mse > 0.5 * float(y.var()):
        return _report(False, f"test MSE is {mse:.4f}: train the model (fit) before you check it.")
    figures = f"largest ratio {ratio:.3g}×, marked steps' share {share:.2f}, test MSE {mse:.4f}"
    if tanh_model is not None:
        tanh_mse, tanh_ratio, tanh_share = measure(_model("tanh_model", tanh_model))
        figures += f" (with the tanh: {tanh_ratio:.3g}×, {tanh_share:.2f}, {tanh_mse:.4f})"
    return _report(True, f"the score is linear and the model is trained. Measured without the tanh: {figures}. "
                   "Compare the ratio with exp(2) ≈ 7.4 and with your prediction.")


# Notebook 05 ---------------------------------------------------------------------------------------


def check_causal_attention(attend):
    """Exercise 1 of notebook 05: `attend(query, key, value)` is causal dot-product attention in NumPy.

    `query` is `(Tq, d)`, `key` `(Tv, d)`, `value` `(Tv, dv)` with Tq <= Tv, and the queries are the
    *last* Tq of the Tv steps (as when a model extends a sequence it has already read): query i sits at
    step i + Tv - Tq and may look at key steps j <= i + Tv - Tq. It must return `(output, weights)` with
    every other weight exactly 0, every row summing to 1, and `output = weights @ value` (for Tq = Tv,
    what `keras.layers.Attention()([q, v, k], use_causal_mask=True)` computes). A wrong answer is told
    which part is wrong (no mask, a reversed mask, a mask that ignores where the queries sit, a mask
    applied after the softmax, a masked score that is not low enough), with the steps where it shows.
    """
    if attend is None:
        return _missing("attend")
    if not callable(attend):
        return _report(False, f"pass your function itself, not {type(attend).__name__}.")
    from attention_helpers.reference import attention, softmax

    rng = np.random.default_rng(5)
    for tq, tv in ((4, 4), (6, 6), (3, 5), (1, 6)):
        query, key, value = rng.normal(size=(tq, 4)), rng.normal(size=(tv, 4)), rng.normal(size=(tv, 3))
        causal = np.arange(tq)[:, None] + (tv - tq) >= np.arange(tv)[None, :]  # j <= i + Tv - Tq
        expected_output, expected = attention(query, key, value, mask=causal)
        try:
            got = attend(query.copy(), key.copy(), value.copy())
        except Exception as error:  # the student's code: report, don't crash the notebook
            return _report(False, f"your function raised {type(error).__name__}: {error}")
        if got is None:
            return _report(False, "your function returned None: fill in the YOUR CODE part.")
        if not (isinstance(got, tuple) and len(got) == 2):
            return _report(False, "return two arrays, `(output, weights)`, as the template does.")
        output, weights = (np.asarray(part, dtype=float) for part in got)
        if weights.shape != (tq, tv):
            return _report(False, f"for Tq={tq}, Tv={tv} the weights have shape {weights.shape}; expected {(tq, tv)}.")
        if (~causal).any() and np.allclose(weights, softmax(query @ key.T), atol=1e-6):
            return _report(False, "the weights are the unmasked softmax: the mask is built, or not, but never applied "
                           "to the scores. Every weight on a later key step must be exactly 0.")
        future = ~causal
        top_left = np.arange(tq)[:, None] >= np.arange(tv)[None, :]  # j <= i: as if the queries were the first steps
        if tq < tv and np.all(weights[~top_left] == 0) and np.allclose(weights.sum(axis=-1), 1.0, atol=1e-6):
            return _report(False, f"for Tq={tq} queries over Tv={tv} keys, query i looks only at key steps j <= i, as "
                           f"if the queries were the first {tq} steps; they are the last {tq}: query i sits at step "
                           f"i + {tv - tq} and may look at every key step up to there.")
        if np.all(weights[causal & ~np.eye(tq, tv, k=tv - tq, dtype=bool)] == 0) and np.any(weights[future] > 0):
            return _report(False, "the mask is reversed: query step i may look at key steps j <= i (the past and "
                           "itself), and must give 0 to the steps after it.")
        if not np.allclose(weights.sum(axis=-1), 1.0, atol=1e-6):
            row = int(np.argmax(np.abs(weights.sum(axis=-1) - 1)))
            return _report(False, f"row {row} of the weights sums to {weights[row].sum():.3f}, not 1: masking the "
                           "weights after the softmax leaves the rest unnormalised. Mask the scores before it.")
        if np.any(weights[future] != 0):
            i, j = (int(n) for n in np.argwhere(future & (weights != 0))[0])
            return _report(False, f"query {i} still puts {weights[i, j]:.2g} on key step {j}, a later step: a "
                           "masked weight must be exactly 0. A masked score must be -inf (or so negative that "
                           "exp gives 0); a score of 0, or a score times 0, still gets exp(0) = 1.")
        if not np.allclose(weights, expected, atol=1e-6):
            return _report(False, "the zeros are in the right place, but the other weights differ from a softmax of "
                           "query @ key.T over the allowed key steps.")
        if output.shape != expected_output.shape or not np.allclose(output, expected_output, atol=1e-6):
            return _report(False, f"the weights are right but the output is not: expected weights @ value, shape "
                           f"{expected_output.shape}; received shape {output.shape}.")
    return _report(True, "every weight on a later step is exactly 0, each row sums to 1, and the output is the "
                   "weighted sum of the values, for queries and keys of several lengths (with as many queries as "
                   "keys, what keras.layers.Attention computes with use_causal_mask=True).")


def check_causal_reversal(model, source, target):
    """Exercise of notebook 05: the reversal model with a causal mask; which output steps survive?

    Passes when the attention weights above the diagonal are exactly 0 (the causal mask is on), the
    output steps in the second half (which copy input steps at or before them) are right at least
    90% of the time and those in the first half (which need later input steps) at most 30%.
    """
    import keras

    if model is None:
        return _missing("model_causal")
    model = _model("model_causal", model)
    source = np.asarray(source)
    target = np.asarray(target)
    weights = _attention_weights(model, source)  # (n, output steps, input steps)
    if not np.all(np.triu(weights, k=1) == 0.0):
        return _report(
            False, "some weights above the diagonal are not 0: call the attention layer with use_causal_mask=True."
        )
    predicted = keras.ops.convert_to_numpy(model(source, training=False)).argmax(axis=-1)
    per_step = (predicted == target).mean(axis=0)  # accuracy of each output step
    half = per_step.size // 2
    shown = " ".join(f"{a:.2f}" for a in per_step)
    if per_step[half:].min() < 0.9:
        return _report(False, f"per output step: {shown}. Some output steps that can see the input step they copy "
                       "are wrong more than 10% of the time: train the model (fit) like reverser.")
    if per_step[:half].max() > 0.3:
        return _report(False, f"per output step: {shown}. Some output steps score well above guessing although "
                       "the input step they copy is hidden from them: is this the model you trained?")
    return _report(
        True,
        f"per output step: {shown}. Output step i copies input step {per_step.size - 1} - i: for i < {half} "
        "that step is in the future, which the causal mask hides, so those outputs are guesses.",
    )


# Notebook 06 ---------------------------------------------------------------------------------------


def check_attention_argmax_pixel(answer, attention_row, width):
    """Exercise of notebook 06: the (row, column) that a query pixel attends to most.

    Args:
        answer: your `(row, column)`.
        attention_row: the query's flat attention over all H·W positions, shape `(H*W,)`.
        width: the image width W (a flat index k is pixel (k // W, k % W)).
    """
    if answer is None:
        return _missing("answer")
    attention_row = as_array("attention_row", attention_row, ndim=1)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise TypeError(f"`answer` must be a (row, column) pair. Received: answer={answer!r}")
    expected = divmod(int(np.argmax(attention_row)), int(width))
    given = tuple(int(a) for a in answer)
    if given == expected:  # first: on the diagonal, (5, 5) is also its own swap
        return _report(True, f"the query looks most at pixel {expected}.")
    if given == tuple(reversed(expected)):
        return _report(False, "row and column are swapped: a flat index k is (k // width, k % width).")
    return _report(False, f"{tuple(answer)} is not it. Take np.argmax of the flat row, then divmod(index, width).")


#: Notebook 06 asks this fraction of the marked query pixels to look more at the other marked
#: square than at any distractor (its main claim, with full keys). Its exercise reports the same
#: fraction for pooled keys and grades the model's test accuracy: over setup seeds, pooled models
#: trained like the notebook's reach at least 0.92 accuracy, while their fraction ranges from
#: about 0.4 to 1.0 from one training run to the next.
OTHER_OBJECT_FRACTION = 0.8
POOLED_ACCURACY = 0.85


def _attention_per_object(beta, objects):
    """How much of each query's attention lands on each object: `(n, queries, objects.max() + 1)`.

    Args:
        beta: attention `(n, H*W, keys)` with keys = H·W (one per pixel) or ⌈H/2⌉·⌈W/2⌉ (one per
            2×2 cell, as `SelfAttention2D(pool_keys_values=True)` gives).
        objects: `(n, H, W)` integer map, 0 for background (as `two_objects_task(..., return_objects=True)`).

    Column k sums the weights on the keys of object k (column 0: the background). With pooled keys
    a cell counts for the object it covers: in `two_objects_task` no 2×2 cell covers two objects.
    """
    objects = np.asarray(objects)
    n, height, width = objects.shape
    if beta.shape[-1] != height * width:  # one key per 2×2 cell: pad to even sides, take each cell's object
        padded = np.pad(objects, ((0, 0), (0, height % 2), (0, width % 2)))
        objects = padded.reshape(n, (height + 1) // 2, 2, (width + 1) // 2, 2).max(axis=(2, 4))
    one_hot = np.eye(int(objects.max()) + 1)[objects.reshape(n, -1)]  # (n, keys, objects + 1)
    return beta @ one_hot


def _other_object_wins(beta, objects, marked=(1, 2)):
    """For every query pixel inside a marked object: does the other marked object get more of its
    attention than every other object (the distractors)? A flat boolean array, one per such pixel.
    """
    objects = np.asarray(objects)
    mass = _attention_per_object(beta, objects)
    queries = objects.reshape(len(objects), -1)
    distractors = [k for k in range(1, mass.shape[-1]) if k not in marked]
    wins = []
    for me, other in (marked, marked[::-1]):
        rows = mass[queries == me]  # (pixels of `me`, objects + 1)
        best_distractor = rows[:, distractors].max(axis=1) if distractors else np.zeros(len(rows))
        wins.append(rows[:, other] > best_distractor)
    return np.concatenate(wins)


def _attention_maps(model, attention, x):
    """`attention`'s weights inside `model` on inputs `x`, averaged over heads: `(n, H*W, keys)`."""
    import keras

    features = keras.Model(model.input, attention.input)(x)  # what the attention layer reads
    _, beta = attention(features, return_attention_scores=True)
    return np.asarray(keras.ops.convert_to_numpy(beta)).mean(axis=1)


def check_pooled_attention(model, x, y, objects):
    """Exercise of notebook 06: SAGAN with pooled keys and values, trained and re-measured.

    Your model must be the notebook's `build_model(pool_keys_values=True)`, trained like the
    notebook's model. The check grades what you control: the layer pools its keys and values, and
    the trained model answers the test images (accuracy at least `POOLED_ACCURACY`). It then measures
    the maps and tells you what it found: the fraction of query pixels inside a marked square whose
    attention on the other marked square beats their attention on every distractor (each key is a
    2×2 cell, which counts for the object it covers). That fraction is reported, not graded: with
    pooled keys, some training runs answer just as well with maps that spread over the distractors.

    Args:
        model: your trained `keras.Model`, with a `SelfAttention2D` layer named "attention".
        x, y: the test images `(n, H, W, channels)` and labels `(n, 1)`.
        objects: the test images' object map `(n, H, W)` (1 and 2: the marked squares).
    """
    if model is None:
        return _missing("pooled_model")
    from attention_helpers.layers import SelfAttention2D
    from attention_helpers.models import binary_accuracy

    model = _model("pooled_model", model)
    objects = np.asarray(objects)
    x = np.asarray(x)
    y = as_array("y", y, ndim=2)
    if objects.ndim != 3 or x.shape[:3] != objects.shape or len(y) != len(x):
        raise ValueError(
            f"`x` `(n, H, W, channels)`, `y` `(n, 1)` and `objects` `(n, H, W)` must describe the same images. "
            f"Received: x.shape={x.shape}, y.shape={y.shape}, objects.shape={objects.shape}"
        )
    attention = _layer(model, SelfAttention2D)
    if attention is None:
        return False
    if not attention.pool_keys_values:
        return _report(False, "its attention layer does not pool keys and values: build it with pool_keys_values=True.")
    accuracy = binary_accuracy(model, x, y)
    if accuracy < POOLED_ACCURACY:
        return _report(
            False,
            f"its test accuracy is {accuracy:.2f} (needed: {POOLED_ACCURACY:g}). Train it like the notebook's "
            "model: the same training images, epochs and batch size.",
        )
    beta = _attention_maps(model, attention, x)
    height, width = objects.shape[1:]
    fraction = float(_other_object_wins(beta, objects).mean())
    keys = f"with {beta.shape[-1]} keys instead of {height * width} (4× fewer scores), accuracy {accuracy:.2f}"
    if fraction < OTHER_OBJECT_FRACTION:
        return _report(
            True,
            f"{keys}, but only {fraction:.2f} of the marked query pixels look more at the other marked square "
            f"than at every distractor (the full model: section 4). This run answers as well with other maps: "
            "the same accuracy, different attention, as section 7 warned. Train it again (a new "
            "initialisation) and compare the fraction.",
        )
    return _report(
        True,
        f"{keys}, and {fraction:.2f} of the marked query pixels still look more at the other marked square than "
        "at every distractor; each key now stands for a 2×2 cell, so the map is coarser. Another training run "
        "can find other maps: train it again and compare the fraction.",
    )


# Notebook 07 ---------------------------------------------------------------------------------------


def check_turned_up_gamma(generator, trained_generator, classifier, z, gamma_change=None):
    """Exercise of notebook 07: the trained generator with its attention's γ turned up, re-measured.

    Your `generator` must be a copy of the trained one (same layers, every trained weight) whose
    attention block's γ is at least 10 times the trained γ in size; the notebook's `generator`
    must stay untouched. The check samples both on the same noise `z` and reports how far the
    pixels move, and the classifier's figures (confidently classified, classes) of both.

    Args:
        generator: your copy, with γ turned up.
        trained_generator: the trained generator.
        classifier: the digit classifier, images → 10 probabilities.
        z: the noise `(n, latent_dim)` to sample both generators with.
        gamma_change: optional, the mean pixel change when γ is set to 0 (notebook 07, section 8), to
            compare with.
    """
    if generator is None:
        return _missing("louder")
    import keras

    from attention_helpers.gan import classifier_figures, generate
    from attention_helpers.layers import SelfAttention2D

    generator = _model("louder", generator)
    if generator is trained_generator:
        return _report(False, "that is the notebook's generator itself: build a copy (build_generator(), then "
                       "set_weights) and change γ there, so that the trained generator stays as it is.")
    attention = _layer(generator, SelfAttention2D)
    if attention is None:
        return False
    trained_attention = trained_generator.get_layer("attention")
    mine = [w for w in generator.weights if w is not attention.gamma]
    trained = [w for w in trained_generator.weights if w is not trained_attention.gamma]
    as_numpy = keras.ops.convert_to_numpy
    same = len(mine) == len(trained) and all(
        tuple(a.shape) == tuple(b.shape) and np.array_equal(as_numpy(a), as_numpy(b)) for a, b in zip(mine, trained)
    )
    if not same:
        return _report(False, "apart from γ its weights are not the trained ones: copy them first with "
                       "louder.set_weights(generator.get_weights()), then assign the new γ.")
    gamma = float(keras.ops.convert_to_numpy(attention.gamma))
    trained_gamma = float(keras.ops.convert_to_numpy(trained_attention.gamma))
    if abs(gamma) < 10 * abs(trained_gamma):
        return _report(False, f"its γ is {gamma:+.3f}, {abs(gamma) / abs(trained_gamma):.1f} times the trained "
                       f"{trained_gamma:+.3f} in size: turn it up at least 10 times.")
    trained_images, louder_images = generate(trained_generator, z), generate(generator, z)
    before = classifier_figures(generate(classifier, trained_images))
    after = classifier_figures(generate(classifier, louder_images))
    change = float(np.mean(np.abs(louder_images - trained_images)))
    compared = "" if gamma_change is None else f" ({change / gamma_change:.0f} times the change with γ = 0)"
    return _report(
        True,
        f"with γ = {gamma:+.3f} instead of {trained_gamma:+.3f}, the same noise gives samples that differ by "
        f"{change:.3f} per pixel on average{compared} (pixels span 2); confidently classified "
        f"{before['confident']:.2f} → {after['confident']:.2f}, classes {before['classes']} → {after['classes']}.",
    )


# Notebook 08 ---------------------------------------------------------------------------------------


def _as_probabilities(model, tokens):
    """`model(tokens)` as a NumPy array `(n, steps, classes)`; a clear error for anything else."""
    from keras import ops  # imported here: the other checks do not need Keras

    output = np.asarray(ops.convert_to_numpy(model(tokens)))
    if output.ndim != 3 or output.shape[:2] != tokens.shape:
        raise ValueError(
            "`no_position_model` must return class probabilities of shape (n, steps, classes) with (n, steps) = "
            f"{tokens.shape}. Received: shape {output.shape}"
        )
    return output


def check_without_positions(model, source, target, accuracy):
    """Exercise of notebook 08: retrain the Transformer without positions and re-measure it.

    Args:
        model: your model trained without position information; called on int tokens `(n, steps)`,
            it returns class probabilities `(n, steps, classes)`.
        source, target: the test set, int `(n, steps)` each.
        accuracy: the pair accuracy you measured: the fraction of test steps whose class is right,
            that is, both tokens of the (pointed, mirrored) pair at once (not one token alone).

    It checks that the model cannot see positions (permuting the input steps permutes its outputs
    the same way), that it was trained (it does better than twice the 1/classes of a blind guess),
    and that your figure is the model's pair accuracy on `source` and `target`.
    """
    if model is None:
        return _missing("no_position_model")
    value, failed = _number("no_position_accuracy", accuracy)
    if failed is not None:
        return failed
    source = as_array("source", source, ndim=2).astype(np.int64)
    target = as_array("target", target, ndim=2)
    if target.shape != source.shape:
        raise ValueError(
            f"`target` must have the shape of `source`, {source.shape}. Received: target.shape={target.shape}"
        )
    probabilities = _as_probabilities(model, source)
    sample, outputs = source[:64], probabilities[:64]
    order = np.random.default_rng(0).permutation(source.shape[1])
    permuted = _as_probabilities(model, sample[:, order])
    gap = float(np.max(np.abs(permuted - outputs[:, order])))
    if gap > 1e-4:
        return _report(
            False,
            "your model still knows positions: permuting the input steps does not permute its outputs the same "
            f"way (largest difference {gap:.2f}). Build it without the position embedding.",
        )
    classes = probabilities.shape[-1]
    measured = float(np.mean(probabilities.argmax(axis=-1) == target))
    if measured < 2 / classes:
        return _report(
            False,
            f"your model's pair accuracy is {measured:.3f}, no better than a blind guess (1/{classes}). "
            "Did you train it before measuring?",
        )
    if abs(value - measured) > 0.01:
        return _report(
            False,
            f"{value:.3f} is not this model's pair accuracy on the test set ({measured:.3f}): compare "
            "argmax(model(source), axis=-1), the predicted class (pair), with target at every step and take "
            "the mean.",
        )
    return _report(
        True,
        "without positions the model is permutation-equivariant, so it cannot tell which step it is "
        f"answering for; it gets the pair (both tokens) right at {measured:.2f} of the test steps.",
    )


def _causal_attention_rows(q, k, v):
    """Reference: at every position t, query t attends over keys 0..t. q, k, v: (batch, T, heads, d)."""
    from attention_helpers.reference import attention

    def by_head(x):
        return np.swapaxes(x, 1, 2)  # (batch, T, heads, d) <-> (batch, heads, T, d)

    causal = np.tri(q.shape[1], dtype=bool)  # query i may look at keys j <= i
    return by_head(attention(by_head(q), by_head(k), by_head(v), score="scaled_dot", mask=causal)[0])


def _cache_mistake(q, k, v, t, received):
    """A guess at what a wrong cached attention at position t computed, or ''."""
    guesses = {
        "the scores are not divided by √head_dim": _causal_attention_rows(q[:, : t + 1] * np.sqrt(q.shape[-1]),
                                                                           k[:, : t + 1], v[:, : t + 1])[:, t],
        "it attends only to the newest key (the cache is not used)": v[:, t],
        "the newest key and value are not in the cache it attends over": (
            _causal_attention_rows(q[:, :t], k[:, :t], v[:, :t])[:, -1] if t else None),
    }
    for why, guess in guesses.items():
        if guess is not None and guess.shape == received.shape and np.allclose(received, guess, atol=1e-5):
            return f" It looks as if {why}."
    return ""


def check_kv_cache(attend_with_cache, weights=None):
    """Notebook 10: the student's cache update, `output, cache = attend_with_cache(q, k_new, v_new, cache)`.

    Two tests. First on random queries, keys and values (2 sequences, 6 positions, 2 heads of
    width 4), position by position from an empty cache: the cache must grow by one step and the
    output must equal causal attention computed on the whole sequence; the report names the first
    position that differs, by how much, and, when it can tell, the mistake. Then, if `weights`
    (`ah.gpt.gpt_weights(model)`) is given, inside the whole model: greedy decoding with the
    student's function must give, at every position, the logits of the full recomputation
    (`ah.gpt.forward`) within 1e-4.
    """
    if attend_with_cache is None:
        return _missing("attend_with_cache")
    if not callable(attend_with_cache):
        raise TypeError(f"`attend_with_cache` must be a function. Received: {type(attend_with_cache).__name__}")
    rng = np.random.default_rng(0)
    batch, steps, heads, dim = 2, 6, 2, 4
    q, k, v = (rng.normal(size=(batch, steps, heads, dim)).astype("float32") for _ in range(3))
    expected = _causal_attention_rows(q, k, v)
    empty = np.zeros((batch, 0, heads, dim), "float32")
    cache = {"keys": empty, "values": empty.copy()}
    for t in range(steps):
        result = attend_with_cache(q[:, t], k[:, t], v[:, t], cache)
        if result is None or (isinstance(result, tuple) and result[0] is None):
            return _missing("output")
        if not isinstance(result, tuple) or len(result) != 2:
            raise TypeError("`attend_with_cache` must return `(output, cache)`. "
                            f"Received: {type(result).__name__}")
        output, cache = result
        output = np.asarray(output)
        if output.shape != (batch, heads, dim):
            return _report(False, f"at position {t} the output has shape {output.shape}; expected "
                                  f"(batch, heads, head_dim) = {(batch, heads, dim)}, the newest token's result only.")
        if not isinstance(cache, dict) or {"keys", "values"} - set(cache):
            return _report(False, "the returned cache must be a dict with 'keys' and 'values'.")
        held = np.asarray(cache["keys"]).shape
        if held != (batch, t + 1, heads, dim) or np.asarray(cache["values"]).shape != held:
            values_shape = np.asarray(cache["values"]).shape
            return _report(False, f"after position {t} the cache holds keys of shape {held} and values of shape "
                                  f"{values_shape}; expected {(batch, t + 1, heads, dim)} for both: "
                                  "append the new key and value along axis 1 (np.concatenate).")
        if not np.allclose(output, expected[:, t], atol=1e-5):
            gap = float(np.abs(output - expected[:, t]).max())
            return _report(False, f"position {t} is the first whose output differs from attention over the whole "
                                  f"sequence (largest difference {gap:.3g})." + _cache_mistake(q, k, v, t, output))
    if weights is None:
        return _report(True, f"at each of {steps} positions your cached attention equals attention over the whole "
                             "sequence, and the cache grows by one key and one value per token.")
    from attention_helpers import gpt

    _, tokens, cached_logits = gpt.generate(weights, 4, temperature=0.0, return_logits=True, attend=attend_with_cache)
    full_logits = gpt.forward(weights, tokens[:, :-1])
    gaps = np.abs(cached_logits - full_logits).max(axis=(0, 2))  # per position
    if np.any(gaps > 1e-4):
        first = int(np.argmax(gaps > 1e-4))
        return _report(False, f"inside the GPT, position {first} is the first whose logits differ from the full "
                              f"recomputation (by up to {gaps[first]:.3g}).")
    return _report(True, f"your cached attention equals attention over the whole sequence at every position, and "
                         f"inside the GPT greedy decoding with it gives the logits of the full recomputation at all "
                         f"{len(gaps)} positions (largest difference {gaps.max():.1e}).")


def _partial_attention(q, k, v):
    """(m, l, o) of attention over these keys: max score, sum of exp(s - m), unnormalised output."""
    scores = q @ k.T / np.sqrt(q.shape[-1])
    m = scores.max(axis=-1, keepdims=True)
    p = np.exp(scores - m)
    return m, p.sum(axis=-1, keepdims=True), p @ v


def check_attention_merge(merge):
    """Notebook 12: `merge(part_a, part_b)` combines two partial attention results `(m, l, o)`.

    Random queries (5), keys and values (11, split after key 4) in float64: the merged `(m, l, o)`
    must be the partial result of all 11 keys, so that `o / l` equals naive attention. The report
    names the first wrong term: the maximum, the sum or the output (and, for the last two, whether
    the rescaling by exp(m_part - m) is missing). A second test merges with a part whose keys are
    all masked (m = -inf, l = 0, o = 0), which must change nothing.
    """
    if merge is None:
        return _missing("merge")
    if not callable(merge):
        raise TypeError(f"`merge` must be a function. Received: {type(merge).__name__}")
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(5, 4)) * 2, rng.normal(size=(11, 4)) * 2, rng.normal(size=(11, 3))
    part_a, part_b, whole = _partial_attention(q, k[:4], v[:4]), _partial_attention(q, k[4:], v[4:]), \
        _partial_attention(q, k, v)
    result = merge(part_a, part_b)
    if not isinstance(result, tuple) or len(result) != 3:
        raise TypeError(f"`merge` must return `(m, l, o)`. Received: {type(result).__name__}")
    for name, term in zip(("m", "l", "o"), result):
        if term is None:
            return _missing(name)
    m, total, o = (np.asarray(term, dtype=float) for term in result)
    for name, got, expected in (("m", m, whole[0]), ("l", total, whole[1]), ("o", o, whole[2])):
        if got.shape != expected.shape:
            return _report(False, f"`{name}` has shape {got.shape}; expected {expected.shape}.")
    if not np.allclose(m, whole[0]):
        return _report(False, "the maximum `m` is wrong: it must be the larger of the two parts' maxima, "
                              "np.maximum(m_a, m_b), for every query.")
    if not np.allclose(total, whole[1]):
        unscaled = np.allclose(total, part_a[1] + part_b[1])
        return _report(False, "the sum `l` is wrong" + (
            ": l_a + l_b adds sums taken against two different maxima; rescale each by exp(m_part - m) first."
            if unscaled else ": it must be l_a·exp(m_a - m) + l_b·exp(m_b - m)."))
    if not np.allclose(o, whole[2]):
        unscaled = np.allclose(o, part_a[2] + part_b[2])
        return _report(False, "the output `o` is wrong" + (
            ": o_a + o_b mixes outputs taken against two different maxima; rescale each by exp(m_part - m), "
            "as for l." if unscaled else ": it must be o_a·exp(m_a - m) + o_b·exp(m_b - m)."))
    empty = (np.full_like(part_a[0], -np.inf), np.zeros_like(part_a[1]), np.zeros_like(part_a[2]))
    with np.errstate(invalid="ignore"):
        m2, total2, o2 = (np.asarray(term, dtype=float) for term in merge(part_a, empty))
    if not (np.allclose(m2, part_a[0]) and np.allclose(total2, part_a[1]) and np.allclose(o2, part_a[2])):
        return _report(False, "merging with a part whose keys are all masked (m = -inf, l = 0, o = 0) changed "
                              "the result; its scale exp(-inf - m) should be 0.")
    output = o / total
    naive = np.exp(q @ k.T / 2.0 - (q @ k.T / 2.0).max(axis=-1, keepdims=True))
    naive = (naive / naive.sum(axis=-1, keepdims=True)) @ v
    assert np.allclose(output, naive)
    return _report(True, "m, l and o are those of all 11 keys together, o / l equals naive attention, and a fully "
                         "masked part changes nothing.")


def check_induction_circuit(previous_qk, previous_ov, induction_qk, induction_ov):
    """Notebook 11: the four circuits of a hand-built two-layer induction model.

    The matrices are `(d, d)` QK and OV circuits of the layer-1 head and of the layer-2 head, over the
    stream of `ah.circuits.hand_built_layout()` (one-hot token and position embeddings given, an
    unembedding that reads the `output` slot). The check runs the model (`ah.circuits.forward`) on 200
    fresh sequences of `ah.circuits.repeated_tokens` (varying distance between the copies) and
    passes when it predicts at least 99% of the repeated tokens. Otherwise it says which head fails,
    in the order information flows: the layer-1 head's pattern (previous-token score), what it writes
    (the `previous` slot must hold the token at i − 1), the layer-2 head's pattern (induction score),
    then what the layer-2 head writes into the `output` slot.
    """
    from attention_helpers import circuits

    answers = {"previous_qk": previous_qk, "previous_ov": previous_ov, "induction_qk": induction_qk,
               "induction_ov": induction_ov}
    for name, value in answers.items():
        if value is None:
            return _missing(name)
    weights = circuits.hand_built_weights(previous_qk, previous_ov, induction_qk, induction_ov)
    if not any(np.any(layer[key]) for layer in weights["layers"] for key in ("qk", "ov")):
        return _report(False, "the four circuits are all zeros, as in the template: fill in the YOUR CODE part, "
                              "then run the check again.")
    layout = circuits.hand_built_layout()
    data = circuits.repeated_tokens(200, seed=2022)
    with np.errstate(over="ignore", invalid="ignore"):
        out = circuits.forward(weights, data["inputs"])
    if not all(np.all(np.isfinite(a)) for a in (out["logits"], *out["patterns"])):
        return _report(False, "the model's scores or logits are not finite (NaN or inf): use moderate numbers, "
                              "such as 10 or 20, for a large score.")
    _, accuracy = circuits.repeated_loss_and_accuracy(out["logits"], data)
    previous = float(circuits.previous_token_score(out["patterns"][0])[0])
    induction = float(circuits.induction_score(out["patterns"][1], data["source"])[0])
    scores = (f"previous-token score of the layer-1 head {previous:.2f}, induction score of the layer-2 head "
              f"{induction:.2f}")
    if accuracy >= 0.99:
        return _report(True, f"your hand-built model predicts {accuracy:.1%} of the repeated tokens ({scores}).")
    head = f"it predicts {accuracy:.1%} of the repeated tokens (needs 99%). "
    if previous < 0.9:
        rows = out["patterns"][0][:, 0, 1:]  # queries 1 … T − 1
        offsets = np.arange(1, rows.shape[1] + 1) - rows.argmax(axis=-1)  # i − (the key it weighs most)
        block = np.asarray(previous_qk, dtype=float)[layout["position"], layout["position"]]
        favoured = np.arange(len(block)) - block.argmax(axis=1)  # unmasked: i − (the key position it scores most)
        if np.any(block) and np.mean(favoured[1:] < 0) > 0.5:
            hint = (" Its largest scores are for keys *after* the query (column greater than row), which the causal "
                    "mask hides, so its weights spread over the keys it may see. In a QK circuit the row is the "
                    "query's slot and the column the key's: query position i against key position i − 1 is row i, "
                    "column i − 1.")
        elif rows.max(axis=-1).mean() < 0.3:
            hint = " Its weights are spread evenly over the keys: its scores do not yet prefer any key."
        elif np.mean(offsets == 1) > 0.9:
            hint = " It prefers key i − 1, but not sharply: scale its scores up (by 10 or 20)."
        else:
            hint = f" Its favourite key is most often i − {int(np.bincount(offsets.ravel()).argmax())}."
        return _report(False, head + f"The layer-1 head is not a previous-token head: its previous-token score is "
                                     f"{previous:.2f} (needs > 0.9). Its QK circuit must give query position i a "
                                     "large score for key position i − 1 (the `position` block of previous_qk)."
                                     + hint)
    written = out["residual"][1][:, 1:, layout["previous"]]  # the stream after layer 1, positions 1 … T − 1
    if np.mean(written.argmax(axis=-1) == data["inputs"][:, :-1]) < 0.99:
        return _report(False, head + f"The layer-1 head looks at the previous token (previous-token score "
                                     f"{previous:.2f}) but does not write that token into the `previous` slot: its OV "
                                     "circuit must copy the `token` slot it reads into the `previous` slot.")
    if induction < 0.9:
        inputs = data["inputs"]
        same = float(np.mean([out["patterns"][1][b, 0, i][inputs[b] == inputs[b, i]].sum()
                              for b, i in zip(*np.nonzero(data["repeated"]))]))  # weight on keys with my token
        scored = out["patterns"][1][:, 0][data["repeated"]]  # (scored queries, keys)
        on_source = float(np.mean(scored.argmax(axis=-1) == data["source"][data["repeated"]]))
        if same > 0.5:
            hint = (" It looks at the keys that hold the query's own token (its earlier occurrence, or itself), not "
                    "at the token after the earlier occurrence: match the query's `token` slot with the key's "
                    "`previous` slot.")
        elif on_source > 0.9:
            hint = (f" It prefers the right key (the one after the earlier occurrence) for {on_source:.0%} of the "
                    "queries, but not sharply: scale its scores up (by 10 or 20).")
        else:
            hint = ""
        return _report(False, head + f"The layer-1 head is right (previous-token score {previous:.2f}); the layer-2 "
                                     f"head is not an induction head: its induction score is {induction:.2f} (needs > "
                                     "0.9). Its QK circuit must give a large score when the key's `previous` slot "
                                     "holds the query's token." + hint)
    return _report(False, head + f"Both patterns are right ({scores}), but the layer-2 head does not write the token "
                                 "it finds into the `output` slot: its OV circuit must copy the key's `token` slot "
                                 "into `output`, which the unembedding reads.")


def _greedy_exact_match(model, source, numbers):
    from attention_helpers import seq2seq

    tokens, _ = seq2seq.greedy_decode(model, source)
    return seq2seq.exact_match(seq2seq.decode_target(tokens), numbers)


def check_hidden_word(hidden_source, hidden_exact_match, model, numbers):
    """Notebook 09: the greedy exact match of `model` when each number's last English token is hidden.

    Args:
        hidden_source: your source ids, `ah.seq2seq.encode_source(numbers)` with each row's last real
            token set to padding (0).
        hidden_exact_match: your figure, a fraction in [0, 1].
        model: the translator (`ah.pretrained.load_translator()` or a model of `build_translator`).
        numbers: the numbers you decoded; each must end in a tens-and-units pair ("... - seven").

    The check first compares `hidden_source` with its own (and recognises hiding nothing, the last
    column, or the first token), then decodes greedily with `ah.seq2seq.greedy_decode` and compares
    your figure with its own (within 0.02). A wrong figure is told why without being told the answer:
    the model with nothing hidden, a percentage, or a figure that is simply off.
    """
    from attention_helpers import data, seq2seq

    if hidden_source is None:
        return _missing("hidden_source")
    model = _model("model", model)
    numbers = as_array("numbers", numbers, ndim=1, dtype=int)
    if not all("-" in data.number_words(int(n))[0] for n in numbers):
        raise ValueError("`numbers` must all end in a tens-and-units pair such as 'eighty - seven'.")
    source = seq2seq.encode_source(numbers)
    yours = as_array("hidden_source", hidden_source, ndim=2, dtype="int32")
    if yours.shape != source.shape:
        raise ValueError(f"`hidden_source` must have the shape of the encoded `numbers`, {source.shape}. "
                         f"Received: hidden_source.shape={yours.shape}")
    rows, last = np.arange(len(numbers)), (source != 0).sum(axis=1) - 1
    hidden = source.copy()
    hidden[rows, last] = 0
    if not np.array_equal(yours, hidden):
        last_column, first = source.copy(), source.copy()
        last_column[:, -1], first[:, 0] = 0, 0
        if np.array_equal(yours, source):
            padded = np.array_equal(source, last_column)
            return _report(False, "`hidden_source` is the source unchanged: nothing is hidden yet." + (
                " (Setting the last column to 0 changes nothing for these rows: they are padded, so it is already "
                "0. Hide each row's last *real* token.)" if padded else ""))
        if np.array_equal(yours, last_column):
            return _report(False, "`hidden_source` sets the last *column* to 0. Short numbers are padded, so their "
                                  "last column is already padding and their units word stays visible; only the "
                                  "longest rows lose a token. The last real token of a row is at "
                                  "(source != 0).sum(axis=1) - 1.")
        if np.array_equal(yours, first):
            return _report(False, "`hidden_source` hides the *first* token of each row; hide the last real one.")
        wrong_rows = np.flatnonzero((yours != hidden).any(axis=1))
        return _report(False, f"`hidden_source` differs from the source with each row's last real token set to 0 "
                              f"in {len(wrong_rows)} rows (the first is row {wrong_rows[0]}: {yours[wrong_rows[0]]}); "
                              "only that one token of each row should change.")
    value, failed = _number("hidden_exact_match", hidden_exact_match)
    if failed is not None:
        return failed
    measured = _greedy_exact_match(model, hidden, numbers)
    if abs(value - measured) <= 0.02:
        return _report(True, f"hiding the units word leaves {measured:.2f} of the words exactly right. The "
                             "decoder must guess the unit before 'und' (it often repeats the tens digit): no other "
                             "English token says which it was, so the mask decides what it can read.")
    if 1 < value <= 100 and abs(value / 100 - measured) <= 0.02:
        return _report(False, f"{value:g} looks like a percentage; give the fraction.")
    if abs(value - _greedy_exact_match(model, source, numbers)) <= 0.02:
        return _report(False, f"{value:.2f} is the exact match with nothing hidden: your `hidden_source` is right, "
                              "but the figure was measured on the source without it. Decode hidden_source.")
    return _report(False, f"{value:.2f} is not the exact match of the words decoded from your `hidden_source`. "
                          "Decode hidden_source with ah.seq2seq.greedy_decode, turn the tokens into words with "
                          "ah.seq2seq.decode_target, and pass them to ah.seq2seq.exact_match with `pairs`.")


# Notebook 13 ---------------------------------------------------------------------------------------

_SHUFFLE_CHOICES = ("higher", "lower", "same")


def _vit_accuracy(model, images, labels):
    import keras

    return float(np.mean(keras.ops.convert_to_numpy(model(images)).argmax(axis=-1) == labels))


def check_shuffled_without_positions(model, images, labels, prediction, patch_size=4):
    """Exercise of notebook 13: a ViT without position embeddings, tested on shuffled patches.

    Args:
        model: your ViT trained without position embeddings; images `(n, 16, 16, 1)` → 10 logits.
        images, labels: the test set.
        prediction: what you predicted, before measuring, for its accuracy on test images whose
            patches are shuffled, compared with its accuracy on the images as they are:
            "higher", "lower" or "same".
        patch_size: the model's patch size.

    The check measures both accuracies itself (one fixed shuffle of the patches for every image) and
    grades your prediction against the measurement; it never says what a model with positions scores.
    """
    from attention_helpers import vision

    if model is None:
        return _missing("no_position_model")
    if prediction is None:
        return _missing("prediction")
    model = _model("model", model)
    if prediction not in _SHUFFLE_CHOICES:
        raise ValueError(f"`prediction` must be one of {list(_SHUFFLE_CHOICES)}. Received: prediction={prediction!r}")
    if any(layer.name == "position_embedding" for layer in model.layers):
        return _report(False, "your model still has a layer named 'position_embedding': build it with positions=False.")
    images = as_array("images", images, ndim=4, dtype="float32")
    labels = as_array("labels", labels, ndim=1, dtype=int)
    plain = _vit_accuracy(model, images, labels)
    if plain < 0.3:
        return _report(False, f"your model's test accuracy is {plain:.2f}, close to a guess (0.1): train it first.")
    patches = vision.to_patches(images, patch_size)
    order = np.random.default_rng(0).permutation(patches.shape[1])
    shuffled = _vit_accuracy(model, vision.from_patches(patches[:, order], patch_size, *images.shape[1:3]), labels)
    measured = "same" if abs(shuffled - plain) < 0.5 / len(labels) else ("higher" if shuffled > plain else "lower")
    if prediction != measured:
        why = ("without position embeddings every token is a patch's content and nothing else, and attention "
               "and the per-token layers treat the tokens as a set: shuffling them only reorders the "
               "intermediate tokens, and the CLS token, which attends to all of them, sees the same set."
               if measured == "same" else
               "the model does not behave as one without positions should: check that nothing else tells it "
               "where a patch was.")
        return _report(False, f"you predicted {prediction!r}; measured on your model: {measured!r} "
                              f"({plain:.3f} as they are, {shuffled:.3f} shuffled). Why: {why}")
    return _report(True, f"{measured!r}, as you predicted: {plain:.3f} on the images as they are and "
                         f"{shuffled:.3f} with their patches shuffled. Without positions a ViT reads a set of patches.")
