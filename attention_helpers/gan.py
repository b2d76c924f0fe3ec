"""A small SAGAN for 16×16 handwritten digits: the models, losses and training step of notebook 07.

The notebook writes the same builders, losses and training step in its own cells (that is where
they are taught); `scripts/train_sagan_digits.py` uses these copies to train the shipped weights,
and `tests/test_gan.py` checks that the notebook's copies and these agree.

Everything here is `keras.ops` except `train_step`, which needs the backend's automatic
differentiation: Keras 3 has no backend-neutral gradient API, so it is written for TensorFlow
(`tf.GradientTape`) and says so when called on another backend.

References:
    Han Zhang, Ian Goodfellow, Dimitris Metaxas, Augustus Odena, "Self-Attention Generative
    Adversarial Networks", https://arxiv.org/abs/1805.08318
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from attention_helpers._validation import as_array, check_int
from attention_helpers.layers import SelfAttention2D

LATENT_DIM = 16  # length of the noise vector z
IMAGE_SHAPE = (16, 16, 1)  # `data.digits(16)`
GENERATOR_LEARNING_RATE = 1e-4  # TTUR (two time-scale update rule): the paper's values,
DISCRIMINATOR_LEARNING_RATE = 4e-4  # the discriminator learns 4x faster than the generator
ADAM_BETAS = (0.0, 0.9)  # the paper's Adam settings
BATCH_SIZE = 32
CONFIDENCE = 0.9  # a sample is "confidently classified" when the classifier gives it >= 0.9
CLASS_SHARE = 0.02  # a class "appears" when at least 2% of the samples are confidently that class


def build_generator(attention=True, pool_keys_values=True, latent_dim=LATENT_DIM):
    """z → Dense → 4×4×64 → (upsample, 3×3 conv) to 8×8×32 and 16×16×16 → self-attention → tanh.

    Batch normalisation and ReLU after the dense layer and each convolution (DCGAN). The attention
    block (named "attention") sits at 16×16, the highest resolution, on 16 channels; with
    `pool_keys_values` its keys and values are 2×2 max-pooled (8×8 = 64 keys per query, as in
    SAGAN's official code) to keep it affordable on a CPU.
    """
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    z = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(4 * 4 * 64, use_bias=False)(z)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Reshape((4, 4, 64))(x)
    for channels in (32, 16):  # 8×8, then 16×16
        x = layers.UpSampling2D()(x)
        x = layers.Conv2D(channels, 3, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    if attention:
        x = SelfAttention2D(pool_keys_values=pool_keys_values, name="attention")(x)
    images = layers.Conv2D(1, 3, padding="same", activation="tanh", name="image")(x)
    return keras.Model(z, images, name="generator" if attention else "generator_without_attention")


def build_discriminator(attention=True):
    """16×16 image → strided 3×3 convs (8×8×32, 4×4×32) → one score; spectral normalisation.

    Every convolution, and the attention block at 8×8 (named "attention"), is spectrally
    normalised; the final Dense is not (with it, these narrow networks' scores stayed so small
    that the hinge loss barely moved; see `scripts/train_sagan_digits.py`).
    """
    image = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = layers.SpectralNormalization(layers.Conv2D(32, 3, strides=2, padding="same"))(image)
    x = layers.LeakyReLU(0.1)(x)
    if attention:
        x = SelfAttention2D(spectral_normalization=True, name="attention")(x)
    x = layers.SpectralNormalization(layers.Conv2D(32, 3, strides=2, padding="same"))(x)
    x = layers.LeakyReLU(0.1)(x)
    score = layers.Dense(1, name="score")(layers.Flatten()(x))
    return keras.Model(image, score, name="discriminator" if attention else "discriminator_without_attention")


def build_classifier():
    """The digit classifier that judges samples: two conv + max-pool stages, dropout, softmax over 10."""
    image = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = layers.MaxPooling2D()(layers.Conv2D(16, 3, padding="same", activation="relu")(image))
    x = layers.MaxPooling2D()(layers.Conv2D(32, 3, padding="same", activation="relu")(x))
    x = layers.Dropout(0.3)(layers.Flatten()(x))
    probabilities = layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(image, probabilities, name="digits_classifier")


def discriminator_hinge_loss(real_scores, fake_scores):
    """mean(max(0, 1 - D(real))) + mean(max(0, 1 + D(fake))): push real scores above 1, fakes below -1."""
    return ops.mean(ops.relu(1.0 - real_scores)) + ops.mean(ops.relu(1.0 + fake_scores))


def generator_hinge_loss(fake_scores):
    """-mean(D(fake)): the generator raises the discriminator's score of its samples."""
    return -ops.mean(fake_scores)


def make_optimizers():
    """`(generator_optimizer, discriminator_optimizer)`: Adam with the paper's TTUR learning rates."""
    beta_1, beta_2 = ADAM_BETAS
    return (
        keras.optimizers.Adam(GENERATOR_LEARNING_RATE, beta_1=beta_1, beta_2=beta_2),
        keras.optimizers.Adam(DISCRIMINATOR_LEARNING_RATE, beta_1=beta_1, beta_2=beta_2),
    )


def train_step(generator, discriminator, generator_optimizer, discriminator_optimizer, real, seed_generator):
    """One discriminator update, then one generator update, each on fresh noise (TensorFlow only).

    Returns:
        `(discriminator_loss, generator_loss)` as scalar tensors.
    """
    if keras.backend.backend() != "tensorflow":
        raise NotImplementedError(
            "train_step uses tf.GradientTape; Keras 3 has no backend-neutral gradients. "
            f"Received: backend {keras.backend.backend()!r}"
        )
    import tensorflow as tf

    batch = ops.shape(real)[0]
    latent_dim = generator.input_shape[-1]
    z = keras.random.normal((batch, latent_dim), seed=seed_generator)
    with tf.GradientTape() as tape:
        fake = generator(z, training=True)
        d_loss = discriminator_hinge_loss(discriminator(real, training=True), discriminator(fake, training=True))
    gradients = tape.gradient(d_loss, discriminator.trainable_weights)
    discriminator_optimizer.apply_gradients(zip(gradients, discriminator.trainable_weights))
    z = keras.random.normal((batch, latent_dim), seed=seed_generator)
    with tf.GradientTape() as tape:
        g_loss = generator_hinge_loss(discriminator(generator(z, training=True), training=True))
    gradients = tape.gradient(g_loss, generator.trainable_weights)
    generator_optimizer.apply_gradients(zip(gradients, generator.trainable_weights))
    return d_loss, g_loss


def generate(model, inputs, batch_size=100):
    """`model(inputs)` in inference mode, in batches, as a NumPy array.

    A direct call, not `model.predict`, which first traces a graph (seconds, for a few hundred
    samples); in batches of `batch_size`, so that the attention scores of a large input never sit in
    memory at once.
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    return np.concatenate(
        [ops.convert_to_numpy(model(inputs[i : i + batch_size])) for i in range(0, len(inputs), batch_size)]
    )


def sample(generator, n, seed):
    """`n` images from `generator` (inference mode) for noise drawn with `seed`: `(n, 16, 16, 1)`."""
    n = check_int("n", n, minimum=1)
    z = keras.random.normal((n, generator.input_shape[-1]), seed=check_int("seed", seed, minimum=0))
    return generate(generator, z)


def classifier_figures(probabilities, threshold=CONFIDENCE, class_share=CLASS_SHARE):
    """The figures that judge a set of images from the classifier's probabilities `(n, 10)`.

    Returns:
        dict with `confident` (fraction of images whose top probability is >= `threshold`),
        `counts` (how many confident images per class, `(10,)`) and `classes` (how many classes
        hold at least `class_share` of all images among the confident ones).
    """
    probabilities = as_array("probabilities", probabilities, ndim=2)
    if probabilities.shape[1] != 10:
        raise ValueError(f"`probabilities` must have 10 columns. Received: shape {probabilities.shape}")
    confident = probabilities.max(axis=1) >= threshold
    counts = np.bincount(probabilities.argmax(axis=1)[confident], minlength=10)
    return {
        "confident": float(confident.mean()),
        "counts": counts,
        "classes": int(np.sum(counts >= class_share * len(probabilities))),
    }
