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
