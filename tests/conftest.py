"""Fixtures shared by the unit tests: quiet TensorFlow, seed everything before each test."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras
import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _seed_and_close_figures():
    keras.utils.set_random_seed(1234)
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def mixed_precision():
    """Run the test under the mixed_float16 policy and restore the previous one after."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    yield
    keras.config.set_dtype_policy(previous)
