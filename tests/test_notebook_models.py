"""The model a notebook teaches is written in its cells; where the package keeps the same builder (for
explorers and exercises), both must build the same model.

Each case names a function defined in a notebook's code cell. The test runs that function's source
(and nothing else of the notebook) and compares the model it builds with the package's builder:
same layers, same configuration, same compile settings.
"""

import ast
import json
from pathlib import Path

import keras
import numpy as np
import pytest

import attention_helpers as ah
from attention_helpers import circuits, gpt, models, vision

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

CASES = [
    ("01_dense_attention.ipynb", "dense_attention_model", models.dense_attention_model, {"dims": 32}),
    ("01_dense_attention.ipynb", "dense_attention_model", models.dense_attention_model, {"dims": 32, "use_bias": False}),
    ("02_lstm_attention_placement.ipynb", "lstm_attention_model", models.lstm_attention_model, {"placement": "before"}),
    ("02_lstm_attention_placement.ipynb", "lstm_attention_model", models.lstm_attention_model, {"placement": "after"}),
    ("02_lstm_attention_placement.ipynb", "lstm_attention_model", models.lstm_attention_model,
     {"placement": "after", "memory": False}),
    ("02_lstm_attention_placement.ipynb", "lstm_attention_model", models.lstm_attention_model,
     {"placement": "before", "memory": False}),
    ("03_single_vs_per_dimension.ipynb", "pooled_attention_model", models.pooled_attention_model, {"shared": True}),
    ("03_single_vs_per_dimension.ipynb", "pooled_attention_model", models.pooled_attention_model, {"shared": False}),
    ("03_single_vs_per_dimension.ipynb", "pooled_attention_model", models.pooled_attention_model,
     {"shared": True, "heads": 2}),
    (
        "04_feed_forward_attention.ipynb",
        "sequence_pooling_model",
        models.sequence_pooling_model,
        {"pooling": "attention"},
    ),
    ("04_feed_forward_attention.ipynb", "sequence_pooling_model", models.sequence_pooling_model, {"pooling": "mean"}),
    (
        "04_feed_forward_attention.ipynb",
        "sequence_pooling_model",
        models.sequence_pooling_model,
        {"pooling": "attention", "score_activation": None},
    ),
    ("05_dot_product_attention.ipynb", "query_document_model", models.query_document_model, {"head": "compare"}),
    ("05_dot_product_attention.ipynb", "query_document_model", models.query_document_model, {"head": "average"}),
    ("05_dot_product_attention.ipynb", "reversal_model", models.reversal_model, {"length": 8, "vocab_size": 10}),
    ("10_tiny_gpt.ipynb", "build_gpt", gpt.build_gpt, {}),
    ("10_tiny_gpt.ipynb", "build_gpt", gpt.build_gpt, {"context": 256}),
    ("11_induction_heads.ipynb", "attention_only_transformer", circuits.attention_only_transformer, {}),
    ("11_induction_heads.ipynb", "attention_only_transformer", circuits.attention_only_transformer,
     {"d_model": 32, "num_layers": 1, "learning_rate": 3e-2}),
    *(("12_attention_at_scale.ipynb", "lookback_model", models.lookback_model, {"positions": positions})
      for positions in models.LOOKBACK_POSITIONS),
    ("13_vision_transformer.ipynb", "build_vit", vision.build_vit, {}),
    ("13_vision_transformer.ipynb", "build_vit", vision.build_vit, {"positions": False, "patch_size": 8}),
]


def notebook_function(notebook, name, **names):
    """The function `name` as defined in a code cell of `notebook` (only its own source is run).

    It sees `keras`, `ah` and `np`, plus `names` (other globals the function uses).
    """
    cells = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                namespace = {"keras": keras, "ah": ah, "np": np, **names}
                exec(compile(ast.Module([node], type_ignores=[]), notebook, "exec"), namespace)
                return namespace[name]
    raise AssertionError(f"{notebook} defines no function {name!r} in a code cell")


def model_config(model):
    """The model's config with layer names replaced by their position: Keras numbers the names of
    layers it creates itself ("not_equal", "not_equal_1", ...) across models."""
    config = model.get_config()
    text = json.dumps(config, sort_keys=True)
    names = [layer["name"] for layer in config["layers"]]
    for index, name in sorted(enumerate(names), key=lambda item: -len(item[1])):
        text = text.replace(json.dumps(name), json.dumps(f"<layer {index}>"))
    return json.loads(text)


def compile_config(model):
    """The compile settings, without the optimizer's automatic name ("adam", "adam_1", ...)."""
    config = model.get_compile_config()
    config["optimizer"]["config"].pop("name")
    return config


@pytest.mark.parametrize(
    ("notebook", "name", "package_builder", "kwargs"),
    CASES,
    ids=[f"{notebook[:2]}-{name}-{'-'.join(map(str, kwargs.values()))}" for notebook, name, _, kwargs in CASES],
)
def test_notebook_and_package_build_the_same_model(notebook, name, package_builder, kwargs):
    from_notebook = notebook_function(notebook, name, CONTEXT=gpt.CONTEXT, IGNORE=gpt.IGNORE)(**kwargs)
    from_package = package_builder(**kwargs)
    assert model_config(from_notebook) == model_config(from_package)
    assert compile_config(from_notebook) == compile_config(from_package)
    assert [w.shape for w in from_notebook.weights] == [w.shape for w in from_package.weights]


def test_notebook_06_measures_attention_per_object_as_its_exercise_check_does():
    """Notebook 06 writes its measurement out; `check_pooled_attention` grades with the package's copy."""
    from attention_helpers import exercises

    per_object = notebook_function("06_sagan_self_attention.ipynb", "attention_per_object")
    wins = notebook_function("06_sagan_self_attention.ipynb", "other_square_wins", attention_per_object=per_object)
    _, _, _, objects = ah.data.two_objects_task(
        20, size=8, object_size=2, min_distance=4, distractors=3, colours=3, seed=0, return_objects=True
    )
    rng = np.random.default_rng(0)
    for keys in (64, 16):  # one key per pixel, one per 2×2 cell (pooled)
        beta = rng.dirichlet(np.full(keys, 0.3), size=(20, 64))  # (images, queries, keys), rows sum to 1
        np.testing.assert_allclose(per_object(beta, objects), exercises._attention_per_object(beta, objects))
        measured = wins(beta, objects)
        assert 0 < measured.mean() < 1  # random maps: some queries find the other square, some do not
        np.testing.assert_array_equal(measured, exercises._other_object_wins(beta, objects))


@pytest.mark.parametrize("name", ["build_translator", "build_bahdanau"])
def test_notebook_09_builds_the_package_translators(name):
    from attention_helpers import seq2seq

    constants = {key: getattr(seq2seq, key)
                 for key in ("SOURCE_VOCAB", "TARGET_VOCAB", "SOURCE_LENGTH", "TARGET_LENGTH", "IGNORE")}
    from_notebook = notebook_function("09_cross_attention_translation.ipynb", name, **constants)()
    from_package = getattr(seq2seq, name)()
    assert model_config(from_notebook) == model_config(from_package)
    assert compile_config(from_notebook) == compile_config(from_package)
    assert [w.shape for w in from_notebook.weights] == [w.shape for w in from_package.weights]
