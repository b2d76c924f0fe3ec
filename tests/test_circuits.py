"""attention_helpers.circuits: the copying task, the attention-only model in NumPy, head scores on maps
whose scores are known exactly, and ablations."""

import keras
import numpy as np
import pytest

from attention_helpers import circuits


def _causal_uniform(batch, heads, steps):
    """Every query spreads its weight evenly over keys 0 … i."""
    rows = np.tril(np.ones((steps, steps)))
    return np.broadcast_to(rows / rows.sum(axis=1, keepdims=True), (batch, heads, steps, steps)).copy()


# --- the task ---

@pytest.mark.parametrize("fixed", [False, True])
def test_repeated_tokens_repeat_one_segment_of_distinct_tokens_exactly_twice(fixed):
    data = circuits.repeated_tokens(200, vocab_size=20, context=16, segment=5, fixed=fixed, seed=3)
    inputs, targets = data["inputs"], data["targets"]
    assert inputs.shape == targets.shape == data["repeated"].shape == data["source"].shape == (200, 16)
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])  # targets are the inputs shifted by one
    rows = np.concatenate([inputs, targets[:, -1:]], axis=1)
    for row, (s1, s2), repeated, source in zip(rows, data["starts"], data["repeated"], data["source"]):
        segment = row[s1:s1 + 5]
        assert len(set(segment)) == 5 and np.array_equal(row[s2:s2 + 5], segment)
        assert s2 >= s1 + 5  # the copies do not overlap
        counts = np.bincount(row, minlength=20)
        assert np.all(counts[segment] == 2)  # no other occurrence of a segment token
        assert repeated.sum() == 4 and np.flatnonzero(repeated).tolist() == list(range(s2, s2 + 4))
        scored = np.flatnonzero(repeated)
        np.testing.assert_array_equal(row[source[scored]], row[scored + 1])  # the key holds the next token
        np.testing.assert_array_equal(row[source[scored] - 1], row[scored])  # right after my earlier copy
        assert np.all(source[~repeated] == -1)
    distances = data["starts"][:, 1] - data["starts"][:, 0]
    if fixed:
        assert np.all(distances == 11) and np.all(data["starts"][:, 0] == 1)
    else:
        assert len(set(distances)) > 5 and len(set(data["starts"][:, 0])) > 3


def test_repeated_tokens_is_seeded_and_refuses_a_segment_that_does_not_fit():
    a, b = circuits.repeated_tokens(5, seed=1), circuits.repeated_tokens(5, seed=1)
    np.testing.assert_array_equal(a["inputs"], b["inputs"])
    with pytest.raises(ValueError, match=r"segment.*fit twice"):
        circuits.repeated_tokens(2, context=10, segment=6)
    with pytest.raises(ValueError, match="smaller than `vocab_size`"):
        circuits.repeated_tokens(2, vocab_size=4, context=10, segment=4)


# --- the scores, on maps whose scores are known exactly ---

def test_previous_token_score_of_a_shifted_identity_is_one_and_of_uniform_maps_is_known():
    steps = 7
    shifted = np.eye(steps, k=-1)
    shifted[0, 0] = 1.0  # query 0 has no previous key; it is not scored
    patterns = np.stack([shifted, np.eye(steps)])[None]  # (1, 2 heads, steps, steps)
    np.testing.assert_allclose(circuits.previous_token_score(patterns), [1.0, 0.0])
    expected = np.mean([1 / (i + 1) for i in range(1, steps)])
    np.testing.assert_allclose(circuits.previous_token_score(_causal_uniform(3, 2, steps)), [expected, expected])


def test_induction_score_reads_the_weight_on_the_source_key_of_scored_queries_only():
    data = circuits.repeated_tokens(6, vocab_size=30, context=20, segment=6, seed=0)
    source = data["source"]
    perfect = np.zeros((6, 1, 20, 20))
    half = _causal_uniform(6, 1, 20)
    for b, i in zip(*np.nonzero(source >= 0)):
        perfect[b, 0, i, source[b, i]] = 1.0
        half[b, 0, i] = 0.0
        half[b, 0, i, source[b, i]] = 0.5
        half[b, 0, i, i] = 0.5
    np.testing.assert_allclose(circuits.induction_score(np.concatenate([perfect, half], axis=1), source), [1.0, 0.5])
    # a previous-token map scores 0 on induction (the source key is never i - 1)
    assert circuits.induction_score(np.broadcast_to(np.eye(20, k=-1), (6, 1, 20, 20)), source)[0] == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: circuits.previous_token_score(np.ones((2, 3, 3))), "rank 4"),
        (lambda: circuits.previous_token_score(np.ones((1, 1, 3, 4))), r"\(batch, heads, steps, steps\)"),
        (lambda: circuits.induction_score(np.ones((2, 1, 3, 3)), np.zeros((2, 4))), r"source.*\(2, 3\)"),
        (lambda: circuits.induction_score(np.ones((2, 1, 3, 3)), -np.ones((2, 3))), "no query"),
    ],
)
def test_scores_refuse_bad_input_naming_it(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- the model ---

@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return circuits.attention_only_transformer(vocab_size=12, context=8, d_model=16, num_heads=2, num_layers=2)


def test_numpy_forward_equals_the_keras_model(model):
    tokens = np.random.default_rng(0).integers(0, 12, size=(3, 8))
    weights = circuits.circuit_weights(model)
    assert [layer["qk"].shape for layer in weights["layers"]] == [(2, 16, 16)] * 2
    out = circuits.forward(weights, tokens)
    np.testing.assert_allclose(out["logits"], keras.ops.convert_to_numpy(model(tokens)), atol=1e-4)
    # the stream after the last layer is the embeddings plus every head's output
    total = out["residual"][0] + sum(h.sum(axis=2) for h in out["head_outputs"])
    np.testing.assert_allclose(out["residual"][-1], total, atol=1e-10)
    for pattern in out["patterns"]:
        assert pattern.shape == (3, 2, 8, 8)
        assert np.all(pattern[..., np.triu_indices(8, k=1)[0], np.triu_indices(8, k=1)[1]] == 0.0)
        np.testing.assert_allclose(pattern.sum(axis=-1), 1.0)


def test_ablation_zeroes_or_averages_one_head_and_changes_only_what_follows(model):
    tokens = np.random.default_rng(1).integers(0, 12, size=(5, 8))
    weights = circuits.circuit_weights(model)
    clean = circuits.forward(weights, tokens)
    zero = circuits.forward(weights, tokens, ablate={(1, 0): "zero"})
    assert np.all(zero["head_outputs"][1][:, :, 0] == 0.0)
    np.testing.assert_array_equal(zero["head_outputs"][1][:, :, 1], clean["head_outputs"][1][:, :, 1])
    np.testing.assert_allclose(zero["logits"],
                               clean["logits"] - clean["head_outputs"][1][:, :, 0] @ weights["unembedding"])
    mean = circuits.forward(weights, tokens, ablate={(0, 1): "mean"})
    expected = np.broadcast_to(clean["head_outputs"][0][:, :, 1].mean(axis=0), (5, 8, 16))
    np.testing.assert_allclose(mean["head_outputs"][0][:, :, 1], expected)
    assert not np.allclose(mean["patterns"][1], clean["patterns"][1])  # layer 1 reads the ablated stream
    np.testing.assert_array_equal(mean["patterns"][0], clean["patterns"][0])


def test_patch_replaces_one_heads_weights_and_what_follows(model):
    tokens = np.random.default_rng(2).integers(0, 12, size=(4, 8))
    weights = circuits.circuit_weights(model)
    clean = circuits.forward(weights, tokens)
    same = circuits.forward(weights, tokens, patch={(1, 1): clean["patterns"][1][:, 1]})
    np.testing.assert_allclose(same["logits"], clean["logits"], atol=1e-10)
    previous = np.broadcast_to(np.eye(8, k=-1) + np.eye(8)[0] * (np.arange(8) == 0)[:, None], (4, 8, 8))
    patched = circuits.forward(weights, tokens, patch={(0, 0): previous})
    np.testing.assert_array_equal(patched["patterns"][0][:, 0], previous)
    np.testing.assert_array_equal(patched["patterns"][0][:, 1], clean["patterns"][0][:, 1])
    x = clean["residual"][0]  # head 0 of layer 0 now adds x_{i-1} W_OV (x_0 W_OV at position 0)
    expected = np.concatenate([x[:, :1], x[:, :-1]], axis=1) @ weights["layers"][0]["ov"][0]
    np.testing.assert_allclose(patched["head_outputs"][0][:, :, 0], expected, atol=1e-6)
    assert not np.allclose(patched["logits"], clean["logits"])
    with pytest.raises(ValueError, match=r"\(batch, steps, steps\) = \(4, 8, 8\)"):
        circuits.forward(weights, tokens, patch={(0, 0): previous[:, :4, :4]})
    with pytest.raises(ValueError, match="nothing after the query"):
        circuits.forward(weights, tokens, patch={(0, 0): np.broadcast_to(np.eye(8, k=1) + 0.0, (4, 8, 8))})


def test_forward_and_builder_refuse_bad_arguments(model):
    weights = circuits.circuit_weights(model)
    with pytest.raises(ValueError, match=r"ablate.*'zero'"):
        circuits.forward(weights, np.zeros((1, 4), int), ablate={(0, 0): "remove"})
    with pytest.raises(ValueError, match=r"`head` must be in \[0, 1\]"):
        circuits.forward(weights, np.zeros((1, 4), int), ablate={(0, 2): "zero"})
    with pytest.raises(ValueError, match="at most 8"):
        circuits.forward(weights, np.zeros((1, 9), int))
    with pytest.raises(ValueError, match=r"ids in \[0, 11\]"):
        circuits.forward(weights, np.full((1, 4), 12))
    with pytest.raises(ValueError, match="multiple of `num_heads`"):
        circuits.attention_only_transformer(d_model=10, num_heads=3)


def test_repeated_loss_and_accuracy_score_the_repeated_positions_only():
    data = circuits.repeated_tokens(4, vocab_size=16, context=12, segment=4, seed=2)
    logits = np.zeros((4, 12, 16))
    rows, queries = np.nonzero(data["repeated"])
    logits[rows, queries, data["targets"][rows, queries]] = 100.0  # right on the repeated half only
    loss, accuracy = circuits.repeated_loss_and_accuracy(logits, data)
    assert accuracy == 1.0 and loss < 1e-10
    loss, accuracy = circuits.repeated_loss_and_accuracy(np.zeros((4, 12, 16)), data)
    assert np.isclose(loss, np.log(16))
    np.testing.assert_allclose(circuits.per_position_loss(np.zeros((4, 12, 16)), data["targets"]), np.log(16))
