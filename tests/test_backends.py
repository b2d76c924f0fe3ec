"""The layers use `keras.ops` only, so they must give the same numbers on JAX as on TensorFlow."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests import backend_cases

ROOT = Path(__file__).resolve().parent.parent


BACKENDS_DIR = ROOT / ".backends"  # filled by the README's test command from requirements-backends.txt


@pytest.mark.parametrize("backend", ["jax"])
def test_layers_agree_across_backends(tmp_path, backend):
    if not (BACKENDS_DIR / backend).is_dir():
        pytest.skip(f"{backend} is not installed in {BACKENDS_DIR.name}/: run the README's test command")
    outputs, weights = backend_cases.run()
    np.savez(tmp_path / "weights.npz", **weights)
    python_path = os.pathsep.join(filter(None, [str(BACKENDS_DIR), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu", "PYTHONPATH": python_path}
    result = subprocess.run(
        [sys.executable, "-m", "tests.backend_cases", str(tmp_path / "weights.npz"), str(tmp_path / "out.npz")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    other = np.load(tmp_path / "out.npz")
    assert str(other["backend"]) == backend
    assert set(other.files) - {"backend"} == set(outputs)
    for key, value in outputs.items():
        np.testing.assert_allclose(other[key], value, rtol=1e-4, atol=1e-5, err_msg=key)
    # Masks and causal masks give exact zeros on both backends.
    assert np.all(other["temporal/1"][0, 4:] == 0.0)
    assert np.all(other["feed_forward/1"][0, 4:] == 0.0)
    for name in ("multi_head", "transformer_post_norm", "transformer_pre_norm"):
        weights = other[f"{name}/1"]  # (batch, heads, Tq, Tv)
        assert np.all(weights[0, :, :, 4:] == 0.0), name
        assert np.all(weights[np.broadcast_to(~np.tri(*weights.shape[2:], dtype=bool), weights.shape)] == 0.0), name
