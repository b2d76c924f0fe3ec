"""Small models the notebooks, explorers and exercises share, so that all of them train the same thing."""

from __future__ import annotations

import keras
import numpy as np

from attention_helpers._validation import check_int, check_one_of
from attention_helpers.activations import get_activations
from attention_helpers.data import dense_task, sequence_task
from attention_helpers.layers import (
    DenseAttention,
    DotProductAttention,
    FeedForwardAttention,
    MultiHeadAttention,
    PositionEmbedding,
    SinusoidalPositionEncoding,
    TemporalAttention,
)

#: Batches per call of Keras's compiled training step. The updates are the same, batch by batch, as
#: with one batch per call; for models this small most of a step's time is the call itself, so this
#: makes `fit` about a third faster on one CPU.
STEPS_PER_EXECUTION = 32


def dense_attention_model(dims=32, hidden=64, learning_rate=1e-2, use_bias=True):
    """DenseAttention → Dense(relu) → Dense(1, sigmoid), compiled for binary classification.

    The attention layer is named "attention"; its second output is the attention vector
    (`get_activations(model, x, "attention/1")`). `use_bias=False` drops the attention layer's bias
    (notebook 01's exercise).
    """
    dims = check_int("dims", dims, minimum=2)
    hidden = check_int("hidden", hidden, minimum=1)
    inputs = keras.Input(shape=(dims,), name="inputs")
    weighted, _ = DenseAttention(use_bias=use_bias, name="attention")(inputs, return_attention_scores=True)
    features = keras.layers.Dense(hidden, activation="relu", name="hidden")(weighted)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="output")(features)
    return _compile_binary(keras.Model(inputs, outputs, name="dense_attention_model"), learning_rate)


def train_dense_task(target_index=1, dims=32, n_train=5000, n_test=1000, epochs=5, seed=0):
    """Generate the dense task, train `dense_attention_model` on it and read its attention.

    Returns:
        dict with `model`, `accuracy` (test set), `attention` (mean attention vector over the
        test set, shape `(dims,)`) and `history`.
    """
    epochs = check_int("epochs", epochs, minimum=1)
    x_train, y_train = dense_task(n_train, dims=dims, target_index=target_index, seed=seed)
    x_test, y_test = dense_task(n_test, dims=dims, target_index=target_index, seed=seed + 1)
    keras.utils.set_random_seed(seed)
    model = dense_attention_model(dims=dims)
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=0)
    attention = get_activations(model, x_test, "attention/1")["attention/1"].mean(axis=0)
    accuracy = binary_accuracy(model, x_test, y_test)
    return {"model": model, "accuracy": accuracy, "attention": attention, "history": history.history}


def _compile_binary(model, learning_rate):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    return model


def lstm_attention_model(placement="before", steps=12, dims=2, units=16, learning_rate=2e-2, memory=True):
    """Rémy's recurrent model (keras-attention-mechanism), with `TemporalAttention` before or after an LSTM.

    - "before": inputs → TemporalAttention → LSTM(units) → Dense(1, sigmoid): weights over input steps.
    - "after": inputs → LSTM(units, return_sequences=True) → TemporalAttention(shared=True) →
      average over steps → Dense(1, sigmoid): one weight per hidden state, and the states reach the
      output only through those weights (Rémy flattens the weighted states instead, which lets the
      Dense layer read any state whatever its weight).

    The attention layer is named "attention" and its weights are output 1 ("attention/1"); the LSTM
    is named "lstm", unrolled (`unroll=True`: faster for the short sequences of notebook 02, more
    memory for long ones). Notebook 02 builds the same model in a cell (a test checks they agree).

    `memory=False` (notebook 02's exercise) replaces the LSTM by a layer without memory,
    `Dense(units, activation="tanh")` named "per_step", which reads every step on its own; "before"
    then averages its outputs over the steps, as "after" does.
    """
    check_one_of("placement", placement, {"before", "after"})
    steps = check_int("steps", steps, minimum=2)
    dims = check_int("dims", dims, minimum=1)
    units = check_int("units", units, minimum=1)
    inputs = keras.Input(shape=(steps, dims), name="inputs")
    if not isinstance(memory, bool):
        raise TypeError(f"`memory` must be True or False. Received: memory={memory!r}")
    if placement == "before":
        weighted, _ = TemporalAttention(name="attention")(inputs, return_attention_scores=True)
        if memory:
            features = keras.layers.LSTM(units, unroll=True, name="lstm")(weighted)  # the last state
        else:
            per_step = keras.layers.Dense(units, activation="tanh", name="per_step")(weighted)  # each step alone
            features = keras.layers.GlobalAveragePooling1D(name="pool")(per_step)
    else:
        if memory:
            states = keras.layers.LSTM(units, return_sequences=True, unroll=True, name="lstm")(inputs)
        else:
            states = keras.layers.Dense(units, activation="tanh", name="per_step")(inputs)  # each step alone
        weighted, _ = TemporalAttention(shared=True, name="attention")(states, return_attention_scores=True)
        features = keras.layers.GlobalAveragePooling1D(name="pool")(weighted)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="output")(features)
    name = f"attention_{placement}_{'lstm' if memory else 'dense'}"
    return _compile_binary(keras.Model(inputs, outputs, name=name), learning_rate)


def pooled_attention_model(shared=False, steps=20, dims=2, hidden=32, learning_rate=7e-3, heads=1):
    """TemporalAttention(shared) → average over steps → Dense(hidden, relu) → Dense(1, sigmoid).

    Without a recurrent layer, what the model can read at each dimension is exactly what its
    attention lets through, which makes shared and per-dimension attention directly comparable.
    With `heads` > 1 (notebook 03's exercise), that many attention layers read the inputs side by
    side, named "attention_0", "attention_1", ..., each averaged over the steps ("pool_0", ...),
    and their outputs are concatenated before the Dense layers. The attention's W starts small
    (normal, standard deviation 0.05), so every vector starts almost uniform over the steps: with
    Keras's default Glorot start, some trainings push one dimension's vector away from its signal
    step for good (notebook 03 says why).
    """
    steps = check_int("steps", steps, minimum=2)
    dims = check_int("dims", dims, minimum=1)
    heads = check_int("heads", heads, minimum=1)
    inputs = keras.Input(shape=(steps, dims), name="inputs")
    pooled = []
    for head in range(heads):
        suffix = "" if heads == 1 else f"_{head}"
        attention = TemporalAttention(shared=shared, kernel_initializer=keras.initializers.RandomNormal(stddev=0.05),
                                      name=f"attention{suffix}")
        weighted, _ = attention(inputs, return_attention_scores=True)
        pooled.append(keras.layers.GlobalAveragePooling1D(name=f"pool{suffix}")(weighted))  # (batch, dims)
    pooled = pooled[0] if heads == 1 else keras.layers.Concatenate(name="heads")(pooled)
    hidden_features = keras.layers.Dense(hidden, activation="relu", name="hidden")(pooled)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="output")(hidden_features)
    name = ("shared_attention" if shared else "per_dimension_attention") + ("" if heads == 1 else f"_{heads}_heads")
    return _compile_binary(keras.Model(inputs, outputs, name=name), learning_rate)


def mean_attention_over_time(model, x):
    """Mean attention weights of `model`'s "attention" layer over samples: `(steps, features)`."""
    return get_activations(model, x, "attention/1")["attention/1"].mean(axis=0)


def binary_accuracy(model, x, y):
    """Accuracy of a sigmoid-output `model` on `(x, y)`, from one eager call (no `predict` tracing)."""
    probabilities = keras.ops.convert_to_numpy(model(x, training=False))
    return float(np.mean((probabilities > 0.5) == (np.asarray(y) > 0.5)))


def train_placement(target_step=5, steps=12, dims=2, n_train=3000, n_test=1000, epochs=10, seed=0):
    """Train the "before" and "after" models of `lstm_attention_model` on `sequence_task`, same budget.

    Returns:
        dict keyed by placement, each with `model`, `accuracy` and `attention` (mean weight per
        step, averaged over samples and features, shape `(steps,)`).
    """
    epochs = check_int("epochs", epochs, minimum=1)
    x_train, y_train = sequence_task(n_train, steps=steps, dims=dims, target_step=target_step, seed=seed)
    x_test, y_test = sequence_task(n_test, steps=steps, dims=dims, target_step=target_step, seed=seed + 1)
    results = {}
    for placement in ("before", "after"):
        keras.utils.set_random_seed(seed)
        model = lstm_attention_model(placement, steps=steps, dims=dims)
        model.fit(x_train, y_train, epochs=epochs, batch_size=128, verbose=0)
        results[placement] = {
            "model": model,
            "accuracy": binary_accuracy(model, x_test, y_test),
            "attention": mean_attention_over_time(model, x_test).mean(axis=1),
        }
    return results


def sequence_pooling_model(pooling="attention", features=2, hidden=16, learning_rate=1e-2, score_activation="tanh"):
    """Regression on variable-length, zero-padded sequences, pooling the steps with attention or a mean.

    - "attention": Masking → Dense(hidden, relu) per step → FeedForwardAttention (named "attention"),
      whose score activation is `score_activation` ("tanh" as in Raffel & Ellis, None for linear).
    - "mean": Masking → Dense(hidden, relu) per step → masked mean over steps.

    Each is followed by Dense(hidden, relu) → Dense(1) and compiled with mean squared error; the two
    differ by the attention's 17 weights. Notebook 04 builds the same model in a cell (a test checks
    they agree).
    """
    check_one_of("pooling", pooling, {"attention", "mean"})
    features = check_int("features", features, minimum=1)
    hidden = check_int("hidden", hidden, minimum=1)
    inputs = keras.Input(shape=(None, features), name="inputs")
    masked = keras.layers.Masking(mask_value=0.0, name="masking")(inputs)
    per_step = keras.layers.Dense(hidden, activation="relu", name="per_step")(masked)  # (batch, steps, hidden)
    if pooling == "attention":
        attention = FeedForwardAttention(score_activation=score_activation, name="attention")
        pooled, _ = attention(per_step, return_attention_scores=True)  # (batch, hidden)
    else:
        pooled = keras.layers.GlobalAveragePooling1D(name="mean")(per_step)  # masked mean, (batch, hidden)
    head = keras.layers.Dense(hidden, activation="relu", name="head")(pooled)
    outputs = keras.layers.Dense(1, name="output")(head)
    model = keras.Model(inputs, outputs, name=f"{pooling}_pooling")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse", steps_per_execution=STEPS_PER_EXECUTION)
    return model


def query_document_model(
    head="compare", vocab_size=20, embedding_dim=16, filters=32, kernel_size=2, learning_rate=1e-2
):
    """The CNN + attention query–value pattern of TensorFlow's `Attention` docs, for `query_document_task`.

    A shared embedding and Conv1D encode query and document; `DotProductAttention` (named
    "attention") lets each query position gather from the document. Then `head` decides:

    - "compare": each query position is compared with what it gathered (element-wise product, then
      the max over query positions);
    - "average": as in the docs, the query encoding and the attention output are each averaged over
      positions and concatenated, which loses *which* query token found a match.
    """
    check_one_of("head", head, {"compare", "average"})
    query = keras.Input(shape=(None,), dtype="int32", name="query")
    document = keras.Input(shape=(None,), dtype="int32", name="document")
    # Unit-variance embeddings: identical tokens start with clearly higher dot products.
    embedding = keras.layers.Embedding(
        vocab_size, embedding_dim, embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0), name="embedding"
    )
    cnn = keras.layers.Conv1D(filters, kernel_size, padding="same", name="cnn")
    query_encoding = cnn(embedding(query))  # (batch, Tq, filters)
    document_encoding = cnn(embedding(document))  # (batch, Tv, filters)
    gathered, _ = DotProductAttention(use_scale=True, name="attention")(
        [query_encoding, document_encoding], return_attention_scores=True
    )
    if head == "compare":
        match = keras.layers.Multiply(name="compare")([query_encoding, gathered])  # (batch, Tq, filters)
        pooled = keras.layers.GlobalMaxPooling1D(name="best_match")(match)
    else:
        pooled = keras.layers.Concatenate(name="average")(
            [keras.layers.GlobalAveragePooling1D()(query_encoding), keras.layers.GlobalAveragePooling1D()(gathered)]
        )
    hidden = keras.layers.Dense(32, activation="relu", name="hidden")(pooled)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="output")(hidden)
    model = keras.Model([query, document], outputs, name=f"cnn_attention_{head}")
    return _compile_binary(model, learning_rate)


def reversal_model(length=8, vocab_size=10, dim=32, learning_rate=1e-2):
    """One dot-product (Luong) attention layer whose queries are positions, for `reversal_task`.

    Keys: token embedding + a learned position embedding of each input step; values: the token
    embeddings. The query at output step i is a learned embedding of i alone, so everything the
    model knows about the input comes through the attention ("attention", output 1 is the alignment
    `(batch, output steps, input steps)`), and a softmax over the vocabulary reads the gathered
    vector. It is not a full sequence-to-sequence model: its queries never see the input, so the
    alignment it learns is (almost) the same for every input. Notebook 08's Transformer learns
    alignments that depend on the input.
    """
    length = check_int("length", length, minimum=2)
    source = keras.Input(shape=(length,), dtype="int32", name="source")
    tokens = keras.layers.Embedding(vocab_size, dim, name="token_embedding")(source)  # (batch, length, dim)
    keys = keras.layers.Add(name="keys")([tokens, PositionEmbedding(length, name="source_positions")(tokens)])
    queries = PositionEmbedding(length, name="target_positions")(tokens)  # (batch, length, dim): positions only
    context, _ = DotProductAttention(use_scale=True, name="attention")(
        [queries, tokens, keys],
        return_attention_scores=True,  # [query, value, key]
    )
    outputs = keras.layers.Dense(vocab_size, activation="softmax", name="next_token")(context)
    model = keras.Model(source, outputs, name="reversal_by_position")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    return model


LOOKBACK_POSITIONS = ("none", "learned", "sinusoidal", "rotary")


def lookback_model(positions, vocab_size=16, max_length=64, d_model=32, num_heads=2, learning_rate=3e-3):
    """Notebook 12's length-generalisation model: one causal attention layer with a chosen position scheme.

    Token embedding, then positions as `positions` says: "none"; "learned" (`PositionEmbedding(max_length)`,
    added); "sinusoidal" (`SinusoidalPositionEncoding`, added); or "rotary" (`MultiHeadAttention(rotary=True)`:
    queries and keys rotated, nothing added). Then a residual causal `MultiHeadAttention`, a residual
    ReLU layer after a LayerNorm, a LayerNorm and logits. Inputs of any length (up to `max_length` for
    "learned"); compiled with Adam and cross-entropy on logits that skips targets of -1.
    """
    check_one_of("positions", positions, set(LOOKBACK_POSITIONS))
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, d_model, name="token_embedding")(tokens)  # (batch, steps, d_model)
    if positions == "learned":
        x = x + PositionEmbedding(max_length, name="position_embedding")(x)
    elif positions == "sinusoidal":
        x = x + SinusoidalPositionEncoding(name="position_encoding")(x)
    attention = MultiHeadAttention(num_heads, d_model // num_heads, rotary=positions == "rotary", name="attention")
    x = x + attention(x, x, use_causal_mask=True)
    x = x + keras.layers.Dense(d_model, activation="relu", name="feed_forward")(keras.layers.LayerNormalization()(x))
    logits = keras.layers.Dense(vocab_size, name="logits")(keras.layers.LayerNormalization()(x))
    model = keras.Model(tokens, logits, name=f"lookback_{positions}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1),
                  steps_per_execution=50)
    return model
