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
