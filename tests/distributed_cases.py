"""Train small models on one device, then data-parallel on two, from the same weights (see test_distributed.py).

Run in a fresh process, since the two devices must exist before the backend starts:

    KERAS_BACKEND=jax XLA_FLAGS=--xla_force_host_platform_device_count=2 python -m tests.distributed_cases OUT.npz
    KERAS_BACKEND=tensorflow python -m tests.distributed_cases OUT.npz

It writes, for each model, the initial weights and the weights after training on one device and
on two (`{model}/{initial,single,parallel}/{i}`), and `{model}/devices`, the number of devices
that hold a copy of the data-parallel model's first weight.
"""

from __future__ import annotations

import contextlib
import sys

import keras
import numpy as np

from attention_helpers import layers

STEPS, BATCH = 3, 8  # SGD steps per run; global batch, split in two halves by data parallelism


def _transformer_model():
    tokens = keras.Input(shape=(6,), dtype="int32")
    x = keras.layers.Embedding(12, 8, mask_zero=True)(tokens)
    x = layers.TransformerBlock(num_heads=2, key_dim=4, ff_dim=16)(x)
    return keras.Model(tokens, keras.layers.Dense(1)(keras.layers.GlobalAveragePooling1D()(x)))


def _image_model():
    images = keras.Input(shape=(6, 6, 3))
    x = keras.layers.Conv2D(16, 1)(images)
    x = layers.SelfAttention2D(gamma_initializer=0.5, num_heads=2)(x)
    return keras.Model(images, keras.layers.Dense(1)(keras.layers.GlobalAveragePooling2D()(x)))


def _data():
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 12, size=(STEPS * BATCH, 6))
    tokens[::3, 4:] = 0  # padding, so the mask is part of what must agree
    return {
        "transformer": (tokens.astype("int32"), rng.normal(size=(STEPS * BATCH, 1)).astype("float32")),
        "image": (
            rng.normal(size=(STEPS * BATCH, 6, 6, 3)).astype("float32"),
            rng.normal(size=(STEPS * BATCH, 1)).astype("float32"),
        ),
    }


def _train(model, initial, x, y):
    model.set_weights(initial)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    return model.get_weights()


def _two_devices():
    """Turn on data parallelism over two CPU devices; return the scope to build and train in."""
    if keras.backend.backend() == "jax":
        devices = keras.distribution.list_devices("cpu")
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        return contextlib.nullcontext()  # DataParallel applies globally, to every model built after it
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope()


def _devices_holding(variable):
    value = variable.value
    if hasattr(value, "sharding"):  # a JAX array, replicated by DataParallel
        return len(value.sharding.device_set)
    return len(getattr(value, "values", [value]))  # a tf.distribute MirroredVariable: one copy per device


def run():
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    results, devices = {}, {}
    builds = {"transformer": _transformer_model, "image": _image_model}
    data = _data()
    for name, build in builds.items():
        keras.utils.set_random_seed(0)
        initial = build().get_weights()
        results[name] = {"initial": initial, "single": _train(build(), initial, *data[name])}
    with _two_devices():
        for name, build in builds.items():
            model = build()  # its variables are created replicated on both devices
            results[name]["parallel"] = _train(model, results[name]["initial"], *data[name])
            devices[name] = _devices_holding(model.trainable_variables[0])
    flat = {
        f"{name}/{stage}/{i}": w
        for name, stages in results.items()
        for stage, weights in stages.items()
        for i, w in enumerate(weights)
    }
    return {**flat, **{f"{name}/devices": count for name, count in devices.items()}}


if __name__ == "__main__":
    np.savez(sys.argv[1], **run())
