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


def _one_hot(classes_of_tokens, classes=16):
    return np.eye(classes)[classes_of_tokens]


def _tokens_and_target():
    source = np.random.default_rng(1).integers(0, 4, size=(100, 4))
    return source, (3 * source) % 16  # a per-token answer: a position-free model can get it right


def test_without_positions_accepts_a_trained_equivariant_model(capsys):
    source, target = _tokens_and_target()
    assert exercises.check_without_positions(lambda x: _one_hot((3 * x) % 16), source, target, 1.0)
    assert capsys.readouterr().out.startswith("✓ Correct: without positions")


@pytest.mark.parametrize(
    ("model", "accuracy", "hint"),
    [
        (None, 1.0, "`model` is None: fill in the lines marked YOUR CODE"),
        (lambda x: _one_hot((3 * x) % 16), None, "`accuracy` is None: fill in the line marked YOUR CODE"),
        (lambda x: _one_hot((3 * x + np.arange(x.shape[1])) % 16), 1.0, "your model still knows positions"),
        (lambda x: _one_hot(np.full(x.shape, 15)), 0.0, "no better than a blind guess (1/16)"),
        (lambda x: _one_hot((3 * x) % 16), 0.5, "0.500 is not this model's token accuracy on the test set (1.000)"),
    ],
)
def test_without_positions_explains_wrong_answers(capsys, model, accuracy, hint):
    source, target = _tokens_and_target()
    assert not exercises.check_without_positions(model, source, target, accuracy)
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet") and hint in out


def test_without_positions_tells_keras_models_with_and_without_positions_apart(capsys):
    import keras

    from attention_helpers.layers import PositionEmbedding, TransformerBlock

    source, target = _tokens_and_target()
    for positions in (False, True):
        tokens = keras.Input(shape=(4,), dtype="int32")
        embedded = keras.layers.Embedding(4, 8)(tokens)
        if positions:
            embedded = embedded + PositionEmbedding(4)(embedded)
        hidden = TransformerBlock(num_heads=2, key_dim=4, ff_dim=8)(embedded)
        model = keras.Model(tokens, keras.layers.Dense(16, activation="softmax")(hidden))
        measured = float(np.mean(keras.ops.convert_to_numpy(model(source)).argmax(-1) == target))
        exercises.check_without_positions(model, source, target, measured)
        knows_positions = "your model still knows positions" in capsys.readouterr().out
        assert knows_positions == positions


def test_without_positions_rejects_bad_shapes():
    source, target = _tokens_and_target()
    with pytest.raises(ValueError, match=r"must return class probabilities of shape \(n, steps, classes\)"):
        exercises.check_without_positions(lambda x: x, source, target, 1.0)
    with pytest.raises(ValueError, match=r"`target` must have the shape of `source`"):
        exercises.check_without_positions(lambda x: _one_hot(x), source, target[:, :2], 1.0)
