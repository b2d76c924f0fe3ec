"""The SAGAN of notebook 07: builders, hinge losses, the training step and the figures that judge samples."""

import json
import re

import keras
import numpy as np
import pytest

from attention_helpers import gan
from attention_helpers.layers import SelfAttention2D
from tests.layer_testing import random_array, to_numpy


def _attention_layers(model):
    return [layer for layer in model.layers if isinstance(layer, SelfAttention2D)]


def test_generator_maps_noise_to_16x16_images_in_tanh_range():
    generator = gan.build_generator()
    images = to_numpy(generator(random_array((3, gan.LATENT_DIM))))
    assert images.shape == (3, 16, 16, 1)
    assert np.all(np.abs(images) <= 1.0)
    (attention,) = _attention_layers(generator)
    assert attention.name == "attention" and attention.pool_keys_values
    assert tuple(generator.get_layer("attention").input.shape) == (None, 16, 16, 16)  # the highest resolution
    assert not _attention_layers(gan.build_generator(attention=False))
    assert not gan.build_generator(pool_keys_values=False).get_layer("attention").pool_keys_values


def test_discriminator_is_spectrally_normalised_with_attention_at_8x8():
    discriminator = gan.build_discriminator()
    assert to_numpy(discriminator(random_array((2, 16, 16, 1)))).shape == (2, 1)
    (attention,) = _attention_layers(discriminator)
    assert attention.spectral_normalization and tuple(attention.input.shape) == (None, 8, 8, 32)
    convolutions = [layer for layer in discriminator.layers if isinstance(layer, keras.layers.SpectralNormalization)]
    assert len(convolutions) == 2 and all(isinstance(c.layer, keras.layers.Conv2D) for c in convolutions)
    assert isinstance(discriminator.get_layer("score"), keras.layers.Dense)  # the one layer without
    assert not _attention_layers(gan.build_discriminator(attention=False))


def test_hinge_losses_match_hand_computed_values():
    real = np.array([[2.0], [0.5]], "float32")
    fake = np.array([[-2.0], [0.5]], "float32")
    # mean(relu(1 - real)) = (0 + 0.5) / 2; mean(relu(1 + fake)) = (0 + 1.5) / 2
    assert float(gan.discriminator_hinge_loss(real, fake)) == pytest.approx(0.25 + 0.75)
    assert float(gan.generator_hinge_loss(fake)) == pytest.approx(0.75)
    # A discriminator that scores real >= 1 and fake <= -1 has nothing left to learn.
    assert float(gan.discriminator_hinge_loss(real[:1], fake[:1])) == 0.0


def test_optimizers_use_the_papers_ttur_learning_rates():
    g_optimizer, d_optimizer = gan.make_optimizers()
    assert float(g_optimizer.learning_rate) == pytest.approx(1e-4)
    assert float(d_optimizer.learning_rate) == pytest.approx(4e-4)
    assert (g_optimizer.beta_1, g_optimizer.beta_2) == (0.0, 0.9) == (d_optimizer.beta_1, d_optimizer.beta_2)


def _one_step(seed):
    keras.utils.set_random_seed(seed)
    generator, discriminator = gan.build_generator(), gan.build_discriminator()
    g_optimizer, d_optimizer = gan.make_optimizers()
    real = np.tanh(random_array((8, 16, 16, 1), seed))
    before = [w.copy() for w in generator.get_weights() + discriminator.get_weights()]
    losses = gan.train_step(generator, discriminator, g_optimizer, d_optimizer, real, keras.random.SeedGenerator(seed))
    after = generator.get_weights() + discriminator.get_weights()
    return [float(loss) for loss in losses], before, after, generator, discriminator


def test_train_step_updates_both_networks_and_is_deterministic():
    losses, before, after, generator, discriminator = _one_step(3)
    assert all(np.isfinite(losses))
    changed = [not np.array_equal(a, b) for a, b in zip(before, after)]
    assert sum(changed) > len(changed) // 2
    # gamma moves off 0 in both blocks after one Adam step (each step moves it by about the learning rate).
    assert 0 < abs(float(generator.get_layer("attention").gamma.numpy())) <= 2e-4
    assert 0 < abs(float(discriminator.get_layer("attention").gamma.numpy())) <= 8e-4
    again = _one_step(3)
    assert again[0] == losses and all(np.array_equal(a, b) for a, b in zip(again[2], after))


def test_train_step_says_it_needs_tensorflow(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(NotImplementedError, match=r"tf\.GradientTape.*Received: backend 'jax'"):
        gan.train_step(None, None, None, None, np.zeros((1, 16, 16, 1)), None)


def test_sample_is_seeded():
    generator = gan.build_generator()
    a, b, c = (gan.sample(generator, 5, seed=s) for s in (1, 1, 2))
    assert a.shape == (5, 16, 16, 1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_classifier_figures_count_confident_samples_per_class():
    probabilities = np.full((10, 10), 0.01)
    probabilities[np.arange(10), [0, 0, 0, 1, 1, 2, 3, 3, 3, 3]] = 0.91  # all confident
    probabilities[9] = 0.1  # one unsure sample
    figures = gan.classifier_figures(probabilities, threshold=0.9, class_share=0.2)
    assert figures["confident"] == pytest.approx(0.9)
    np.testing.assert_array_equal(figures["counts"], [3, 2, 1, 3, 0, 0, 0, 0, 0, 0])
    assert figures["classes"] == 3  # classes 0, 1 and 3 hold >= 2 of 10; class 2 holds 1
    with pytest.raises(ValueError, match=r"10 columns. Received: shape \(4, 3\)"):
        gan.classifier_figures(np.ones((4, 3)) / 3)


def test_classifier_maps_images_to_ten_probabilities():
    probabilities = to_numpy(gan.build_classifier()(random_array((4, 16, 16, 1))))
    assert probabilities.shape == (4, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


# The notebook teaches these networks in its own cells; the package's copies (which trained the
# shipped weights) must stay the same. The notebook's functions are run (only their own source)
# and compared with the package's.
NOTEBOOK = "07_sagan_generating_digits.ipynb"


def _notebook_definitions():
    import tensorflow as tf

    from tests.test_notebook_models import NOTEBOOKS, notebook_function

    cells = json.loads((NOTEBOOKS / NOTEBOOK).read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    latent_dim = re.search(r"^LATENT_DIM = (\d+)", code, re.MULTILINE)
    assert latent_dim and int(latent_dim[1]) == gan.LATENT_DIM
    names = {"layers": keras.layers, "ops": keras.ops, "tf": tf, "LATENT_DIM": gan.LATENT_DIM}
    for name in (
        "discriminator_hinge_loss",
        "generator_hinge_loss",
        "make_optimizers",
        "build_generator",
        "build_discriminator",
        "train_step",  # uses the two losses above
    ):
        names[name] = notebook_function(NOTEBOOK, name, **names)
    return names


def _without_names(config):
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k not in ("name", "shared_object_id")}
    if isinstance(config, list):
        return [_without_names(v) for v in config]
    return config


def _layer_configs(model):
    return [(type(layer).__name__, _without_names(layer.get_config())) for layer in model.layers]


def test_notebook_builds_the_same_networks_as_the_package():
    notebook = _notebook_definitions()
    for kwargs in ({}, {"attention": False}, {"pool_keys_values": False}):
        assert _layer_configs(notebook["build_generator"](**kwargs)) == _layer_configs(gan.build_generator(**kwargs))
    for attention in (True, False):
        assert _layer_configs(notebook["build_discriminator"](attention)) == _layer_configs(
            gan.build_discriminator(attention)
        )


def test_notebook_trains_like_the_package():
    notebook = _notebook_definitions()
    real, fake = random_array((6, 1), 1), random_array((6, 1), 2)
    assert float(notebook["discriminator_hinge_loss"](real, fake)) == float(gan.discriminator_hinge_loss(real, fake))
    assert float(notebook["generator_hinge_loss"](fake)) == float(gan.generator_hinge_loss(fake))
    for mine, theirs in zip(notebook["make_optimizers"](), gan.make_optimizers()):
        assert _without_names(mine.get_config()) == _without_names(theirs.get_config())

    # One step of each, from the same weights, batch and noise seed, ends at the same weights.
    images = np.tanh(random_array((8, 16, 16, 1), 5))
    results = []
    for builders, step in (
        (
            (notebook["build_generator"], notebook["build_discriminator"], notebook["make_optimizers"]),
            notebook["train_step"],
        ),
        ((gan.build_generator, gan.build_discriminator, gan.make_optimizers), gan.train_step),
    ):
        keras.utils.set_random_seed(7)
        generator, discriminator = builders[0](), builders[1]()
        g_optimizer, d_optimizer = builders[2]()
        losses = step(generator, discriminator, g_optimizer, d_optimizer, images, keras.random.SeedGenerator(3))
        results.append(([float(loss) for loss in losses], generator.get_weights() + discriminator.get_weights()))
    (losses_nb, weights_nb), (losses_pkg, weights_pkg) = results
    assert losses_nb == pytest.approx(losses_pkg, rel=1e-6)
    for a, b in zip(weights_nb, weights_pkg):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_generate_calls_the_model_in_batches_and_returns_numpy():
    generator = gan.build_generator()
    z = random_array((7, gan.LATENT_DIM), 4)
    whole = to_numpy(generator(z))
    for batch_size in (1, 3, 100):
        got = gan.generate(generator, z, batch_size=batch_size)
        assert isinstance(got, np.ndarray) and got.shape == (7, 16, 16, 1)
        np.testing.assert_allclose(got, whole, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="`batch_size` must be >= 1"):
        gan.generate(generator, z, batch_size=0)
