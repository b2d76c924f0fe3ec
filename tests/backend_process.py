"""Run a `tests.*` module in a fresh Python process under another Keras backend or device set-up.

A fresh process because Keras picks its backend, and JAX and TensorFlow their devices, once, at
import: what one test sets up there must not leak into the others.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BACKENDS_DIR = ROOT / ".backends"  # filled by the README's test command from requirements-backends.txt


def require_backend(backend):
    """Skip the calling test if `backend` is neither TensorFlow (the notebooks') nor in .backends/."""
    if backend != "tensorflow" and not (BACKENDS_DIR / backend).is_dir():
        pytest.skip(f"{backend} is not installed in {BACKENDS_DIR.name}/: run the README's test command")


def run_module(module, args, backend, env=None):
    """`python -m module *args` with KERAS_BACKEND=backend and `env` added; fail with its stderr."""
    require_backend(backend)
    python_path = os.environ.get("PYTHONPATH")
    if backend != "tensorflow":  # the other backends come from .backends, out of the notebooks' environment
        python_path = os.pathsep.join(filter(None, [str(BACKENDS_DIR), python_path]))
    full_env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu", **(env or {})}
    if python_path:
        full_env["PYTHONPATH"] = python_path
    result = subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
