"""Check functions for the notebooks' exercises: each says whether you got it, and why not.

Every check returns True or False and prints one line; it never raises on a wrong answer
(only on an answer of the wrong type or shape, with a message that says what was expected).
"""

from __future__ import annotations

import numpy as np

from attention_helpers._validation import as_array, check_index

#: An attention vector "clearly follows" the target when its peak holds at least this many
#: times the uniform share 1/len(vector). Notebook 01 states and asserts the same threshold.
DENSE_PEAK_FACTOR = 8.0


def _report(ok, message):
    print(("✓ Correct: " if ok else "✗ Not yet: ") + message)
    return ok


def check_attention_follows(attention_vector, target_index):
    """Exercise of notebook 01: after moving the target, does the attention move with it?

    Args:
        attention_vector: 1-D array, the mean attention vector of your trained model.
        target_index: the index you planted the target at.
    """
    if attention_vector is None:
        return _report(False, "the attention vector you passed is None: fill in the line marked YOUR CODE.")
    vector = as_array("attention_vector", attention_vector, ndim=1)
    target_index = check_index("target_index", target_index, vector.size, "len(attention_vector)")
    if not np.isclose(vector.sum(), 1.0, atol=1e-3) or np.any(vector < 0):
        return _report(
            False,
            f"an attention vector is non-negative and sums to 1; yours sums to {vector.sum():.3f}. "
            "Did you average the attention over samples (axis=0) rather than take the weighted inputs?",
        )
    if target_index == 1:
        return _report(False, "pick a target index other than 1, the one the notebook already used.")
    peak = int(np.argmax(vector))
    share = float(vector[target_index])
    needed = DENSE_PEAK_FACTOR / vector.size
    if peak != target_index:
        return _report(False, f"the attention peaks at index {peak}, not at your target {target_index}.")
    if share < needed:
        return _report(
            False,
            f"the peak at {target_index} holds {share:.2f} of the mass; it should hold at least "
            f"{needed:.2f} ({DENSE_PEAK_FACTOR:g}× uniform). Train longer?",
        )
    return _report(
        True,
        f"the attention followed the target to index {target_index} "
        f"({share:.2f} of the mass, {share * vector.size:.0f}× uniform).",
    )


def check_softmax(softmax_fn):
    """Exercise of notebook 00: is your `softmax_fn(scores)` right, and numerically stable?

    It is called on a `(3, 5)` array and must return weights over the last axis that match
    `attention_helpers.reference.softmax`, also for scores as large as 1000 (where a naive
    `exp(x) / exp(x).sum()` overflows to NaN).
    """
    if not callable(softmax_fn):
        return _report(False, f"pass your function itself, not {type(softmax_fn).__name__}.")
    from attention_helpers.reference import softmax

    rng = np.random.default_rng(0)
    cases = {"small scores": rng.normal(size=(3, 5)), "large scores (1000 and up)": 1000 + 50 * rng.normal(size=(3, 5))}
    for label, scores in cases.items():
        with np.errstate(all="ignore"):
            try:
                got = np.asarray(softmax_fn(scores.copy()), dtype=float)
            except Exception as error:  # the student's code: report, don't crash the notebook
                return _report(False, f"your function raised {type(error).__name__}: {error}")
        if got.shape != scores.shape:
            return _report(False, f"on {label} it returned shape {got.shape}; expected {scores.shape}.")
        if not np.all(np.isfinite(got)):
            return _report(False, f"on {label} it returned NaN or inf. Subtract the row max before exp.")
        if not np.allclose(got, softmax(scores), atol=1e-6):
            return _report(False, f"on {label} the weights differ from softmax over the last axis.")
    return _report(True, "your softmax matches the reference and is stable for large scores.")


def _number(name, value):
    if value is None:
        return None, _report(False, f"`{name}` is None: fill in the line marked YOUR CODE.")
    if isinstance(value, bool) or not np.isscalar(value) or not np.isreal(value):
        raise TypeError(f"`{name}` must be a single number. Received: {name}={value!r}")
    return float(value), None


def check_first_informative_step(answer, information, threshold=0.5):
    """Exercise of notebook 02: the first step whose LSTM state knows the label.

    Args:
        answer: your step index.
        information: per-step max |corr(state, label)|, shape `(steps,)`.
        threshold: a state "knows" the label when its information exceeds this.
    """
    value, failed = _number("answer", answer)
    if failed is not None:
        return failed
    information = as_array("information", information, ndim=1)
    above = np.flatnonzero(information > threshold)
    if above.size == 0:
        raise ValueError(
            f"no step of `information` exceeds threshold={threshold}. Received: max {information.max():.2f}"
        )
    expected = int(above[0])
    if value != expected:
        hint = "later" if value < expected else "earlier"
        return _report(
            False, f"step {value:g} is not it; look {hint}: the first index where information > {threshold}."
        )
    return _report(True, f"from step {expected} on the LSTM state knows the label; before it, nothing.")


def check_single_signal_accuracy(answer, x, y, target_steps):
    """Exercise of notebook 03: the best accuracy of a rule that reads only dimension 0's signal.

    The best such rule predicts 1 when the signal of dimension 0 is positive.
    """
    value, failed = _number("answer", answer)
    if failed is not None:
        return failed
    x = as_array("x", x, ndim=3)
    y = as_array("y", y, ndim=2)
    signal = x[:, target_steps[0], 0]
    expected = float(np.mean((signal > 0) == (y[:, 0] == 1)))
    if abs(value - expected) > 0.01:
        return _report(
            False,
            f"{value:.3f} is not it. Predict 1 when x[:, {target_steps[0]}, 0] > 0 and compare with y: "
            "the fraction of matches is the accuracy.",
        )
    return _report(True, f"one signal alone gives {expected:.2f}: about where the shared attention ends up.")


def check_marked_mass(answer, weights, x):
    """Exercise of notebook 04: the mean attention mass on the marked steps, per sequence.

    Args:
        answer: your number.
        weights: attention weights `(n, steps)`.
        x: the inputs `(n, steps, 2)`; the marker is channel 1.
    """
    value, failed = _number("answer", answer)
    if failed is not None:
        return failed
    weights = as_array("weights", weights, ndim=2)
    x = as_array("x", x, ndim=3)
    expected = float(np.mean(np.sum(weights * (x[:, :, 1] == 1), axis=1)))
    if abs(value - expected) > 1e-3:
        return _report(
            False,
            f"{value:.3f} is not it. Sum each sequence's weights where x[:, :, 1] == 1, then average over sequences.",
        )
    return _report(True, f"{expected:.2f} of the mass sits on the 2 marked steps of sequences up to 30 steps long.")


def check_causal_mask(mask_fn):
    """Exercise of notebook 05: `mask_fn(query_steps, value_steps)` returns the causal mask in NumPy.

    True where query step i may look at value step j, that is j <= i; shape `(query_steps, value_steps)`.
    """
    if not callable(mask_fn):
        return _report(False, f"pass your function itself, not {type(mask_fn).__name__}.")
    for query_steps, value_steps in ((1, 1), (4, 4), (3, 5), (5, 2)):
        try:
            got = np.asarray(mask_fn(query_steps, value_steps))
        except Exception as error:  # the student's code: report, don't crash the notebook
            return _report(False, f"your function raised {type(error).__name__}: {error}")
        expected = np.arange(query_steps)[:, None] >= np.arange(value_steps)[None, :]
        if got.shape != expected.shape:
            return _report(
                False, f"for ({query_steps}, {value_steps}) it returned shape {got.shape}; expected {expected.shape}."
            )
        if got.dtype != bool or not np.array_equal(got, expected):
            return _report(False, f"for ({query_steps}, {value_steps}) the mask is wrong: True exactly where j <= i.")
    return _report(True, "your causal mask matches the lower triangle the layers use.")


def check_attention_argmax_pixel(answer, attention_row, width):
    """Exercise of notebook 06: the (row, column) that a query pixel attends to most.

    Args:
        answer: your `(row, column)`.
        attention_row: the query's flat attention over all H·W positions, shape `(H*W,)`.
        width: the image width W (a flat index k is pixel (k // W, k % W)).
    """
    if answer is None:
        return _report(False, "`answer` is None: fill in the line marked YOUR CODE.")
    attention_row = as_array("attention_row", attention_row, ndim=1)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise TypeError(f"`answer` must be a (row, column) pair. Received: answer={answer!r}")
    expected = divmod(int(np.argmax(attention_row)), int(width))
    if tuple(int(a) for a in answer) == tuple(reversed(expected)):
        return _report(False, "row and column are swapped: a flat index k is (k // width, k % width).")
    if tuple(int(a) for a in answer) != expected:
        return _report(False, f"{tuple(answer)} is not it. Take np.argmax of the flat row, then divmod(index, width).")
    return _report(True, f"the query looks most at pixel {expected}.")


def _as_probabilities(model, tokens):
    """`model(tokens)` as a NumPy array `(n, steps, classes)`; a clear error for anything else."""
    from keras import ops  # imported here: the other checks do not need Keras

    output = np.asarray(ops.convert_to_numpy(model(tokens)))
    if output.ndim != 3 or output.shape[:2] != tokens.shape:
        raise ValueError(
            f"`model` must return class probabilities of shape (n, steps, classes) with (n, steps) = {tokens.shape}. "
            f"Received: shape {output.shape}"
        )
    return output


def check_without_positions(model, source, target, accuracy):
    """Exercise of notebook 08: retrain the Transformer without positions and re-measure it.

    Args:
        model: your model trained without position information; called on int tokens `(n, steps)`,
            it returns class probabilities `(n, steps, classes)`.
        source, target: the test set, int `(n, steps)` each.
        accuracy: the token accuracy you measured (the fraction of steps whose class is right).

    It checks that the model cannot see positions (permuting the input steps permutes its outputs
    the same way), that it was trained (it does better than twice the 1/classes of a blind guess),
    and that your figure is the model's token accuracy on `source` and `target`.
    """
    if model is None:
        return _report(False, "`model` is None: fill in the lines marked YOUR CODE.")
    value, failed = _number("accuracy", accuracy)
    if failed is not None:
        return failed
    source = as_array("source", source, ndim=2).astype(np.int64)
    target = as_array("target", target, ndim=2)
    if target.shape != source.shape:
        raise ValueError(
            f"`target` must have the shape of `source`, {source.shape}. Received: target.shape={target.shape}"
        )
    sample = source[:64]
    order = np.random.default_rng(0).permutation(source.shape[1])
    outputs = _as_probabilities(model, sample)
    permuted = _as_probabilities(model, sample[:, order])
    gap = float(np.max(np.abs(permuted - outputs[:, order])))
    if gap > 1e-4:
        return _report(
            False,
            "your model still knows positions: permuting the input steps does not permute its outputs the same "
            f"way (largest difference {gap:.2f}). Build it without the position embedding.",
        )
    probabilities = _as_probabilities(model, source)
    classes = probabilities.shape[-1]
    measured = float(np.mean(probabilities.argmax(axis=-1) == target))
    if measured < 2 / classes:
        return _report(
            False,
            f"your model's token accuracy is {measured:.3f}, no better than a blind guess (1/{classes}). "
            "Did you train it before measuring?",
        )
    if abs(value - measured) > 0.01:
        return _report(
            False,
            f"{value:.3f} is not this model's token accuracy on the test set ({measured:.3f}): compare "
            "argmax(model(source), axis=-1) with target at every step and take the mean.",
        )
    return _report(
        True,
        "without positions the model is permutation-equivariant, so it cannot tell which step it is "
        f"answering for; it reaches {measured:.2f} token accuracy.",
    )
