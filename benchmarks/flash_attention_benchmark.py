#!/usr/bin/env python3
"""Naive attention against tiled (FlashAttention-style) attention and Keras's fused op, as T grows.

Four ways to compute softmax(q kᵀ / √d) v for one sequence of T steps, head size 64, no mask:

    naive    `reference.attention`: NumPy, materialises the (T, T) scores and weights
    tiled    `reference.flash_attention`: NumPy, blocks of --block-size keys, never (T, T)
    keras    `keras.ops.dot_product_attention` with the backend's default implementation
    flash    the same with `flash_attention=True`, where the backend has such a kernel

The NumPy paths run in float64 (the reference's precision), the Keras ones in --dtype, compiled
with the backend's compiler (`jax.jit`, `tf.function(jit_compile=True)`). Printed per T: the
median wall time of --repeats calls after one warm-up, as a ratio to naive (naive's own time in
ms beside it), and the peak memory of one call: `tracemalloc` for the NumPy paths; for Keras under
JAX, XLA's own count of the compiled call's temporaries and output (TensorFlow's allocator is
invisible to `tracemalloc`, so "n/a" there). A kernel the backend lacks prints "not supported".

    python benchmarks/flash_attention_benchmark.py                      # CPU, TensorFlow
    KERAS_BACKEND=jax python benchmarks/flash_attention_benchmark.py --dtype bfloat16 \\
        --lengths 1024 4096 16384 --repeats 20                          # GPU (cuDNN flash needs 16 bits)

It is a measurement, not a test: no test depends on its timings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc

import numpy as np

HEAD_DIM = 64  # d: features per query, key and value


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {text!r}")
    return value


def median_seconds(function, repeats):
    """Median wall time of `repeats` calls after one warm-up call (which also compiles)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def tracemalloc_peak_mb(function):
    """Peak bytes allocated through Python's allocators (NumPy's included) during one call."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def keras_path(q, k, v, flash_attention):
    """`(call, peak_mb)`: a compiled call of `keras.ops.dot_product_attention` that waits for its
    result, and its peak memory in MB where the backend can say (else None). Raises if the
    backend has no such kernel."""
    import keras

    def attend(q, k, v):
        return keras.ops.dot_product_attention(q, k, v, flash_attention=flash_attention)

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        compiled = jax.jit(attend).lower(q, k, v).compile()
        analysis = compiled.memory_analysis()
        peak_mb = None
        if analysis is not None:
            peak_mb = (analysis.temp_size_in_bytes + analysis.output_size_in_bytes) / 2**20
        return (lambda: compiled(q, k, v).block_until_ready()), peak_mb
    if backend == "tensorflow":
        import tensorflow as tf

        compiled = tf.function(attend, jit_compile=True)
    else:
        compiled = attend
    compiled(q, k, v)  # fails here if the backend has no such kernel
    return (lambda: keras.ops.convert_to_numpy(compiled(q, k, v))), None


def device_name():
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return f"{jax.devices()[0].platform} ({jax.devices()[0].device_kind})"
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
    return "?"


def measure(steps, block_size, repeats, dtype, rng):
    """`(seconds, peak_mb)` for T = `steps`, each a dict over the four paths. A path the backend
    lacks has the reason as its time and None as its memory."""
    import keras

    from attention_helpers import reference

    q, k, v = rng.normal(size=(3, steps, HEAD_DIM))  # (T, d) each, float64

    def naive():
        return reference.attention(q, k, v, score="scaled_dot")

    def tiled():
        return reference.flash_attention(q, k, v, block_size)

    seconds = {"naive": median_seconds(naive, repeats), "tiled": median_seconds(tiled, repeats)}
    peak_mb = {"naive": tracemalloc_peak_mb(naive), "tiled": tracemalloc_peak_mb(tiled)}
    q4, k4, v4 = (keras.ops.cast(x[None, :, None, :], dtype) for x in (q, k, v))  # (1, T, 1, d)
    for name, flash in (("keras", None), ("flash", True)):
        try:
            call, peak_mb[name] = keras_path(q4, k4, v4, flash)
            seconds[name] = median_seconds(call, repeats)
        except Exception as error:  # a backend without the kernel: a result, not a failure
            seconds[name], peak_mb[name] = f"not supported ({type(error).__name__})", None
    return seconds, peak_mb


COLUMNS = (  # (heading, width)
    ("T", 6),
    ("naive ms", 9),
    ("tiled/naive", 11),
    ("keras/naive", 11),
    ("flash/naive", 28),
    ("naive MB", 9),
    ("tiled MB", 9),
    ("keras MB", 9),
    ("flash MB", 9),
)


def table_row(cells):
    return " | ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, COLUMNS))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=positive_int, nargs="+", default=[256, 512, 1024, 2048], help="values of T")
    parser.add_argument("--block-size", type=positive_int, default=128, help="keys per block of the tiled path")
    parser.add_argument("--repeats", type=positive_int, default=5, help="timed calls per path (median reported)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"], help="Keras paths")
    args = parser.parse_args(argv)

    import keras

    print(
        f"backend {keras.backend.backend()} | device {device_name()} | d={HEAD_DIM} | block {args.block_size} | "
        f"NumPy float64, Keras {args.dtype} | median of {args.repeats}"
    )
    print(table_row([heading for heading, _ in COLUMNS]))
    print(table_row(["-" * width for _, width in COLUMNS]))
    rng = np.random.default_rng(0)
    for steps in args.lengths:
        seconds, peak_mb = measure(steps, args.block_size, args.repeats, args.dtype, rng)
        ratios = [
            f"{seconds[name] / seconds['naive']:.2f}" if isinstance(seconds[name], float) else seconds[name]
            for name in ("tiled", "keras", "flash")
        ]
        memory = [
            "n/a" if peak_mb[name] is None else f"{peak_mb[name]:.1f}" for name in ("naive", "tiled", "keras", "flash")
        ]
        print(table_row([steps, f"{seconds['naive'] * 1e3:.1f}", *ratios, *memory]))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
