"""Small models the notebooks, explorers and exercises share, so that all of them train the same thing."""

from __future__ import annotations

import keras

from attention_helpers._validation import check_int
from attention_helpers.activations import get_activations
from attention_helpers.data import dense_task
from attention_helpers.layers import DenseAttention


def dense_attention_model(dims=32, hidden=64, learning_rate=1e-2):
    """DenseAttention → Dense(relu) → Dense(1, sigmoid), compiled for binary classification.

    The attention layer is named "attention"; its second output is the attention vector
    (`get_activations(model, x, "attention/1")`).
    """
    dims = check_int("dims", dims, minimum=2)
    hidden = check_int("hidden", hidden, minimum=1)
    inputs = keras.Input(shape=(dims,), name="inputs")
    weighted, _ = DenseAttention(name="attention")(inputs, return_attention_scores=True)
    features = keras.layers.Dense(hidden, activation="relu", name="hidden")(weighted)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="output")(features)
    model = keras.Model(inputs, outputs, name="dense_attention_model")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


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
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    attention = get_activations(model, x_test, "attention/1")["attention/1"].mean(axis=0)
    return {"model": model, "accuracy": float(accuracy), "attention": attention, "history": history.history}
