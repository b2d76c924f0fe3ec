"""The trained models shipped for notebooks 07 and 10: they load safely, match the builders, and are packaged."""

import json
import tomllib
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from attention_helpers import data, gan, gpt, pretrained
from attention_helpers.layers import SelfAttention2D

ROOT = Path(__file__).resolve().parent.parent
KERAS_FILES = [name for name in pretrained.FILES.values() if name.endswith(".keras")]


def _structure(model):
    """Layer classes and weight shapes, in order: what must agree between a builder and a shipped file."""
    return [(type(layer).__name__, [tuple(w.shape) for w in layer.weights]) for layer in model.layers]


def test_files_are_small_and_hold_only_config_and_weights():
    sizes = {name: (pretrained.FOLDER / name).stat().st_size for name in pretrained.FILES.values()}
    notebook_09 = {name: size for name, size in sizes.items() if name.startswith(("translat", "bahdanau"))}
    notebook_07 = sum(size for name, size in sizes.items()
                      if not name.startswith(("tiny_gpt", "induction")) and name not in notebook_09)
    notebook_10 = sum(size for name, size in sizes.items() if name.startswith("tiny_gpt"))
    notebook_11 = sum(size for name, size in sizes.items() if name.startswith("induction"))
    assert notebook_07 < 600_000 and notebook_10 < 600_000 and notebook_11 < 600_000, sizes  # well under 1 MB
    assert len(notebook_09) == 3 and max(notebook_09.values()) < 500_000, notebook_09  # each file under 1 MB
    for name in KERAS_FILES:
        with zipfile.ZipFile(pretrained.FOLDER / name) as archive:
            # A .keras archive: JSON config and metadata, HDF5 weights; nothing pickled, no code.
            assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
            assert "__lambda__" not in archive.read("config.json").decode()


def test_files_are_written_by_the_oldest_supported_keras():
    # Keras reads files of an older Keras, not always those of a newer one (3.13 rejects 3.15's
    # `input_axes` and `renorm` keys): scripts/resave_pretrained.py writes them with the lower bound.
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lowest = next(d for d in dependencies if d.startswith("keras>=")).split(">=")[1].split(",")[0]
    for name in KERAS_FILES:
        with zipfile.ZipFile(pretrained.FOLDER / name) as archive:
            assert json.loads(archive.read("metadata.json"))["keras_version"] == lowest, name


def test_loader_keeps_safe_mode_on(monkeypatch):
    calls = []
    real_load_model = keras.saving.load_model

    def recording_load_model(*args, **kwargs):
        calls.append(kwargs)
        return real_load_model(*args, **kwargs)

    monkeypatch.setattr(keras.saving, "load_model", recording_load_model)
    pretrained.load_digits_classifier()
    pretrained.load_sagan_digits(attention=True)
    pretrained.load_tiny_gpt()
    pretrained.load_induction_model(1)
    assert calls and all(call.get("safe_mode") is True for call in calls), calls


@pytest.mark.parametrize("attention", [True, False])
def test_shipped_gan_matches_the_builders(attention):
    shipped = pretrained.load_sagan_digits(attention=attention)
    generator = shipped["generator"]
    assert _structure(generator) == _structure(gan.build_generator(attention=attention))
    layers = [layer for layer in generator.layers if isinstance(layer, SelfAttention2D)]
    assert len(layers) == int(attention)  # the package's registered class, not a stand-in
    images = generator.predict(np.zeros((2, gan.LATENT_DIM), "float32"), verbose=0)
    assert images.shape == (2, 16, 16, 1) and np.all(np.abs(images) <= 1.0)
    if attention:
        discriminator = shipped["discriminator"]
        assert _structure(discriminator) == _structure(gan.build_discriminator())
        assert discriminator.get_layer("attention").spectral_normalization
    else:
        assert shipped["discriminator"] is None


def test_shipped_classifier_matches_its_builder_and_reads_held_out_digits():
    classifier = pretrained.load_digits_classifier()
    assert _structure(classifier) == _structure(gan.build_classifier())
    images, labels = data.digits(16)
    history = pretrained.load_history()
    n_train = history["config"]["n_train"]
    accuracy = np.mean(classifier.predict(images[n_train:], verbose=0).argmax(axis=1) == labels[n_train:])
    assert accuracy > 0.9  # 297 digits it never saw


def test_history_records_gamma_from_zero_and_both_losses():
    history = pretrained.load_history()
    config = history["config"]
    steps = history["step"]
    assert steps[0] == 0 and steps[-1] == config["steps"] and np.all(np.diff(steps) == config["record_every"])
    for key in ("generator_gamma", "discriminator_gamma", "generator_loss", "discriminator_loss"):
        assert len(history[key]) == len(steps)
    assert history["generator_gamma"][0] == history["discriminator_gamma"][0] == 0.0
    assert history["generator_loss"][0] is None and all(np.isfinite(history["generator_loss"][1:]))
    # The shipped generator's gamma is the last one recorded.
    gamma = float(pretrained.load_sagan_digits()["generator"].get_layer("attention").gamma.numpy())
    assert gamma == pytest.approx(history["generator_gamma"][-1], rel=1e-3)
    plain = pretrained.load_history(attention=False)
    assert set(plain["generator_gamma"]) == {None} and plain["config"] == config
    with pytest.raises(TypeError, match="`attention` must be True or False"):
        pretrained.load_history(attention="yes")


def test_seed_figures_cover_three_training_runs_of_each_variant():
    figures = pretrained.load_seed_figures()
    config = figures["config"]
    assert config["seeds"] == [0, 1, 2] and config["steps"] == pretrained.load_history()["config"]["steps"]
    assert (config["confidence"], config["class_share"]) == (gan.CONFIDENCE, gan.CLASS_SHARE)
    for variant in ("with_attention", "without_attention"):
        assert sorted(figures[variant]) == config["seeds"]
        for run in figures[variant].values():
            # counts hold the confident samples, so they add up to the confident fraction of n_samples
            assert sum(run["counts"]) == round(run["confident"] * config["n_samples"]) and len(run["counts"]) == 10
            assert ("generator_gamma" in run) == (variant == "with_attention")


@pytest.mark.parametrize("attention", [True, False])
def test_seed_figures_of_seed_0_are_the_shipped_generators(attention):
    # Seed 0 is the shipped run: judging the shipped files again on the recorded noise gives the
    # recorded figures (up to a sample or two whose top probability sits at the threshold on another CPU).
    figures = pretrained.load_seed_figures()
    config = figures["config"]
    recorded = figures["with_attention" if attention else "without_attention"][0]
    generator = pretrained.load_sagan_digits(attention=attention)["generator"]
    images = gan.sample(generator, config["n_samples"], seed=config["noise_seed"])
    got = gan.classifier_figures(gan.generate(pretrained.load_digits_classifier(), images))
    assert got["confident"] == pytest.approx(recorded["confident"], abs=2 / config["n_samples"])
    assert got["classes"] == recorded["classes"]
    if attention:
        assert recorded["generator_gamma"] == pytest.approx(pretrained.load_history()["generator_gamma"][-1], rel=1e-3)


def test_pyproject_ships_the_files_as_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["attention_helpers.pretrained"]
    for name in pretrained.FILES.values():
        assert any(Path(name).match(pattern) for pattern in patterns), name
    assert json.loads((pretrained.FOLDER / pretrained.FILES["history"]).read_text())  # plain JSON


def test_loading_needs_no_custom_objects_argument():
    # The registered SelfAttention2D is found by name; Keras's own loader with safe_mode on works too.
    model = keras.saving.load_model(pretrained.FOLDER / pretrained.FILES["generator"], compile=False, safe_mode=True)
    assert isinstance(model.get_layer("attention"), SelfAttention2D)


def test_shipped_tiny_gpt_matches_its_builder_and_beats_the_bigram_on_test_names():
    model = pretrained.load_tiny_gpt()
    assert _structure(model) == _structure(gpt.build_gpt())
    names = data.census_names("test")[::10]  # names the model never trained on
    inputs, targets = gpt.encode(names)
    test_nll = gpt.negative_log_likelihood(gpt.model_logits(model, inputs), targets)
    train_inputs, train_targets = gpt.encode(data.census_names("train"))
    scored = train_targets != gpt.IGNORE
    counts = np.ones((27, 27))
    np.add.at(counts, (train_inputs[scored], train_targets[scored]), 1)
    bigram = gpt.negative_log_likelihood(np.log(counts / counts.sum(axis=1, keepdims=True))[inputs], targets)
    assert test_nll < bigram - 0.25, (test_nll, bigram)
    weights = gpt.gpt_weights(model)
    _, tokens, logits = gpt.generate(weights, 8, seed=0, return_logits=True)
    np.testing.assert_allclose(logits, gpt.model_logits(model, tokens[:, :-1]), atol=1e-4)


def test_tiny_gpt_history_ends_at_the_shipped_model():
    history = pretrained.load_tiny_gpt_history()
    config = history["config"]
    assert history["step"][0] == 0 and history["step"][-1] == config["steps"]
    assert len(history["train_loss"]) == len(history["validation_nll"]) == len(history["step"])
    assert history["train_loss"][0] is None and history["validation_nll"][-1] < history["validation_nll"][0] - 0.5
    inputs, targets = gpt.encode(data.census_names("validation")[::5])
    nll = gpt.negative_log_likelihood(gpt.model_logits(pretrained.load_tiny_gpt(), inputs), targets)
    assert nll == pytest.approx(history["validation_nll"][-1], abs=0.05)  # a fifth of the names: close


def test_attention_at_scale_figures_cover_every_setting_and_seed():
    figures = pretrained.load_attention_at_scale_figures()
    config = figures["config"]
    assert sorted(figures["grouped_heads"]) == sorted(figures["length_generalisation"]) == config["seeds"]
    for seed, runs in figures["grouped_heads"].items():
        assert sorted(runs) == sorted(config["kv_heads"]), seed
        for kv, run in runs.items():
            # the cache formula 2 · layers · kv heads · head_dim · 4 bytes, and the model the script trained
            assert run["cache_bytes_per_token"] == 2 * 2 * kv * 16 * 4
            assert run["parameters"] == gpt.build_gpt(num_key_value_heads=kv).count_params()
            assert 1.5 < run["validation_nll"] < np.log(27)
    for runs in figures["length_generalisation"].values():
        assert sorted(runs) == sorted(("none", "learned", "sinusoidal", "rotary"))
        assert all(0 <= run[part] <= 1 for run in runs.values() for part in ("seen", "unseen"))


@pytest.mark.parametrize("num_layers", [1, 2])
def test_shipped_induction_models_match_the_builder_and_end_their_record(num_layers):
    from attention_helpers import circuits

    model = pretrained.load_induction_model(num_layers)
    assert _structure(model) == _structure(circuits.attention_only_transformer(num_layers=num_layers))
    history = pretrained.load_induction_history()
    record, config = history[f"induction_{num_layers}_layer{'s' if num_layers == 2 else ''}"], history["config"]
    assert record["step"][0] == 0 and record["step"][-1] == config["steps"]
    assert all(len(values) == len(record["step"]) for values in record.values())
    validation = circuits.repeated_tokens(config["validation"]["sequences"], seed=config["validation"]["seed"])
    out = circuits.forward(circuits.circuit_weights(model), validation["inputs"])
    loss, accuracy = circuits.repeated_loss_and_accuracy(out["logits"], validation)
    assert loss == pytest.approx(record["repeated_loss"][-1], abs=1e-3)
    assert accuracy == pytest.approx(record["repeated_accuracy"][-1], abs=1e-3)
    np.testing.assert_allclose(circuits.induction_score(out["patterns"][-1], validation["source"]),
                               record["induction_score"][-1], atol=1e-3)
    fresh = circuits.repeated_tokens(256, seed=7)
    _, fresh_accuracy = circuits.repeated_loss_and_accuracy(circuits.forward(circuits.circuit_weights(model),
                                                                             fresh["inputs"])["logits"], fresh)
    assert fresh_accuracy > 0.95 if num_layers == 2 else fresh_accuracy < 0.3


def test_load_induction_model_refuses_other_depths():
    with pytest.raises(ValueError, match=r"`num_layers` must be 1 or 2\. Received: num_layers=3"):
        pretrained.load_induction_model(3)


@pytest.mark.parametrize(("kind", "record"), [("transformer", "translator"), ("bahdanau", "bahdanau")])
def test_shipped_translators_match_their_builders_and_their_record(kind, record):
    from attention_helpers import seq2seq

    model = pretrained.load_translator(kind)
    builder = seq2seq.build_translator if kind == "transformer" else seq2seq.build_bahdanau
    assert _structure(model) == _structure(builder())
    history = pretrained.load_translation_history()[record]
    assert history["config"]["n_train"] == len(data.number_split("train"))
    numbers = data.number_split("test")  # numbers the model never trained on
    tokens, _ = seq2seq.greedy_decode(model, seq2seq.encode_source(numbers))
    exact = seq2seq.exact_match(seq2seq.decode_target(tokens), numbers)
    assert exact >= 0.95
    assert exact == pytest.approx(history["test"]["exact_match"], abs=0.005)  # another CPU may flip a word or two


def test_load_translator_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        pretrained.load_translator("lstm")


def test_vision_results_cover_every_setting_and_seed():
    figures = pretrained.load_vision_results()
    seeds = figures["config"]["seeds"]
    assert sorted(figures["runs"]) == seeds and len(seeds) >= 3  # claims about training rest on >= 3 runs
    for run in figures["runs"].values():
        assert sorted(run["data_size"], key=int) == [str(n) for n in figures["config"]["sizes"]]
        for accuracies in run["data_size"].values():
            assert set(accuracies) == {"vit", "cnn", "logistic_regression"}
            assert all(0.1 < value <= 1 for value in accuracies.values())
        assert sorted(run["patches"], key=int) == ["2", "4", "8"]
        for patch in run["patches"].values():
            assert {"with_positions", "without_positions", "seconds_per_epoch", "parameters"} <= set(patch)
        assert set(run["shifted"]) == {"grid_correlation", "neighbour_share", "accuracy"}
    for similarity in figures["similarity"].values():
        assert np.allclose(np.diag(np.array(similarity)), 1, atol=1e-3)  # cosine similarity of each patch with itself
