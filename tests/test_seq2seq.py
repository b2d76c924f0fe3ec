"""Notebook 09's translators: encoding, both builders, greedy decoding and the measurements."""

import keras
import numpy as np
import pytest

from attention_helpers import data, seq2seq


def test_encode_source_and_target_round_trip():
    numbers = np.array([21, 1987, 7])
    source = seq2seq.encode_source(numbers)
    assert source.shape == (3, seq2seq.SOURCE_LENGTH)
    words = [[seq2seq.SOURCE_VOCAB[t] for t in row if t] for row in source]
    assert words == [data.number_words(n)[0] for n in numbers]
    assert np.all(source[2, 1:] == 0)  # "seven" then padding
    inputs, targets = seq2seq.encode_target(numbers)
    assert inputs.shape == targets.shape == (3, seq2seq.TARGET_LENGTH)
    assert np.all(inputs[:, 0] == 0)  # "." starts every decoder input
    german = data.number_words(1987)[1]
    assert np.array_equal(targets[1, : len(german)], inputs[1, 1 : len(german) + 1])  # target[t] == input[t + 1]
    assert targets[1, len(german)] == 0 and np.all(targets[1, len(german) + 1 :] == seq2seq.IGNORE)
    assert seq2seq.decode_target(np.where(targets < 0, 0, targets)) == [data.number_words(n)[1] for n in numbers]


def test_vocabularies_cover_every_number():
    source = seq2seq.encode_source(np.arange(1, 10000))
    assert source.max() < len(seq2seq.SOURCE_VOCAB) and (source[:, -1] > 0).any()  # the longest fills all 9
    _, targets = seq2seq.encode_target(np.arange(1, 10000))
    assert (targets[:, -1] == 0).any()  # the longest German word ends at the last position


def test_measurements_on_known_answers():
    numbers = np.array([21, 7])
    assert seq2seq.exact_match(["einundzwanzig", "siebn"], numbers) == 0.5
    assert seq2seq.character_accuracy(["einundzwanzig", "siebn"], numbers) == (13 + 4) / 19
    perfect = np.zeros((2, 20, 9))
    for row, number in enumerate(numbers):
        reference = data.number_alignment(number)
        perfect[row, np.arange(len(reference)), reference] = 1.0
    assert seq2seq.alignment_accuracy(perfect, numbers) == 1.0
    reversed_ = perfect.copy()
    reversed_[0] = 0.0
    reversed_[0, :, 0] = 1.0  # everything on "twenty": right only for the 7 characters of "zwanzig"
    assert seq2seq.alignment_accuracy(reversed_, numbers) == (7 + 6) / 19
    with pytest.raises(ValueError, match="numbers"):
        seq2seq.encode_source([0])
    with pytest.raises(ValueError, match="weights"):
        seq2seq.alignment_accuracy(perfect[:1], numbers)
    with pytest.raises(ValueError, match="cover every German character"):
        seq2seq.alignment_accuracy(perfect[:, :5], numbers)


@pytest.mark.parametrize("builder", ["build_translator", "build_bahdanau"])
def test_greedy_decode_equals_the_full_model_on_its_own_prefix(builder):
    keras.utils.set_random_seed(0)
    model = getattr(seq2seq, builder)()
    numbers = data.number_split("test")[:16]
    source = seq2seq.encode_source(numbers)
    # A few steps of training so that the words end at different lengths.
    inputs, targets = seq2seq.encode_target(data.number_split("train")[:256])
    model.fit([seq2seq.encode_source(data.number_split("train")[:256]), inputs], targets, epochs=3, verbose=0)
    tokens, weights = seq2seq.greedy_decode(model, source)
    steps = tokens.shape[1]
    prefix = np.concatenate([np.zeros((len(tokens), 1), "int32"), tokens[:, :-1]], axis=1)
    logits, full_weights = seq2seq.with_cross_attention(model).predict_on_batch([source, prefix])
    logits, full_weights = np.asarray(logits), np.asarray(full_weights)
    written = np.cumsum(tokens == 0, axis=1) - (tokens == 0) == 0  # up to and including the first "."
    assert np.array_equal(logits.argmax(-1)[written], tokens[written])
    assert full_weights.shape == weights.shape and steps <= seq2seq.TARGET_LENGTH
    np.testing.assert_allclose(weights, full_weights, atol=1e-5)
    # Padded source words get exactly zero weight at every step.
    padding = source == 0
    axis = (slice(None), None) if weights.ndim == 4 else (slice(None),)
    assert np.all(np.moveaxis(weights, -1, 1)[padding] == 0.0), axis


def test_builders_train_and_reject_bad_arguments():
    with pytest.raises(ValueError, match="d_model"):
        seq2seq.build_translator(d_model=30, num_heads=4)
    with pytest.raises(ValueError, match="model"):
        seq2seq.greedy_decode(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]), np.ones((1, 3), "int32"))


def test_alignment_accuracy_counts_only_the_kinds_asked_for():
    numbers = np.array([21])  # e i n | u n d | z w a n z i g: 3 + 7 digit characters, 3 of "und"
    assert data.number_character_kinds(21) == ["digit"] * 3 + ["und"] * 3 + ["digit"] * 7
    weights = np.zeros((1, 13, 3))
    weights[0, :, 0] = 1.0  # everything on "twenty": right for "zwanzig" only
    assert seq2seq.alignment_accuracy(weights, numbers, kinds=["digit"]) == 7 / 10
    assert seq2seq.alignment_accuracy(weights, numbers, kinds=["und"]) == 0.0
    assert seq2seq.alignment_accuracy(weights, numbers) == 7 / 13
    with pytest.raises(ValueError, match="kinds"):
        seq2seq.alignment_accuracy(weights, numbers, kinds=["tens"])


def test_alignment_accuracy_on_first_characters_counts_one_character_per_piece():
    numbers = np.array([21])  # pieces "ein" (one), "und" (-), "zwanzig" (twenty): first characters 0, 3 and 6
    weights = np.zeros((1, 13, 3))
    weights[0, :, 1] = 1.0  # everything on "-": wrong everywhere except in "und"
    weights[0, 0, :] = [0.0, 0.0, 1.0]  # the "e" of "ein" on "one": right
    assert seq2seq.alignment_accuracy(weights, numbers, first_only=True) == 2 / 3
    assert seq2seq.alignment_accuracy(weights, numbers, kinds=["digit"], first_only=True) == 1 / 2
    assert seq2seq.alignment_accuracy(weights, numbers) == 4 / 13


@pytest.mark.parametrize("builder", ["build_translator", "build_bahdanau"])
def test_teacher_forced_equals_the_full_model(builder):
    keras.utils.set_random_seed(1)
    model = getattr(seq2seq, builder)()
    numbers = np.array([4, 21, 515, 1987, 7070])
    source = seq2seq.encode_source(numbers)
    inputs, _ = seq2seq.encode_target(numbers)
    logits, weights = seq2seq.teacher_forced(model, source, inputs)
    full_logits, full_weights = seq2seq.with_cross_attention(model).predict_on_batch([source, inputs])
    np.testing.assert_allclose(logits, np.asarray(full_logits), atol=1e-4)
    np.testing.assert_allclose(weights, np.asarray(full_weights), atol=1e-5)
    assert np.all(np.moveaxis(weights, -1, 1)[source == 0] == 0.0)  # padded English tokens: exactly 0
    with pytest.raises(ValueError, match="decoder_inputs"):
        seq2seq.teacher_forced(model, source, inputs[:2])
