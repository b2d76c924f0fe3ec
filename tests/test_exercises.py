import numpy as np
import pytest

from attention_helpers import exercises, reference


def _peaked(size, index, share):
    vector = np.full(size, (1 - share) / (size - 1))
    vector[index] = share
    return vector


def test_attention_follows_accepts_a_clear_peak(capsys):
    assert exercises.check_attention_follows(_peaked(32, 7, 0.4), 7)
    assert capsys.readouterr().out.startswith("✓ Correct")


@pytest.mark.parametrize(
    ("vector", "target", "hint"),
    [
        (None, 7, "is None"),
        (_peaked(32, 5, 0.4), 7, "peaks at index 5, not at your target 7"),
        (_peaked(32, 7, 0.2), 7, "holds 0.20 of the mass; it should hold at least 0.25"),
        (_peaked(32, 1, 0.4), 1, "other than 1"),
        (np.ones(32), 7, "sums to 32.000"),
    ],
)
def test_attention_follows_explains_wrong_answers(capsys, vector, target, hint):
    assert not exercises.check_attention_follows(vector, target)
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet") and hint in out


def test_attention_follows_rejects_wrong_types():
    with pytest.raises(ValueError, match="must have rank 1"):
        exercises.check_attention_follows(np.ones((2, 16)) / 16, 3)
    with pytest.raises(ValueError, match=r"`target_index` must be in \[0, 31\]"):
        exercises.check_attention_follows(_peaked(32, 7, 0.4), 40)


def test_check_softmax_accepts_stable_and_rejects_naive(capsys):
    assert exercises.check_softmax(reference.softmax)

    def naive(scores):
        exp = np.exp(scores)
        return exp / exp.sum(axis=-1, keepdims=True)

    assert not exercises.check_softmax(naive)
    assert "NaN or inf" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda s: np.exp(s - s.max()) / np.exp(s - s.max()).sum(), "differ from softmax over the last axis"),
        (lambda s: s[0], "returned shape"),
        (lambda s: 1 / 0, "raised ZeroDivisionError"),
        ("softmax", "pass your function itself"),
    ],
)
def test_check_softmax_explains_wrong_answers(capsys, fn, hint):
    assert not exercises.check_softmax(fn)
    assert hint in capsys.readouterr().out
