"""`attention_helpers.gpt`: the tiny GPT of notebook 10, its NumPy forward pass, KV cache and sampling.

The NumPy code is checked against the Keras model (the ground truth), the cache against the full
recomputation at every position, and the notebook's own `decode_step` and `sample_next` against the
package's copies.
"""

import keras
import numpy as np
import pytest

from attention_helpers import gpt
from tests.test_notebook_models import notebook_function

NOTEBOOK = "10_tiny_gpt.ipynb"


@pytest.fixture(scope="module")
def small_model():
    keras.utils.set_random_seed(7)
    return gpt.build_gpt(context=10, d_model=16, num_heads=2, num_layers=2, dropout=0.0)


def random_tokens(batch, steps, seed=0):
    tokens = np.random.default_rng(seed).integers(1, len(gpt.VOCAB), size=(batch, steps))
    tokens[:, 0] = gpt.END
    return tokens


def test_encode_shifts_targets_by_one_and_pads_with_ignore():
    inputs, targets = gpt.encode(["ab", "c"], context=5)
    np.testing.assert_array_equal(inputs, [[0, 1, 2, 0, 0], [0, 3, 0, 0, 0]])
    np.testing.assert_array_equal(targets, [[1, 2, 0, -1, -1], [3, 0, -1, -1, -1]])
    assert gpt.decode(inputs[0]) == "ab" and gpt.decode([0, 3, 0, 5]) == "c"


@pytest.mark.parametrize(
    ("names", "error", "match"),
    [
        ("smith", TypeError, "a list of names, not one string"),
        (["Smith"], ValueError, "letters a-z. Received: 'Smith'"),
        ([""], ValueError, "non-empty"),
        (["abcdef"], ValueError, "at most context - 1 = 5 letters. Received: 'abcdef'"),
    ],
)
def test_encode_rejects_bad_names(names, error, match):
    with pytest.raises(error, match=match):
        gpt.encode(names, context=6)


def test_build_gpt_returns_logits_and_is_causal(small_model):
    tokens = random_tokens(3, 10)
    logits = keras.ops.convert_to_numpy(small_model(tokens))
    assert logits.shape == (3, 10, len(gpt.VOCAB))
    changed = tokens.copy()
    changed[:, 6:] = (changed[:, 6:] % 26) + 1  # change the future of position 5
    after = keras.ops.convert_to_numpy(small_model(changed))
    np.testing.assert_array_equal(after[:, :6], logits[:, :6])  # the past does not see it
    assert not np.allclose(after[:, 6:], logits[:, 6:])


def test_build_gpt_rejects_width_not_divisible_by_heads():
    with pytest.raises(ValueError, match=r"`d_model` must be a multiple of `num_heads`\. Received: d_model=10"):
        gpt.build_gpt(d_model=10, num_heads=4)


def test_numpy_forward_equals_the_keras_model(small_model):
    tokens = random_tokens(4, 9, seed=1)
    expected = keras.ops.convert_to_numpy(small_model(tokens))
    logits, maps = gpt.forward(gpt.gpt_weights(small_model), tokens, return_attention=True)
    np.testing.assert_allclose(logits, expected, atol=1e-4)
    assert len(maps) == 2 and maps[0].shape == (4, 2, 9, 9)
    assert np.all(maps[1][np.broadcast_to(np.triu(np.ones((9, 9), bool), k=1), maps[1].shape)] == 0.0)


def test_cached_decoding_equals_the_full_recomputation_at_every_position(small_model):
    weights = gpt.gpt_weights(small_model)
    names, tokens, logits = gpt.generate(weights, 5, temperature=1.0, seed=3, return_logits=True)
    full = keras.ops.convert_to_numpy(small_model(tokens[:, :-1]))
    assert logits.shape == full.shape
    np.testing.assert_allclose(logits, full, atol=1e-4)
    assert names == [gpt.decode(row) for row in tokens]


def test_greedy_names_are_the_same_with_and_without_the_cache(small_model):
    weights = gpt.gpt_weights(small_model)
    assert gpt.generate(weights, 6, temperature=0.0) == gpt.generate(weights, 6, temperature=0.0, use_cache=False)
    sampled = gpt.generate(weights, 6, seed=5)
    assert sampled == gpt.generate(weights, 6, seed=5, use_cache=False)


def test_cache_grows_by_one_step_of_2_d_model_numbers_per_block(small_model):
    weights = gpt.gpt_weights(small_model)
    cache = gpt.empty_cache(weights, 3)
    for position in range(4):
        _, cache = gpt.decode_step(weights, np.zeros(3, int), position, cache)
    assert [c["keys"].shape for c in cache] == [(3, 4, 2, 8)] * 2
    assert sum(c["keys"].nbytes + c["values"].nbytes for c in cache) == 3 * 4 * 2 * (2 * 16 * 4)


def test_sample_next_greedy_temperature_and_top_k():
    logits = np.tile([[0.0, 3.0, 1.0, -2.0]], (4000, 1))
    np.testing.assert_array_equal(gpt.sample_next(logits[:2], temperature=0), [1, 1])
    rng = np.random.default_rng(0)
    draws = gpt.sample_next(logits, temperature=1.0, rng=rng)
    p = np.exp(logits[0]) / np.exp(logits[0]).sum()
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / len(draws), p, atol=0.03)
    assert set(gpt.sample_next(logits, temperature=1.0, top_k=2, rng=rng)) == {1, 2}
    cold = np.bincount(gpt.sample_next(logits, temperature=0.25, rng=rng), minlength=4) / len(draws)
    assert cold[1] > 0.99  # low temperature: nearly always the top logit
    with pytest.raises(ValueError, match=r"`temperature` must be a number >= 0\. Received: temperature=-1"):
        gpt.sample_next(logits, temperature=-1)
    with pytest.raises(ValueError, match="`top_k` must be <= 4"):
        gpt.sample_next(logits, top_k=5)


def test_negative_log_likelihood_skips_ignored_targets():
    logits = np.zeros((1, 3, 4))
    assert gpt.negative_log_likelihood(logits, np.array([[1, 2, gpt.IGNORE]])) == pytest.approx(np.log(4))
    logits[0, 0, 1] = 100.0
    assert gpt.negative_log_likelihood(logits, np.array([[1, gpt.IGNORE, gpt.IGNORE]])) == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError, match=r"`targets` must have shape \(1, 3\)"):
        gpt.negative_log_likelihood(logits, np.zeros((1, 2), int))


def test_notebook_decode_step_and_sample_next_equal_the_package(small_model):
    weights = gpt.gpt_weights(small_model)
    decode_step = notebook_function(NOTEBOOK, "decode_step", norm=notebook_function(NOTEBOOK, "norm"))
    tokens = random_tokens(2, 6, seed=4)
    ours, theirs = gpt.empty_cache(weights, 2), gpt.empty_cache(weights, 2)
    for position in range(6):
        logits, ours = decode_step(weights, tokens[:, position], position, ours)
        expected, theirs = gpt.decode_step(weights, tokens[:, position], position, theirs)
        np.testing.assert_allclose(logits, expected, atol=1e-5)
    sample_next = notebook_function(NOTEBOOK, "sample_next")
    logits = np.random.default_rng(0).normal(size=(50, 27))
    for temperature, top_k in ((0, None), (1.0, None), (0.7, 5)):
        np.testing.assert_array_equal(
            sample_next(logits, temperature, top_k, rng=np.random.default_rng(1)),
            gpt.sample_next(logits, temperature, top_k, rng=np.random.default_rng(1)),
        )


def test_gpt_model_round_trips_through_a_keras_file(small_model, tmp_path):
    path = tmp_path / "gpt.keras"
    small_model.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    tokens = random_tokens(2, 7, seed=6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(tokens)),
                               keras.ops.convert_to_numpy(small_model(tokens)), atol=1e-6)


def test_model_nll_skips_padding_and_equals_the_full_computation(small_model):
    inputs, targets = gpt.encode(["ab", "abcdefg", "xyz", "q", "mnop"], context=10)
    full = gpt.negative_log_likelihood(gpt.model_logits(small_model, inputs), targets)
    assert gpt.model_nll(small_model, inputs, targets, batch_size=2) == pytest.approx(full, abs=1e-6)


def test_generate_with_prefixes_reads_them_first(small_model):
    weights = gpt.gpt_weights(small_model)
    names = gpt.generate(weights, 3, temperature=0.0, prefixes=["ab", "cd", "ef"])
    assert [name[:2] for name in names] == ["ab", "cd", "ef"]
    assert names == gpt.generate(weights, 3, temperature=0.0, prefixes=["ab", "cd", "ef"], use_cache=False)
    with pytest.raises(ValueError, match="`prefixes` must be 3 strings of equal length"):
        gpt.generate(weights, 3, prefixes=["a", "bc", "d"])
