#!/usr/bin/env python3
"""Measure what notebook 12 reports from training runs too long for a notebook, over several seeds.

    python scripts/measure_attention_at_scale.py                    # writes attention_helpers/pretrained/
    python scripts/measure_attention_at_scale.py --seeds 0 1 --out /tmp/check

Two experiments, each trained with every seed (the seed sets the initial weights, the data and the
batch order; nothing else changes between runs):

1. Grouped key/value heads: notebook 10's GPT (`ah.gpt.build_gpt`, 4 query heads, d_model 64, two
   blocks) with 4 (plain multi-head attention), 2 (grouped-query) and 1 (multi-query) key/value
   heads, trained on the census surnames for `--gqa-steps` steps of 64 names; reported: the
   validation NLL per character and the KV cache's bytes per token.
2. Length generalisation: `ah.models.lookback_model`, one causal attention layer, on a task that needs a relative
   position (the target at position i is the token at position i - 3, tokens drawn uniformly from
   16), trained on sequences of 32 tokens with no positions, learned positions
   (`PositionEmbedding(64)`: the positions 32-63 are never trained), sinusoidal positions added to
   the input, or rotary positions on queries and keys (`MultiHeadAttention(rotary=True)`); tested on
   sequences of 64 tokens; reported: the accuracy at positions 3-31 (seen lengths) and 32-63.

It writes `attention_at_scale.json` (figures and configuration) and prints the run time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import attention_helpers as ah  # noqa: E402
from attention_helpers.pretrained import FILES, FOLDER  # noqa: E402

LOOKBACK, VOCAB, TRAIN_LENGTH, TEST_LENGTH = 3, 16, 32, 64


def length_generalisation(seed, steps):
    import keras

    results = {}
    test_tokens, test_targets = ah.data.lookback_task(1000, TEST_LENGTH, LOOKBACK, VOCAB, seed=10_000 + seed)
    for positions in ah.models.LOOKBACK_POSITIONS:
        keras.utils.set_random_seed(seed)
        model = ah.models.lookback_model(positions, VOCAB, TEST_LENGTH)
        tokens, targets = ah.data.lookback_task(steps * 64, TRAIN_LENGTH, LOOKBACK, VOCAB, seed=seed)
        model.fit(tokens, targets, batch_size=64, epochs=1, shuffle=False, verbose=0)
        predicted = keras.ops.convert_to_numpy(model(test_tokens)).argmax(axis=-1)
        right = predicted == test_targets
        results[positions] = {"seen": round(float(right[:, LOOKBACK:TRAIN_LENGTH].mean()), 4),
                              "unseen": round(float(right[:, TRAIN_LENGTH:].mean()), 4)}
        print(f"seed {seed} {positions:10s} {results[positions]}", flush=True)
    return results


def grouped_heads(seed, steps, kv_heads):
    import keras
    import numpy as np

    train_x, train_y = ah.gpt.encode(ah.data.census_names("train"))
    valid_x, valid_y = ah.gpt.encode(ah.data.census_names("validation"))
    results = {}
    for kv in kv_heads:
        keras.utils.set_random_seed(seed)
        model = ah.gpt.build_gpt(num_key_value_heads=kv)
        model.compile(optimizer=model.optimizer, loss=model.loss, steps_per_execution=50)
        rows = np.random.default_rng(seed).integers(0, len(train_x), size=steps * 64)
        model.fit(train_x[rows], train_y[rows], batch_size=64, epochs=1, shuffle=False, verbose=0)
        nll = ah.gpt.model_nll(model, valid_x, valid_y)
        results[str(kv)] = {"validation_nll": round(nll, 4), "parameters": model.count_params(),
                            "cache_bytes_per_token": 2 * 2 * kv * 16 * 4}
        print(f"seed {seed} kv heads {kv}: {results[str(kv)]}", flush=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=FOLDER)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--gqa-steps", type=int, default=1000)
    parser.add_argument("--length-steps", type=int, default=1500)
    args = parser.parse_args(argv)
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    started = time.perf_counter()
    figures = {"length_generalisation": {}, "grouped_heads": {}}
    for seed in args.seeds:
        figures["length_generalisation"][str(seed)] = length_generalisation(seed, args.length_steps)
    for seed in args.seeds:
        figures["grouped_heads"][str(seed)] = grouped_heads(seed, args.gqa_steps, (4, 2, 1))
    figures["config"] = {
        "seeds": args.seeds, "gqa_steps": args.gqa_steps, "length_steps": args.length_steps, "batch_size": 64,
        "lookback": LOOKBACK, "vocab": VOCAB, "train_length": TRAIN_LENGTH, "test_length": TEST_LENGTH,
        "query_heads": 4, "kv_heads": [4, 2, 1], "seconds": round(time.perf_counter() - started),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / FILES["attention_at_scale"]).write_text(json.dumps(figures, indent=1) + "\n")
    print(f"wrote {FILES['attention_at_scale']} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
