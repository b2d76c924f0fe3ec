import keras
import numpy as np
import pytest

from attention_helpers.activations import get_activations
from attention_helpers.layers import DenseAttention


def _model():
    inputs = keras.Input(shape=(6,), name="inputs")
    weighted, _ = DenseAttention(name="attention")(inputs, return_attention_scores=True)
    outputs = keras.layers.Dense(1, name="output")(weighted)
    return keras.Model(inputs, outputs)


def test_reads_both_outputs_of_a_multi_output_layer():
    model = _model()
    x = np.random.default_rng(0).normal(size=(10, 6)).astype("float32")
    acts = get_activations(model, x, "attention")
    assert sorted(acts) == ["attention/0", "attention/1"]
    layer = model.get_layer("attention")
    weighted, attention = layer(x, return_attention_scores=True)
    np.testing.assert_allclose(acts["attention/1"], attention, rtol=1e-6)
    np.testing.assert_allclose(acts["attention/0"], weighted, rtol=1e-6)
    np.testing.assert_allclose(acts["attention/1"].sum(axis=1), 1.0, rtol=1e-5)


def test_all_layers_and_final_output_match_predict():
    model = _model()
    x = np.random.default_rng(1).normal(size=(7, 6)).astype("float32")
    acts = get_activations(model, x)
    assert set(acts) == {"inputs", "attention/0", "attention/1", "output"}
    np.testing.assert_allclose(acts["inputs"], x)
    np.testing.assert_allclose(acts["output"], model.predict(x, verbose=0), rtol=1e-6)


def test_multi_input_model():
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(3,), name="b")
    summed = keras.layers.Add(name="sum")([a, b])
    model = keras.Model([a, b], keras.layers.Dense(2, name="head")(summed))
    xa, xb = np.ones((4, 3), "float32"), 2 * np.ones((4, 3), "float32")
    acts = get_activations(model, [xa, xb], ["sum"])
    np.testing.assert_allclose(acts["sum"], 3.0)


def test_sequential_model():
    model = keras.Sequential(
        [keras.Input(shape=(5,)), keras.layers.Dense(3, name="d1"), keras.layers.Dense(1, name="d2")]
    )
    x = np.ones((2, 5), "float32")
    assert get_activations(model, x, "d1")["d1"].shape == (2, 3)


def test_unknown_name_lists_available_layers():
    with pytest.raises(
        ValueError,
        match=r"Unknown layer name in `layer_names`: 'atention'. Available: \['attention/0', 'attention/1', 'inputs', 'output'\]",
    ):
        get_activations(_model(), np.ones((1, 6), "float32"), "atention")


def test_rejects_non_models_and_bad_names():
    with pytest.raises(TypeError, match=r"`model` must be a keras\.Model"):
        get_activations("model", np.ones((1, 6)))
    with pytest.raises(TypeError, match=r"`layer_names` must be None, a string or a list of strings"):
        get_activations(_model(), np.ones((1, 6), "float32"), 3)


def test_batches_and_multi_input_models_give_the_whole_set_in_order():
    from attention_helpers import data, models

    model = models.query_document_model("compare")
    query, document, _ = data.query_document_task(7, seed=0)
    acts = get_activations(model, [query, document], "attention/1", batch_size=3)  # batches of 3, 3 and 1
    _, weights = model.get_layer("attention")(
        [model.get_layer("cnn")(model.get_layer("embedding")(t)) for t in (query, document)],
        return_attention_scores=True,
    )
    assert acts["attention/1"].shape == (7, 4, 12)
    np.testing.assert_allclose(acts["attention/1"], keras.ops.convert_to_numpy(weights), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"the same number of samples. Received lengths \[6, 7\]"):
        get_activations(model, [query[:6], document], "attention/1")
