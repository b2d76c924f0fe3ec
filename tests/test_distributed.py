"""Data-parallel training on two devices must give the weights that training on one device gives.

Both run on CPU devices in a fresh process (see tests/distributed_cases.py): JAX with
`keras.distribution.DataParallel` over two host devices, TensorFlow with
`tf.distribute.MirroredStrategy` over two logical CPUs. Each trains a model with a
`TransformerBlock` (on padded, masked tokens) and one with `SelfAttention2D` for a few SGD steps
from the same weights on the same batches.
"""

import os

import numpy as np
import pytest

from tests.backend_process import run_module

TWO_HOST_DEVICES = "--xla_force_host_platform_device_count=2"


@pytest.mark.parametrize(
    ("backend", "env"),
    [
        ("jax", {"XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} {TWO_HOST_DEVICES}".strip()}),
        ("tensorflow", {}),  # the two logical CPUs are configured inside the process
    ],
    ids=["jax-DataParallel", "tensorflow-MirroredStrategy"],
)
def test_two_device_training_matches_one_device(tmp_path, backend, env):
    run_module("tests.distributed_cases", [tmp_path / "weights.npz"], backend, env)
    weights = np.load(tmp_path / "weights.npz")
    for model in ("transformer", "image"):
        assert int(weights[f"{model}/devices"]) == 2, model
        count = sum(key.startswith(f"{model}/initial/") for key in weights.files)
        assert count == {"transformer": 19, "image": 11}[model]
        initial, single, parallel = (
            [weights[f"{model}/{stage}/{i}"] for i in range(count)] for stage in ("initial", "single", "parallel")
        )
        # Training moved the weights, far more than the tolerance below.
        assert max(np.abs(s - i).max() for s, i in zip(single, initial)) > 0.05, model
        for i, (want, got) in enumerate(zip(single, parallel)):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=f"{model} weight {i}")
