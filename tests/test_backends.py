"""The layers use `keras.ops` only, so they must give the same numbers on JAX as on TensorFlow."""

import numpy as np
import pytest

from tests import backend_cases
from tests.backend_process import require_backend, run_module


@pytest.mark.parametrize("backend", ["jax"])
def test_layers_agree_across_backends(tmp_path, backend):
    require_backend(backend)
    outputs, weights = backend_cases.run()
    np.savez(tmp_path / "weights.npz", **weights)
    run_module("tests.backend_cases", [tmp_path / "weights.npz", tmp_path / "out.npz"], backend)
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
    assert np.all(other["transformer_implicit_mask/1"][1, :, :, 3:] == 0.0)  # Embedding(mask_zero=True) padding
    assert np.all(other["cross_attention/1"][0, :, :, 4:] == 0.0)  # padded source steps, as keys of the decoder
    translator = other["translator/1"]  # (batch, heads, target steps, source steps); row 1's source is padded
    assert np.all(translator[1, :, :, 3:] == 0.0) and np.all(translator[0] > 0.0)
