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


def test_first_informative_step(capsys):
    information = np.array([0.05, 0.1, 0.04, 0.97, 0.8, 0.3])
    assert exercises.check_first_informative_step(3, information)
    assert not exercises.check_first_informative_step(4, information)
    assert "look earlier" in capsys.readouterr().out
    assert not exercises.check_first_informative_step(None, information)
    with pytest.raises(TypeError, match="`answer` must be a single number"):
        exercises.check_first_informative_step("3", information)


def test_single_signal_accuracy():
    from attention_helpers.data import multi_signal_task

    x, y = multi_signal_task(2000, seed=0)
    right = float(np.mean((x[:, 5, 0] > 0) == (y[:, 0] == 1)))
    assert exercises.check_single_signal_accuracy(right, x, y, (5, 15))
    assert not exercises.check_single_signal_accuracy(right + 0.05, x, y, (5, 15))
    assert not exercises.check_single_signal_accuracy(float(np.mean(y)), x, y, (5, 15))


def test_marked_mass():
    x = np.zeros((2, 4, 2))
    x[0, [0, 2], 1] = 1
    x[1, [1, 3], 1] = 1
    weights = np.array([[0.4, 0.1, 0.3, 0.2], [0.25, 0.25, 0.25, 0.25]])
    assert exercises.check_marked_mass((0.7 + 0.5) / 2, weights, x)
    assert not exercises.check_marked_mass(0.5, weights, x)


def test_causal_mask(capsys):
    assert exercises.check_causal_mask(lambda q, v: np.tril(np.ones((q, v), bool)))
    assert not exercises.check_causal_mask(lambda q, v: np.triu(np.ones((q, v), bool)))
    assert not exercises.check_causal_mask(lambda q, v: np.tril(np.ones((q, v))))  # not boolean
    assert not exercises.check_causal_mask(lambda q, v: None)
    assert "mask is wrong" in capsys.readouterr().out


def test_attention_argmax_pixel(capsys):
    row = np.zeros(12)
    row[7] = 1.0  # width 4: pixel (1, 3)
    assert exercises.check_attention_argmax_pixel((1, 3), row, 4)
    assert not exercises.check_attention_argmax_pixel((3, 1), row, 4)
    assert "swapped" in capsys.readouterr().out
    assert not exercises.check_attention_argmax_pixel((0, 7), row, 4)
    with pytest.raises(TypeError, match=r"`answer` must be a \(row, column\) pair"):
        exercises.check_attention_argmax_pixel(7, row, 4)


def test_attention_argmax_pixel_on_the_diagonal_is_not_a_swap(capsys):
    row = np.zeros(64)
    row[5 * 8 + 5] = 1.0  # width 8: pixel (5, 5), its own swap
    assert exercises.check_attention_argmax_pixel((5, 5), row, 8)
    assert capsys.readouterr().out.startswith("✓ Correct")
    assert exercises.check_attention_argmax_pixel([np.int64(5), 5], row, 8)
    assert not exercises.check_attention_argmax_pixel((5, 4), row, 8)
    assert "is not it" in capsys.readouterr().out


def test_full_keys_generator(capsys):
    from attention_helpers import gan

    trained, classifier = gan.build_generator(), gan.build_classifier()
    trained.get_layer("attention").gamma.assign(0.5)  # so that the keys it sees matter
    z = np.random.default_rng(0).normal(size=(20, gan.LATENT_DIM)).astype("float32")
    assert not exercises.check_full_keys_generator(None, trained, classifier, z)
    assert "fill in the YOUR CODE part" in capsys.readouterr().out

    still_pooled = gan.build_generator()
    still_pooled.set_weights(trained.get_weights())
    assert not exercises.check_full_keys_generator(still_pooled, trained, classifier, z)
    assert "still pools keys and values" in capsys.readouterr().out

    untrained = gan.build_generator(pool_keys_values=False)  # right structure, fresh weights
    assert not exercises.check_full_keys_generator(untrained, trained, classifier, z)
    assert "not the trained ones" in capsys.readouterr().out

    assert not exercises.check_full_keys_generator(gan.build_generator(attention=False), trained, classifier, z)
    assert "no layer named 'attention'" in capsys.readouterr().out

    solution = gan.build_generator(pool_keys_values=False)
    solution.set_weights(trained.get_weights())
    assert exercises.check_full_keys_generator(solution, trained, classifier, z)
    out = capsys.readouterr().out
    assert out.startswith("✓ Correct") and "256 keys instead of 64" in out and "classes" in out

    with pytest.raises(TypeError, match=r"`generator` must be a keras\.Model\. Received: str"):
        exercises.check_full_keys_generator("generator", trained, classifier, z)
