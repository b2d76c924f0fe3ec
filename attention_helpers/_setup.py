"""The one setup call at the top of every notebook."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import platform
import random
import sys
import warnings

import numpy as np

from attention_helpers._validation import check_bool, check_int

PLOT_DEFAULTS = {
    "figure.figsize": (6.0, 3.2),
    "figure.dpi": 80,  # keeps committed notebooks small; readable on screen
    "savefig.dpi": 80,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "axes.titlesize": 11,
    "image.cmap": "viridis",
}


def _quiet_tensorflow_env():
    # Must happen before TensorFlow is imported to silence its C++ start-up messages.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # oneDNN changes float results between CPUs


@contextlib.contextmanager
def _silenced_stderr_fd():
    """Send file descriptor 2 to /dev/null for the duration.

    TensorFlow 2.21 writes start-up lines ("Could not find cuda drivers ...") from C++ before its
    logging is initialised, so no environment variable silences them; ipykernel would forward
    them into the notebook as stderr output.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real file descriptor: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextlib.contextmanager
def _scikit_learn_hidden():
    """Keep Keras from importing scikit-learn while Keras itself is imported.

    Keras imports scikit-learn, when it is installed, for `keras.wrappers` (scikit-learn estimators
    around Keras models), which nothing here uses; that costs 1 to 2 s of every kernel start on one
    CPU. While Keras imports, `sys.modules["sklearn"] = None` makes `import sklearn` fail, which
    Keras tolerates (its wrappers then refuse to be built); afterwards the entry is removed, so
    `import sklearn` (as `data.digits` does) works as usual.
    """
    hide = "sklearn" not in sys.modules
    if hide:
        sys.modules["sklearn"] = None
    try:
        yield
    finally:
        if hide and "sklearn" in sys.modules and sys.modules["sklearn"] is None:
            del sys.modules["sklearn"]


def _import_keras(quiet):
    if "keras" in sys.modules:
        return sys.modules["keras"]
    with _scikit_learn_hidden(), _silenced_stderr_fd() if quiet else contextlib.nullcontext():
        return importlib.import_module("keras")


def versions():
    """The versions that matter for a bug report: Python, NumPy, Keras and its backend.

    `setup_notebook` prints none of them, so that a notebook's stored output is the same on every
    Python and patch release; call this (or print it) when you need them.

    Returns:
        dict with keys "python", "numpy", "keras", "backend" and "backend_version" (full version
        strings). Importing Keras here loads its backend.
    """
    keras = importlib.import_module("keras")
    backend = keras.backend.backend()
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    backend_version = importlib.import_module(module).__version__ if module else "?"
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": backend_version,
    }


def setup_notebook(seed=0, *, deterministic=True, quiet=True):
    """Seed everything, quiet the logs, make training deterministic and set plot defaults.

    Call it once, at the top of a notebook, before anything else imports Keras.

    Args:
        seed: non-negative int, seeds Python's `random`, NumPy and Keras
            (`keras.utils.set_random_seed`).
        deterministic: on the TensorFlow backend, turn on op determinism so that the same
            seed gives the same trained model on the same machine.
        quiet: silence TensorFlow's C++ and Python logging and Python warnings.

    Prints one line with the backend and the seed, and nothing that depends on the machine or on
    the Python and package versions (`versions()` returns those); returns None.
    """
    seed = check_int("seed", seed, minimum=0)
    deterministic = check_bool("deterministic", deterministic)
    quiet = check_bool("quiet", quiet)
    if quiet:
        _quiet_tensorflow_env()
        warnings.filterwarnings("ignore")
        logging.getLogger("absl").setLevel(logging.ERROR)

    keras = _import_keras(quiet)  # imported here, after the environment is set

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if quiet:
            tf.get_logger().setLevel(logging.ERROR)
        if deterministic:
            tf.config.experimental.enable_op_determinism()
    elif backend == "torch" and deterministic:
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (seeds the legacy global generator that older code uses)
    keras.utils.set_random_seed(seed)

    import matplotlib

    matplotlib.rcParams.update(PLOT_DEFAULTS)

    print(
        f"attention_helpers ready: Keras 3 on {backend} | seed {seed}"
        + (" | deterministic" if deterministic else "")
        + " | ah.versions() lists the versions",
        file=sys.stdout,
    )
