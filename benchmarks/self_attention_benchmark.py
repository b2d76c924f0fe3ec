#!/usr/bin/env python3
"""Time SelfAttention2D's attention (fused `keras.ops.dot_product_attention`) against a plain
implementation that materialises the (H·W × H·W) scores, on this machine's CPU or GPU.

Run on any backend; for GPU numbers use JAX (TensorFlow is not needed):

    KERAS_BACKEND=jax python benchmarks/self_attention_benchmark.py --dtype bfloat16 \\
        --config 64x64x256x32 --config 128x128x128x8
    python benchmarks/self_attention_benchmark.py --config 16x16x64x16 --config 32x32x64x4   # CPU, small

A config is HxWxCxBATCH. Queries and keys have C/8 channels and values C (SAGAN's layout), one
head. Printed per config: milliseconds per call (median of --repeats after --warmup calls) for
both paths, the speed-up, the effective TFLOP/s (2·B·N·N·(C/8 + C) flops for QKᵀ and βV), and
the peak device memory where the backend reports it (else the process's peak RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np


def parse_config(text):
    try:
        height, width, channels, batch = (int(part) for part in text.lower().split("x"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"config must be HxWxCxBATCH, e.g. 64x64x256x32. Received: {text!r}"
        ) from error
    if channels % 8:
        raise argparse.ArgumentTypeError(f"channels must be a multiple of 8 (keys use C/8). Received: C={channels}")
    return height, width, channels, batch


def compile_fn(fn):
    """The backend's compiler, so both paths are measured as a user would run them in a model."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.jit(fn)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    return fn


def block(value):
    import keras

    if keras.backend.backend() == "jax":
        value.block_until_ready()
    else:
        keras.ops.convert_to_numpy(value.ravel()[:1] if hasattr(value, "ravel") else value)
    return value


def peak_memory_mb():
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            stats = jax.devices()[0].memory_stats() or {}
            if "peak_bytes_in_use" in stats:
                return stats["peak_bytes_in_use"] / 2**20, f"{jax.devices()[0].platform} peak"
        if backend == "tensorflow":
            import tensorflow as tf

            if tf.config.list_physical_devices("GPU"):
                return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20, "gpu peak"
        if backend == "torch":
            import torch

            if torch.cuda.is_available():
                return torch.cuda.max_memory_allocated() / 2**20, "cuda peak"
    except Exception:  # memory statistics are best effort; timing does not depend on them
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "process peak RSS"


def reset_peak():
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            tf.config.experimental.reset_memory_stats("GPU:0")
    elif keras.backend.backend() == "torch":
        import torch

        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()


def time_fn(fn, args, warmup, repeats):
    for _ in range(warmup):
        block(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        block(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=parse_config, action="append", help="HxWxCxBATCH (repeatable)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    configs = args.config or [(16, 16, 64, 16), (32, 32, 64, 4)]

    import keras
    from keras import ops

    from attention_helpers.layers.self_attention_2d import fused_attention as fused  # what SelfAttention2D calls

    def plain(q, k, v):
        scores = ops.einsum("bqhd,bkhd->bhqk", q, k)  # (batch, heads, N, N): materialised
        beta = ops.softmax(scores, axis=-1)
        return ops.einsum("bhqk,bkhd->bqhd", beta, v)

    fused_c, plain_c = compile_fn(fused), compile_fn(plain)
    device = "cpu"
    if keras.backend.backend() == "jax":
        import jax

        device = str(jax.devices()[0].device_kind)
    print(
        f"backend {keras.backend.backend()} | device {device} | dtype {args.dtype} | "
        f"median of {args.repeats} after {args.warmup} warm-up calls"
    )
    results = []
    rng = np.random.default_rng(0)
    for height, width, channels, batch in configs:
        positions, key_channels = height * width, channels // 8
        q, k = (ops.cast(rng.normal(size=(batch, positions, 1, key_channels)) * 0.3, args.dtype) for _ in range(2))
        v = ops.cast(rng.normal(size=(batch, positions, 1, channels)), args.dtype)
        flops = 2 * batch * positions * positions * (key_channels + channels)
        row = {
            "config": f"{height}x{width}x{channels}x{batch}",
            "dtype": args.dtype,
            "backend": keras.backend.backend(),
            "device": device,
        }
        for name, fn in (("fused", fused_c), ("plain", plain_c)):
            reset_peak()
            try:
                seconds = time_fn(fn, (q, k, v), args.warmup, args.repeats)
            except Exception as error:  # out of memory for the plain path is a result too
                row[name] = {"error": f"{type(error).__name__}: {str(error)[:120]}"}
                continue
            memory, memory_kind = peak_memory_mb()
            row[name] = {
                "ms": seconds * 1e3,
                "tflops": flops / seconds / 1e12,
                "peak_mb": memory,
                "memory_kind": memory_kind,
            }
        if "ms" in row["fused"] and "ms" in row["plain"]:
            row["speedup"] = row["plain"]["ms"] / row["fused"]["ms"]
            fused_r, plain_r = row["fused"], row["plain"]
            print(
                f"{row['config']:>16s}: fused {fused_r['ms']:8.2f} ms ({fused_r['tflops']:7.3f} TFLOP/s, "
                f"{fused_r['peak_mb']:8.0f} MB {fused_r['memory_kind']}) | plain {plain_r['ms']:8.2f} ms "
                f"({plain_r['tflops']:7.3f} TFLOP/s, {plain_r['peak_mb']:8.0f} MB) | speed-up {row['speedup']:.2f}x"
            )
        else:
            print(f"{row['config']:>16s}: {row}")
        results.append(row)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
