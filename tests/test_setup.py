"""`setup_notebook` is tested in fresh interpreters: it must act before TensorFlow is imported."""

import subprocess
import sys
import textwrap


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300, check=False
    )


def test_import_is_light_and_setup_is_quiet_and_deterministic():
    result = _run(
        """
        import sys
        import attention_helpers as ah
        assert "keras" not in sys.modules and "tensorflow" not in sys.modules
        ah.setup_notebook(seed=3)
        import keras, numpy as np, random
        first = (random.random(), np.random.rand(), float(keras.random.uniform(())))
        ah.setup_notebook(seed=3)
        second = (random.random(), np.random.rand(), float(keras.random.uniform(())))
        assert first == second, (first, second)
        def train():
            ah.setup_notebook(seed=5)
            x, y = ah.data.dense_task(256, dims=8, seed=0)
            model = ah.models.dense_attention_model(dims=8)
            model.fit(x, y, epochs=2, batch_size=32, verbose=0)
            return [w.copy() for w in model.get_weights()]
        a, b = train(), train()
        assert all(np.array_equal(u, v) for u, v in zip(a, b)), "same seed, different trained weights"
        import matplotlib
        assert matplotlib.rcParams["figure.dpi"] == 80
        """
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and len(set(lines)) == 2 and lines[0] == lines[1]
    assert lines[0].startswith(f"Python {sys.version_info.major}.{sys.version_info.minor} | Keras 3.")
    assert "backend tensorflow 2." in lines[0] and "seed 3 | deterministic" in lines[0]
    assert result.stderr == "", result.stderr  # no TensorFlow start-up chatter


def test_setup_rejects_bad_seed():
    result = _run("import attention_helpers as ah; ah.setup_notebook(seed=-1)")
    assert result.returncode != 0 and "`seed` must be >= 0. Received: seed=-1" in result.stderr


def test_unknown_attribute_is_an_attribute_error():
    result = _run("import attention_helpers as ah; ah.nope")
    assert "module 'attention_helpers' has no attribute 'nope'" in result.stderr
