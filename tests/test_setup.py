"""`setup_notebook` is tested in fresh interpreters and a fresh kernel: it must act before TensorFlow is imported."""

import re
import subprocess
import sys
import textwrap

import nbformat

from scripts.execute_notebooks import execute_notebook

# What a machine's drivers and CPU make TensorFlow's C++ runtime write to the *process's* stderr
# before any logging setting applies (seen on machines with a CUDA runtime but no GPU, and with
# TensorFlow builds that were compiled without the CPU's vector instructions). The notebook
# never shows these (setup_notebook silences file descriptor 2 while TensorFlow loads, see
# test_notebook_outputs_of_setup_are_one_stable_line); a subprocess's raw stderr may carry them.
DRIVER_STDERR_LINES = [
    r"failed call to cuInit",
    r"Could not find cuda drivers",
    r"Unable to register cu(DNN|FFT|BLAS) factory",
    r"computation placer already registered",
    r"TF-TRT Warning",
    r"This TensorFlow binary is optimized to use available CPU instructions",
    r"To enable the following instructions",
    r"oneDNN custom operations are on",
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    r"cuda_executor|cuda_dnn|cuda_fft|cuda_blas|cuda_diagnostics",
]
SETUP_LINE = (
    "attention_helpers ready: Keras 3 on tensorflow | seed 3 | deterministic | ah.versions() lists the versions"
)


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300, check=False
    )


def unexpected_stderr(stderr):
    """The lines of `stderr` that are not on the documented list of driver start-up lines."""
    known = re.compile("|".join(DRIVER_STDERR_LINES))
    return [line for line in stderr.splitlines() if line.strip() and not known.search(line)]


def test_unexpected_stderr_filters_only_the_documented_lines():
    stderr = (
        "E0000 00:00:1 cuda_executor.cc:1228] failed call to cuInit: INTERNAL: CUDA error: UNKNOWN ERROR (303)\n"
        "Traceback (most recent call last):\n"
    )
    assert unexpected_stderr(stderr) == ["Traceback (most recent call last):"]


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
    assert result.stdout.splitlines()[:2] == [SETUP_LINE, SETUP_LINE]
    assert len(result.stdout.splitlines()) == 4
    assert unexpected_stderr(result.stderr) == [], result.stderr


def test_setup_keeps_scikit_learn_out_of_the_keras_import_but_importable():
    result = _run(
        """
        import sys
        import attention_helpers as ah
        ah.setup_notebook(seed=0)
        assert "keras" in sys.modules and "sklearn" not in sys.modules, "Keras imported scikit-learn"
        images, labels = ah.data.digits(8)  # scikit-learn's digits: importable after setup
        assert images.shape == (1797, 8, 8, 1) and "sklearn" in sys.modules
        """
    )
    assert result.returncode == 0, result.stderr


def test_notebook_outputs_of_setup_are_one_stable_line():
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import attention_helpers as ah\nah.setup_notebook(seed=3)")]
    )
    run = execute_notebook(nb)
    outputs = run.notebook.cells[0].outputs
    assert [(o.output_type, o.get("name")) for o in outputs] == [("stream", "stdout")], outputs
    assert outputs[0].text == SETUP_LINE + "\n"


def test_versions_lists_full_versions_without_printing(capsys):
    result = _run("import attention_helpers as ah; v = ah.versions(); print(sorted(v)); print(v['backend'])")
    assert result.returncode == 0, result.stderr
    keys, backend = result.stdout.splitlines()
    assert keys == "['backend', 'backend_version', 'keras', 'numpy', 'python']" and backend == "tensorflow"


def test_setup_rejects_bad_seed():
    result = _run("import attention_helpers as ah; ah.setup_notebook(seed=-1)")
    assert result.returncode != 0 and "`seed` must be >= 0. Received: seed=-1" in result.stderr


def test_unknown_attribute_is_an_attribute_error():
    result = _run("import attention_helpers as ah; ah.nope")
    assert "module 'attention_helpers' has no attribute 'nope'" in result.stderr
