import pytest

from attention_helpers import models


@pytest.mark.parametrize(
    ("build", "kwargs", "output_shape", "attention_name"),
    [
        (models.dense_attention_model, {"dims": 8}, (None, 1), "attention"),
        (models.lstm_attention_model, {"placement": "after", "steps": 6}, (None, 1), "attention"),
        (models.pooled_attention_model, {"shared": True, "steps": 6}, (None, 1), "attention"),
        (models.sequence_pooling_model, {"pooling": "attention"}, (None, 1), "attention"),
        (models.query_document_model, {"head": "average"}, (None, 1), "attention"),
        (models.reversal_model, {"length": 5, "vocab_size": 7}, (None, 5, 7), "attention"),
    ],
)
def test_models_build_compile_and_expose_their_attention_layer(build, kwargs, output_shape, attention_name):
    model = build(**kwargs)
    assert model.output_shape == output_shape
    assert model.optimizer is not None
    assert model.get_layer(attention_name) is not None


@pytest.mark.parametrize(
    ("build", "kwargs", "match"),
    [
        (
            models.lstm_attention_model,
            {"placement": "inside"},
            r"Expected one of \['after', 'before'\]. Received: placement='inside'",
        ),
        (models.sequence_pooling_model, {"pooling": "max"}, r"Received: pooling='max'"),
        (
            models.query_document_model,
            {"head": "sum"},
            r"Expected one of \['average', 'compare'\]. Received: head='sum'",
        ),
    ],
)
def test_models_reject_unknown_choices(build, kwargs, match):
    with pytest.raises(ValueError, match=match):
        build(**kwargs)


def test_the_exercise_arguments_change_only_what_they_name():
    with_bias, without = models.dense_attention_model(dims=8), models.dense_attention_model(dims=8, use_bias=False)
    assert with_bias.get_layer("attention").bias is not None and without.get_layer("attention").bias is None

    for placement in ("before", "after"):
        plain = models.lstm_attention_model(placement, steps=6, memory=False)
        assert not [layer for layer in plain.layers if "LSTM" in type(layer).__name__]
        assert plain.get_layer("per_step").output.shape[1:] == (6, 16)  # every step on its own
        assert plain.output_shape == (None, 1)

    two = models.pooled_attention_model(shared=True, steps=6, heads=2)
    names = {layer.name for layer in two.layers}
    assert {"attention_0", "attention_1", "pool_0", "pool_1", "heads"} <= names and "attention" not in names
    assert two.get_layer("heads").output.shape[-1] == 2 * 2  # two heads × dims


def test_the_exercise_arguments_reject_bad_values():
    with pytest.raises(TypeError, match=r"`memory` must be True or False. Received: memory='no'"):
        models.lstm_attention_model("after", memory="no")
    with pytest.raises(ValueError, match="heads"):
        models.pooled_attention_model(heads=0)
