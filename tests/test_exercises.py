"""Every check: the right answer passes, each wrong answer fails with the reason, None asks for the YOUR CODE part.

The checks that take a trained model get small models with weights set by hand, so that what they
compute is known exactly and no test trains for long.
"""

import re

import keras
import numpy as np
import pytest

from attention_helpers import data, exercises, layers, models, reference

FILL_IN = "fill in the YOUR CODE part"


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
        (None, "fill in the YOUR CODE part"),
        (lambda s: None, "returned None: fill in the YOUR CODE part"),
    ],
)
def test_check_softmax_explains_wrong_answers(capsys, fn, hint):
    assert not exercises.check_softmax(fn)
    assert hint in capsys.readouterr().out


def test_attention_argmax_pixel(capsys):
    row = np.zeros(12)
    row[7] = 1.0  # width 4: pixel (1, 3)
    assert exercises.check_attention_argmax_pixel((1, 3), row, 4)
    assert not exercises.check_attention_argmax_pixel((3, 1), row, 4)
    assert "swapped" in capsys.readouterr().out
    assert not exercises.check_attention_argmax_pixel((0, 7), row, 4)
    with pytest.raises(TypeError, match=r"`answer` must be a \(row, column\) pair"):
        exercises.check_attention_argmax_pixel(7, row, 4)


def _set(layer, *weights):
    layer.set_weights([np.asarray(w, dtype="float32") for w in weights])


# Notebook 01: DenseAttention without bias.


def _dense_model(use_bias, read_target=True):
    inputs = keras.Input(shape=(32,))
    weighted, _ = layers.DenseAttention(use_bias=use_bias, name="attention")(inputs, return_attention_scores=True)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="output")(weighted)
    model = keras.Model(inputs, outputs)
    kernel = np.zeros((32, 32))
    kernel[1, 1] = 5.0  # index 1 scores 5·v[1]: label 1 looks there, label 0 sees uniform scores
    _set(model.get_layer("attention"), kernel, *([np.zeros(32)] if use_bias else []))
    readout = np.zeros((32, 1))
    readout[1, 0] = 20.0 if read_target else 0.0
    _set(model.get_layer("output"), readout, [-5.0])
    return model


def test_attention_without_bias(capsys):
    x, y = data.dense_task(400, seed=0)
    assert exercises.check_attention_without_bias(_dense_model(use_bias=False), x, y, 1)
    assert "label 0 -> 0.03" in capsys.readouterr().out
    assert not exercises.check_attention_without_bias(_dense_model(use_bias=True), x, y, 1)
    assert "still has a bias" in capsys.readouterr().out
    assert not exercises.check_attention_without_bias(_dense_model(use_bias=False, read_target=False), x, y, 1)
    assert "train the model" in capsys.readouterr().out
    assert not exercises.check_attention_without_bias(None, x, y, 1)
    assert FILL_IN in capsys.readouterr().out
    with pytest.raises(TypeError, match=r"`model_without_bias` must be a keras.Model"):
        exercises.check_attention_without_bias("model", x, y, 1)


# Notebook 02: the "after" model without memory.


def _after_model(memory_layer, peak_step, steps=12):
    inputs = keras.Input(shape=(steps, 2))
    states = memory_layer(inputs)
    weighted, _ = layers.TemporalAttention(shared=True, name="attention")(states, return_attention_scores=True)
    pooled = keras.layers.GlobalAveragePooling1D()(weighted)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="output")(pooled)
    model = keras.Model(inputs, outputs)
    units = model.get_layer("attention").bias.shape[0]
    bias = np.zeros((units, steps))
    bias[:, peak_step] = 8.0  # every feature looks at `peak_step`, whatever the content
    _set(model.get_layer("attention"), np.zeros((steps, steps)), bias)
    return model


def test_attention_without_memory(capsys):
    x, y = data.sequence_task(300, steps=12, target_step=5, seed=0)
    dense = keras.layers.Dense(1, activation="tanh", name="lstm")
    model = _after_model(dense, peak_step=5)
    _set(dense, [[3.0], [3.0]], [0.0])  # tanh(3 (v0 + v1)): about 1 at the planted step when y = 1, 0 when y = 0
    _set(model.get_layer("output"), [[12 * 60.0]], [-30.0])
    assert exercises.check_attention_without_memory(model, x, y, 5)
    assert "goes back to the planted step 5" in capsys.readouterr().out

    elsewhere = _after_model(dense, peak_step=8)
    elsewhere.get_layer("output").set_weights(model.get_layer("output").get_weights())
    assert not exercises.check_attention_without_memory(elsewhere, x, y, 5)
    assert "train the model" in capsys.readouterr().out  # looking at a noise step, it cannot be right

    assert not exercises.check_attention_without_memory(
        _after_model(keras.layers.LSTM(4, return_sequences=True), 5), x, y, 5
    )
    assert "still has a recurrent layer" in capsys.readouterr().out
    assert not exercises.check_attention_without_memory(None, x, y, 5)
    assert FILL_IN in capsys.readouterr().out

    before = models.lstm_attention_model("before", memory=False)  # the wrong placement, without memory
    assert not exercises.check_attention_without_memory(before, x, y, 5)
    assert 'that is the "before" model' in capsys.readouterr().out


# Notebook 03: two shared vectors.


def _two_vector_model(peaks, shared=(True, True), steps=20):
    inputs = keras.Input(shape=(steps, 2))
    pooled = []
    for head, (peak, is_shared) in enumerate(zip(peaks, shared)):
        attention = layers.TemporalAttention(shared=is_shared, name=f"attention_{head}")
        weighted, _ = attention(inputs, return_attention_scores=True)
        bias = np.zeros((2, steps))
        bias[:, peak] = 10.0
        _set(attention, np.zeros((steps, steps)), bias)
        pooled.append(keras.layers.GlobalAveragePooling1D()(weighted))
    outputs = keras.layers.Dense(1, activation="sigmoid", name="output")(keras.layers.Concatenate()(pooled))
    model = keras.Model(inputs, outputs)
    _set(model.get_layer("output"), [[50.0], [0.0], [0.0], [50.0]], [0.0])  # dim 0 of head 0 + dim 1 of head 1
    return model


def test_two_shared_vectors(capsys):
    x, y = data.multi_signal_task(400, steps=20, dims=2, target_steps=(5, 15), seed=0)
    assert exercises.check_two_shared_vectors(_two_vector_model((5, 15)), x, y, (5, 15), 0.72)
    assert "split the work: they peak at steps [5, 15]" in capsys.readouterr().out
    assert exercises.check_two_shared_vectors(_two_vector_model((5, 15)), x, y, (5, 15), 0.72, 0.97)
    assert "against 0.72 with one shared vector and 0.97 with one per dimension" in capsys.readouterr().out
    assert not exercises.check_two_shared_vectors(_two_vector_model((5, 15)), x, y, (5, 15), 1.0)
    assert "no better than one shared vector" in capsys.readouterr().out
    assert exercises.check_two_shared_vectors(_two_vector_model((5, 5)), x, y, (5, 15), 0.5)  # reported, not graded
    assert "peak at steps [5, 5]: both at the same signal step" in capsys.readouterr().out
    assert exercises.check_two_shared_vectors(_two_vector_model((3, 5)), x, y, (5, 15), 0.3)
    assert "peak at steps [3, 5]; the signal steps are [5, 15]" in capsys.readouterr().out
    assert not exercises.check_two_shared_vectors(_two_vector_model((5, 15), (True, False)), x, y, (5, 15), 0.7)
    assert "shared=False" in capsys.readouterr().out
    assert not exercises.check_two_shared_vectors(models.pooled_attention_model(shared=True), x, y, (5, 15), 0.7)
    assert "1 shared attention layer(s)" in capsys.readouterr().out
    assert not exercises.check_two_shared_vectors(None, x, y, (5, 15), 0.7)
    assert FILL_IN in capsys.readouterr().out


# Notebook 04: feed-forward attention without the tanh.


def _addition_model(score_activation):
    model = models.sequence_pooling_model("attention", hidden=2, score_activation=score_activation)
    _set(model.get_layer("per_step"), np.eye(2), np.zeros(2))  # relu of (value, marker)
    _set(model.get_layer("attention"), [0.0, 10.0], 0.0)  # the score is 10 × marker
    _set(model.get_layer("head"), np.eye(2), np.zeros(2))
    _set(model.get_layer("output"), [[2.0], [0.0]], [0.0])  # 2 × the marked values' average
    return model


def test_unbounded_scores(capsys):
    x, y = data.addition_task(200, seed=0)
    assert exercises.check_unbounded_scores(_addition_model(None), x, y)
    report = capsys.readouterr().out
    # It grades the change and reports the measurement, with no verdict on the ratio (the student predicts it).
    assert "the score is linear and the model is trained" in report and "largest ratio" in report
    assert "more than exp(2)" not in report and "at most exp(2)" not in report
    # Next to the tanh model's figures.
    assert exercises.check_unbounded_scores(_addition_model(None), x, y, tanh_model=_addition_model("tanh"))
    report = capsys.readouterr().out
    assert re.search(r"test MSE \d\.\d{4} \(with the tanh: [\d.]+×, [\d.]+, \d\.\d{4}\)", report), report
    assert not exercises.check_unbounded_scores(_addition_model("tanh"), x, y)
    assert "still 'tanh'" in capsys.readouterr().out
    untrained = models.sequence_pooling_model("attention", score_activation=None)
    assert not exercises.check_unbounded_scores(untrained, x, y)
    assert "train the model" in capsys.readouterr().out
    assert not exercises.check_unbounded_scores(None, x, y)
    assert FILL_IN in capsys.readouterr().out


# Notebook 05: the reversal with a causal mask.


def _reversal_model(causal, length=8, vocab=10):
    """Weights set so that output step i looks at input step length-1-i and copies its token."""
    dim = vocab + length
    source = keras.Input(shape=(length,), dtype="int32")
    tokens = keras.layers.Embedding(vocab, dim, name="tokens")(source)
    keys = keras.layers.Add()([tokens, layers.PositionEmbedding(length, name="source_positions")(tokens)])
    queries = layers.PositionEmbedding(length, name="target_positions")(tokens)
    context, _ = layers.DotProductAttention(name="attention")(
        [queries, tokens, keys], return_attention_scores=True, use_causal_mask=causal
    )
    outputs = keras.layers.Dense(vocab, activation="softmax", name="next_token")(context)
    model = keras.Model(source, outputs)
    eye = np.eye(dim)
    _set(model.get_layer("tokens"), eye[:vocab])  # token t -> one-hot t
    _set(model.get_layer("source_positions"), eye[vocab:])  # position j -> one-hot vocab + j
    _set(model.get_layer("target_positions"), 30 * eye[vocab:][::-1])  # query i matches key position length-1-i
    _set(model.get_layer("next_token"), 30 * eye[:, :vocab], np.zeros(vocab))
    return model


def test_causal_reversal(capsys):
    source, target = data.reversal_task(500, seed=0)
    assert exercises.check_causal_reversal(_reversal_model(causal=True), source, target)
    assert "the causal mask hides" in capsys.readouterr().out
    assert not exercises.check_causal_reversal(_reversal_model(causal=False), source, target)
    assert "use_causal_mask=True" in capsys.readouterr().out
    assert not exercises.check_causal_reversal(None, source, target)
    assert FILL_IN in capsys.readouterr().out


def test_attention_argmax_pixel_on_the_diagonal_is_not_a_swap(capsys):
    row = np.zeros(64)
    row[5 * 8 + 5] = 1.0  # width 8: pixel (5, 5), its own swap
    assert exercises.check_attention_argmax_pixel((5, 5), row, 8)
    assert capsys.readouterr().out.startswith("✓ Correct")
    assert exercises.check_attention_argmax_pixel([np.int64(5), 5], row, 8)
    assert not exercises.check_attention_argmax_pixel((5, 4), row, 8)
    assert "is not it" in capsys.readouterr().out


def test_turned_up_gamma(capsys):
    from attention_helpers import gan

    trained, classifier = gan.build_generator(), gan.build_classifier()
    trained.get_layer("attention").gamma.assign(-0.03)
    z = np.random.default_rng(0).normal(size=(20, gan.LATENT_DIM)).astype("float32")
    assert not exercises.check_turned_up_gamma(None, trained, classifier, z)
    assert FILL_IN in capsys.readouterr().out

    assert not exercises.check_turned_up_gamma(trained, trained, classifier, z)
    assert "the notebook's generator itself" in capsys.readouterr().out

    fresh = gan.build_generator()  # right layers, untrained weights
    fresh.get_layer("attention").gamma.assign(-1.0)
    assert not exercises.check_turned_up_gamma(fresh, trained, classifier, z)
    assert "apart from γ its weights are not the trained ones" in capsys.readouterr().out

    timid = gan.build_generator()
    timid.set_weights(trained.get_weights())
    timid.get_layer("attention").gamma.assign(-0.06)  # twice the trained γ
    assert not exercises.check_turned_up_gamma(timid, trained, classifier, z)
    assert "2.0 times the trained" in capsys.readouterr().out

    assert not exercises.check_turned_up_gamma(gan.build_generator(attention=False), trained, classifier, z)
    assert "no layer named 'attention'" in capsys.readouterr().out

    louder = gan.build_generator()
    louder.set_weights(trained.get_weights())
    louder.get_layer("attention").gamma.assign(-0.9)  # 30 times
    assert exercises.check_turned_up_gamma(louder, trained, classifier, z, gamma_change=0.01)
    out = capsys.readouterr().out
    assert out.startswith("✓ Correct") and "γ = -0.900 instead of -0.030" in out and "times the change with γ = 0" in out
    assert np.isclose(float(keras.ops.convert_to_numpy(trained.get_layer("attention").gamma)), -0.03)  # untouched

    with pytest.raises(TypeError, match=r"`louder` must be a keras\.Model .*Received: louder of type str"):
        exercises.check_turned_up_gamma("generator", trained, classifier, z)


def _one_hot(classes_of_tokens, classes=16):
    return np.eye(classes)[classes_of_tokens]


def _tokens_and_target():
    source = np.random.default_rng(1).integers(0, 4, size=(100, 4))
    return source, (3 * source) % 16  # a per-token answer: a position-free model can get it right


def test_without_positions_accepts_a_trained_equivariant_model(capsys):
    source, target = _tokens_and_target()
    assert exercises.check_without_positions(lambda x: _one_hot((3 * x) % 16), source, target, 1.0)
    out = capsys.readouterr().out
    assert out.startswith("✓ Correct: without positions")
    assert "the pair (both tokens) right at 1.00 of the test steps" in out  # the pair, not one token


@pytest.mark.parametrize(
    ("model", "accuracy", "hint"),
    [
        (None, 1.0, "`no_position_model` is None: fill in the YOUR CODE part"),
        (lambda x: _one_hot((3 * x) % 16), None, "`no_position_accuracy` is None: fill in the YOUR CODE part"),
        (lambda x: _one_hot((3 * x + np.arange(x.shape[1])) % 16), 1.0, "your model still knows positions"),
        (lambda x: _one_hot(np.full(x.shape, 15)), 0.0, "no better than a blind guess (1/16)"),
        (lambda x: _one_hot((3 * x) % 16), 0.5, "0.500 is not this model's pair accuracy on the test set (1.000)"),
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


# Notebook 06 ---------------------------------------------------------------------------------------


def _two_objects_4x4():
    """One 4×4 image: marked pixels (0, 0) and (3, 3), a distractor at (0, 3); one object per 2×2 cell."""
    objects = np.zeros((1, 4, 4), np.int32)
    objects[0, 0, 0], objects[0, 3, 3], objects[0, 0, 3] = 1, 2, 3
    return objects


def _pooled_beta(target_cell_of):
    """Attention (1, 16, 4): each query puts 0.7 on `target_cell_of(query)` and 0.1 on the other cells."""
    beta = np.full((1, 16, 4), 0.1)
    for query in range(16):
        beta[0, query, target_cell_of(query)] = 0.7
    return beta


def _tiny_model(pool_keys_values=True, name="attention"):
    import keras

    from attention_helpers.layers import SelfAttention2D

    inputs = keras.Input(shape=(4, 4, 2))
    attended = SelfAttention2D(pool_keys_values=pool_keys_values, gamma_initializer=0.5, name=name)(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.GlobalAveragePooling2D()(attended))
    return keras.Model(inputs, outputs)


def _answers_of(model, x):
    """Labels that `model` gets all right: its own thresholded predictions."""
    import keras

    return (keras.ops.convert_to_numpy(model(x)) > 0.5).astype("float32")


def test_attention_per_object_and_other_object_wins_with_full_keys():
    objects = np.zeros((1, 3, 4), np.int32)
    objects[0, 0, :2], objects[0, 2, 2:], objects[0, 1, 3] = 1, 2, 3  # two marked pairs of pixels, one distractor
    beta = np.zeros((1, 12, 12))
    beta[0, :, 11] = 0.6  # every query looks at (2, 3), a pixel of object 2 ...
    beta[0, :, 7] = 0.4  # ... and at the distractor (1, 3)
    np.testing.assert_allclose(exercises._attention_per_object(beta, objects)[0, 0], [0.0, 0.0, 0.6, 0.4])
    # object 1's two pixels see object 2 beat the distractor; object 2's two pixels see nothing on object 1
    np.testing.assert_array_equal(exercises._other_object_wins(beta, objects), [True, True, False, False])


def test_other_object_wins_with_pooled_keys_counts_each_cell_for_its_object():
    beta = _pooled_beta(lambda q: 3 if q == 0 else 1)  # query (0, 0) looks at cell 3 (object 2), others at cell 1
    mass = exercises._attention_per_object(beta, _two_objects_4x4())
    np.testing.assert_allclose(mass[0, 0], [0.1, 0.1, 0.7, 0.1])  # background, object 1, 2, 3
    np.testing.assert_array_equal(exercises._other_object_wins(beta, _two_objects_4x4()), [True, False])


def test_pooled_attention_check_reads_the_maps_of_the_model_itself():
    model = _tiny_model()
    x = np.random.default_rng(0).random((3, 4, 4, 2)).astype("float32")
    beta = exercises._attention_maps(model, model.get_layer("attention"), x)
    assert beta.shape == (3, 16, 4)
    np.testing.assert_allclose(beta.sum(axis=-1), 1.0, atol=1e-5)
    _, expected = model.get_layer("attention")(x, return_attention_scores=True)
    np.testing.assert_allclose(beta, np.asarray(expected)[:, 0], atol=1e-6)


def test_pooled_attention_check_accepts_a_trained_pooled_model_whose_maps_find_the_other_square(capsys, monkeypatch):
    model, objects = _tiny_model(), _two_objects_4x4()
    x = np.random.default_rng(1).random((1, 4, 4, 2)).astype("float32")
    monkeypatch.setattr(exercises, "_attention_maps", lambda *_: _pooled_beta(lambda q: 3 if q == 0 else 0))
    assert exercises.check_pooled_attention(model, x, _answers_of(model, x), objects)
    out = capsys.readouterr().out
    assert out.startswith("✓ Correct") and "with 4 keys instead of 16" in out and "1.00 of the marked" in out


def test_pooled_attention_check_reports_maps_that_miss_the_other_square_without_failing_a_right_answer(
    capsys, monkeypatch
):
    model, objects = _tiny_model(), _two_objects_4x4()
    x = np.random.default_rng(1).random((1, 4, 4, 2)).astype("float32")
    monkeypatch.setattr(exercises, "_attention_maps", lambda *_: _pooled_beta(lambda q: 1))  # all on the distractor
    assert exercises.check_pooled_attention(model, x, _answers_of(model, x), objects)
    out = capsys.readouterr().out
    assert out.startswith("✓ Correct") and "but only 0.00 of the marked query pixels" in out
    assert "the same accuracy, different attention" in out


def test_pooled_attention_check_says_what_is_wrong(capsys, monkeypatch):
    model, objects = _tiny_model(), _two_objects_4x4()
    x = np.random.default_rng(1).random((1, 4, 4, 2)).astype("float32")
    right = _answers_of(model, x)
    assert not exercises.check_pooled_attention(None, x, right, objects)
    assert "`pooled_model` is None: fill in the YOUR CODE part" in capsys.readouterr().out
    full = _tiny_model(pool_keys_values=False)
    assert not exercises.check_pooled_attention(full, x, _answers_of(full, x), objects)
    assert "does not pool keys and values: build it with pool_keys_values=True" in capsys.readouterr().out
    unnamed = _tiny_model(name="self_attention")
    assert not exercises.check_pooled_attention(unnamed, x, right, objects)
    assert "no layer named 'attention'" in capsys.readouterr().out
    assert not exercises.check_pooled_attention(model, x, 1 - right, objects)  # every answer wrong: untrained
    assert "its test accuracy is 0.00 (needed: 0.85). Train it like the notebook's model" in capsys.readouterr().out
    with pytest.raises(TypeError, match=r"`pooled_model` must be a keras.Model"):
        exercises.check_pooled_attention("model", x, right, objects)
    with pytest.raises(ValueError, match=r"must describe the same images"):
        exercises.check_pooled_attention(model, x, right, objects[:, :3])


def _attend(q, k_new, v_new, cache, scale=True, append=True, use_cache=True):
    """Cached attention, right or with one of three mistakes."""
    keys = np.concatenate([cache["keys"], k_new[:, None]], axis=1)
    values = np.concatenate([cache["values"], v_new[:, None]], axis=1)
    attended_keys, attended_values = (keys, values) if use_cache else (k_new[:, None], v_new[:, None])
    scores = np.einsum("bhd,bthd->bht", q, attended_keys) / (np.sqrt(q.shape[-1]) if scale else 1.0)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    output = np.einsum("bht,bthd->bhd", w, attended_values)
    return output, ({"keys": keys, "values": values} if append else cache)


def test_check_kv_cache_accepts_the_package_and_explains_mistakes(capsys):
    from attention_helpers import gpt

    assert exercises.check_kv_cache(gpt.attend_with_cache)
    assert "equals attention over the whole sequence" in capsys.readouterr().out
    assert not exercises.check_kv_cache(lambda q, k, v, c: _attend(q, k, v, c, scale=False))
    out = capsys.readouterr().out
    assert "position 0 is the first" not in out and "not divided by √head_dim" in out
    assert not exercises.check_kv_cache(lambda q, k, v, c: _attend(q, k, v, c, use_cache=False))
    assert "position 1 is the first" in capsys.readouterr().out  # position 0 has only itself to attend to
    assert not exercises.check_kv_cache(lambda q, k, v, c: _attend(q, k, v, c, append=False))
    assert "append the new key and value" in capsys.readouterr().out
    assert not exercises.check_kv_cache(lambda q, k, v, c: (None, c))
    assert FILL_IN in capsys.readouterr().out
    assert not exercises.check_kv_cache(None)
    assert FILL_IN in capsys.readouterr().out
    assert not exercises.check_kv_cache(lambda q, k, v, c: (q[:, 0], _attend(q, k, v, c)[1]))
    assert "expected (batch, heads, head_dim)" in capsys.readouterr().out
    with pytest.raises(TypeError, match="must return `\\(output, cache\\)`"):
        exercises.check_kv_cache(lambda q, k, v, c: q)


def test_check_kv_cache_inside_a_gpt_compares_every_position():
    from attention_helpers import gpt

    keras.utils.set_random_seed(3)
    weights = gpt.gpt_weights(gpt.build_gpt(context=8, d_model=16, num_heads=2, dropout=0.0))
    assert exercises.check_kv_cache(gpt.attend_with_cache, weights)


def test_check_attention_merge_names_the_wrong_term(capsys):
    def right(a, b):
        m = np.maximum(a[0], b[0])
        sa, sb = np.exp(a[0] - m), np.exp(b[0] - m)
        return m, a[1] * sa + b[1] * sb, a[2] * sa + b[2] * sb

    assert exercises.check_attention_merge(right)
    assert "o / l equals naive attention" in capsys.readouterr().out
    assert not exercises.check_attention_merge(lambda a, b: (a[0], *right(a, b)[1:]))
    assert "the maximum `m` is wrong" in capsys.readouterr().out
    assert not exercises.check_attention_merge(lambda a, b: (right(a, b)[0], a[1] + b[1], right(a, b)[2]))
    assert "l_a + l_b adds sums taken against two different maxima" in capsys.readouterr().out
    assert not exercises.check_attention_merge(lambda a, b: (*right(a, b)[:2], a[2] + b[2]))
    assert "o_a + o_b mixes outputs" in capsys.readouterr().out
    assert not exercises.check_attention_merge(lambda a, b: (None, None, None))
    assert FILL_IN in capsys.readouterr().out
    with pytest.raises(TypeError, match="must return `\\(m, l, o\\)`"):
        exercises.check_attention_merge(lambda a, b: a[0])


def _causal_attention(mask_fill=-np.inf, reverse=False, after_softmax=False, apply=True, offset=True):
    from attention_helpers.reference import softmax

    def attend(query, key, value):
        scores = query @ key.T
        shift = len(key) - len(query) if offset else 0  # the queries are the last len(query) steps
        causal = np.arange(len(query))[:, None] + shift >= np.arange(len(key))[None, :]
        if reverse:
            causal = np.arange(len(query))[:, None] + shift <= np.arange(len(key))[None, :]
        if apply and not after_softmax:
            scores = np.where(causal, scores, mask_fill)
        weights = softmax(scores)
        if apply and after_softmax:
            weights = weights * causal
        return weights @ value, weights

    return attend


@pytest.mark.parametrize(
    ("attend", "hint"),
    [
        (_causal_attention(apply=False), "never applied"),
        (_causal_attention(reverse=True), "the mask is reversed"),
        (_causal_attention(after_softmax=True), "Mask the scores before it"),
        (_causal_attention(mask_fill=0.0), "must be exactly 0"),
        (_causal_attention(offset=False), "as if the queries were the first 3 steps"),
        (lambda q, k, v: None, "fill in the YOUR CODE part"),
        (lambda q, k, v: q @ k.T, "return two arrays"),
        (None, "fill in the YOUR CODE part"),
    ],
)
def test_check_causal_attention_says_what_is_wrong(attend, hint, capsys):
    assert not exercises.check_causal_attention(attend)
    assert hint in capsys.readouterr().out


def test_check_causal_attention_accepts_minus_infinity_and_a_large_negative(capsys):
    assert exercises.check_causal_attention(_causal_attention(mask_fill=-np.inf))
    assert exercises.check_causal_attention(_causal_attention(mask_fill=-1e9))
    assert "use_causal_mask=True" in capsys.readouterr().out


def _induction_circuit(mistake=None):
    """The four circuits of the hand-built induction model, right or with one kind of mistake."""
    from attention_helpers import circuits

    slots = circuits.hand_built_layout()
    token, position, previous, output = (slots[name] for name in ("token", "position", "previous", "output"))
    d, v, t = output.stop, token.stop, position.stop - position.start
    previous_qk, previous_ov, induction_qk, induction_ov = (np.zeros((d, d)) for _ in range(4))
    previous_qk[position, position] = 20 * np.eye(t, k=-1)  # query i, key i - 1
    previous_ov[token, previous] = np.eye(v)
    induction_qk[token, previous] = 20 * np.eye(v)  # my token == the key's previous token
    induction_ov[token, output] = np.eye(v)
    if mistake == "previous looks at itself":
        previous_qk[position, position] = 20 * np.eye(t)
    elif mistake == "previous looks two back":
        previous_qk[position, position] = 20 * np.eye(t, k=-2)
    elif mistake == "previous writes nothing":
        previous_ov[:] = 0.0
    elif mistake == "induction matches the token itself":
        induction_qk[:] = 0.0
        induction_qk[token, token] = 20 * np.eye(v)
    elif mistake == "previous looks forward":
        previous_qk[position, position] = 20 * np.eye(t, k=1)
    elif mistake == "induction too soft":
        induction_qk[token, previous] = np.eye(v)
    elif mistake == "induction copies nothing":
        induction_ov[token, output] = 0.0
        induction_ov[token, previous] = np.eye(v)
    return previous_qk, previous_ov, induction_qk, induction_ov


def test_check_induction_circuit_accepts_the_circuit_and_names_the_failing_head(capsys):
    assert exercises.check_induction_circuit(*_induction_circuit())
    out = capsys.readouterr().out
    assert "predicts 100.0% of the repeated tokens" in out and "previous-token score of the layer-1 head 1.00" in out
    expected = {
        "previous looks at itself": ["layer-1 head is not a previous-token head", "most often i − 0"],
        "previous looks two back": ["layer-1 head is not a previous-token head", "most often i − 2"],
        "previous writes nothing": ["does not write that token into the `previous` slot"],
        "induction matches the token itself": ["layer-2 head is not an induction head",
                                               "keys that hold the query's own token"],
        "induction copies nothing": ["Both patterns are right", "into the `output` slot"],
        "previous looks forward": ["layer-1 head is not a previous-token head", "keys *after* the query",
                                   "row i, column i − 1"],
        "induction too soft": ["layer-2 head is not an induction head", "prefers the right key",
                               "scale its scores up"],
    }
    for mistake, hints in expected.items():
        assert not exercises.check_induction_circuit(*_induction_circuit(mistake)), mistake
        out = capsys.readouterr().out
        for hint in hints:
            assert hint in out, (mistake, out)
    assert not exercises.check_induction_circuit(*(np.zeros((224, 224)) for _ in range(4)))  # the template
    assert FILL_IN in capsys.readouterr().out
    assert not exercises.check_induction_circuit(np.zeros((224, 224)), *_induction_circuit()[1:])
    assert "spread evenly over the keys" in capsys.readouterr().out
    assert not exercises.check_induction_circuit(None, None, None, None)
    assert FILL_IN in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"`previous_ov` must be \(d, d\) = \(224, 224\)"):
        exercises.check_induction_circuit(np.zeros((224, 224)), np.zeros((3, 3)), np.zeros((224, 224)),
                                          np.zeros((224, 224)))


# Notebook 09 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hidden_word_case():
    """The shipped translator, 30 test numbers that end in '- unit', the source with that unit hidden
    (encoded another way than the check does: the words without their last one), and the exact match
    with and without it hidden."""
    from attention_helpers import data, pretrained, seq2seq

    model = pretrained.load_translator()
    pairs = [n for n in data.number_split("test") if "-" in data.number_words(n)[0]]
    longest = [n for n in pairs if len(data.number_words(n)[0]) == seq2seq.SOURCE_LENGTH]  # no padding
    numbers = np.array(pairs[:20] + longest[:10])  # short rows, and rows whose last column is the units word
    source = np.zeros((len(numbers), seq2seq.SOURCE_LENGTH), "int32")
    for row, number in enumerate(numbers):
        words = data.number_words(int(number))[0][:-1]
        source[row, : len(words)] = [seq2seq.SOURCE_TOKEN[w] for w in words]
    hidden = seq2seq.exact_match(seq2seq.decode_target(seq2seq.greedy_decode(model, source)[0]), numbers)
    tokens, _ = seq2seq.greedy_decode(model, seq2seq.encode_source(numbers))
    complete = seq2seq.exact_match(seq2seq.decode_target(tokens), numbers)
    return model, numbers, source, hidden, complete


def test_hidden_word_accepts_the_measured_figure(capsys, hidden_word_case):
    model, numbers, source, hidden, complete = hidden_word_case
    assert complete - hidden > 0.5  # hiding the unit breaks most words: the wrong answers below are told apart
    assert exercises.check_hidden_word(source, hidden, model, numbers)
    assert capsys.readouterr().out.startswith("✓ Correct: hiding the units word")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ("none", "`hidden_exact_match` is None: fill in the YOUR CODE part"),
        ("complete", "is the exact match with nothing hidden"),
        ("percent", "looks like a percentage"),
        ("far", "is not the exact match of the words decoded from your `hidden_source`"),
    ],
)
def test_hidden_word_says_why_a_figure_is_wrong(capsys, hidden_word_case, answer, hint):
    model, numbers, source, hidden, complete = hidden_word_case
    value = {"none": None, "complete": complete, "percent": 100 * hidden, "far": (hidden + complete) / 2}[answer]
    assert not exercises.check_hidden_word(source, value, model, numbers)
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet") and hint in out
    assert f"{hidden:.2f}" not in out  # the answer is never given away


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        ("none", "`hidden_source` is None"),
        ("unchanged", "nothing is hidden yet"),
        ("last column", "sets the last *column* to 0"),
        ("first", "hides the *first* token"),
        ("two tokens", "only that one token of each row should change"),
    ],
)
def test_hidden_word_says_why_the_hidden_source_is_wrong(capsys, hidden_word_case, mistake, hint):
    from attention_helpers import seq2seq

    model, numbers, source, hidden, _ = hidden_word_case
    yours = seq2seq.encode_source(numbers)
    if mistake == "last column":
        yours[:, -1] = 0
    elif mistake == "first":
        yours[:, 0] = 0
    elif mistake == "two tokens":
        yours = source.copy()
        yours[0, 0] = 0
    yours = None if mistake == "none" else yours
    assert not exercises.check_hidden_word(yours, hidden, model, numbers)  # even with the right figure
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet") and hint in out


def test_hidden_word_rejects_numbers_without_a_units_word(hidden_word_case):
    model, numbers, source, *_ = hidden_word_case
    with pytest.raises(ValueError, match="tens-and-units pair"):
        exercises.check_hidden_word(np.zeros((2, 9)), 0.1, model, [21, 30])
    with pytest.raises(TypeError, match=r"keras\.Model"):
        exercises.check_hidden_word(source, 0.1, "model", numbers)
    with pytest.raises(ValueError, match=r"`hidden_source` must have the shape"):
        exercises.check_hidden_word(source[:, :5], 0.1, model, numbers)


# Notebook 13 -----------------------------------------------------------------------------------------


def _digits_vit(positions):
    import keras

    import attention_helpers as ah

    keras.utils.set_random_seed(0)
    images, labels = ah.data.digits(16, seed=0)
    model = ah.vision.build_vit(positions=positions, decay_steps=112)
    model.fit(images[:1400], labels[:1400], batch_size=50, epochs=4, verbose=0)
    return model, images[1400:], labels[1400:]


def test_check_shuffled_without_positions_grades_the_prediction(capsys):
    model, images, labels = _digits_vit(False)
    assert exercises.check_shuffled_without_positions(model, images, labels, "same") is True
    assert "'same', as you predicted" in capsys.readouterr().out
    assert exercises.check_shuffled_without_positions(model, images, labels, "lower") is False
    out = capsys.readouterr().out
    assert "you predicted 'lower'; measured on your model: 'same'" in out and "treat the tokens as a set" in out
    with pytest.raises(ValueError, match=r"`prediction` must be one of \['higher', 'lower', 'same'\]"):
        exercises.check_shuffled_without_positions(model, images, labels, "down")
    assert exercises.check_shuffled_without_positions(None, images, labels, "same") is False
    assert exercises.check_shuffled_without_positions(model, images, labels, None) is False
    assert "`prediction` is None" in capsys.readouterr().out.splitlines()[-1]


def test_check_shuffled_without_positions_refuses_a_model_with_positions(capsys):
    import attention_helpers as ah

    model = ah.vision.build_vit(positions=True)
    images, labels = ah.data.digits(16, seed=0)
    assert exercises.check_shuffled_without_positions(model, images[:50], labels[:50], "same") is False
    assert "positions=False" in capsys.readouterr().out
