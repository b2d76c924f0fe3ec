#!/usr/bin/env python3
"""Train the tiny GPT that notebook 10 ships: a character-level model of US Census surnames.

    python scripts/train_tiny_gpt.py                   # writes attention_helpers/pretrained/
    python scripts/train_tiny_gpt.py --out /tmp/check  # somewhere else, e.g. to compare two runs
    python scripts/train_tiny_gpt.py --steps 500       # a quick run

It builds the model with `ah.gpt.build_gpt()` (the notebook's architecture, default sizes), trains it
on `ah.data.census_names("train")` (71,093 surnames; the split is fixed by name, so the notebook's
test names are never seen) with AdamW, batches of 128 names drawn with the seed, and a learning rate
that decays along a cosine from 3e-3 to 3e-4. Every `--record-every` steps it records the mean
training loss of those steps and the negative log-likelihood per character on the whole validation
split (inference mode, no dropout).

It writes `tiny_gpt_names.keras` (the trained model, under 0.5 MB) and `tiny_gpt_history.json` (the
record, plus the configuration), then prints the run time. Seeded, with TensorFlow's op determinism
on: two runs on the same machine write the same bytes (see `train_sagan_digits.save_reproducibly`).
Then rewrite the model with the oldest supported Keras, weights unchanged, so that Colab's Keras
loads it: `python scripts/resave_pretrained.py --oldest .envs/colab/bin/python`.

Run time: see README ("For maintainers"); about 4 minutes on this project's 2-core machine.
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
sys.path.insert(0, str(ROOT / "scripts"))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import attention_helpers as ah  # noqa: E402
from attention_helpers.pretrained import FILES, FOLDER  # noqa: E402


def train(steps, batch_size, record_every, seed):
    import keras
    import numpy as np
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    train_x, train_y = ah.gpt.encode(ah.data.census_names("train"))
    valid_x, valid_y = ah.gpt.encode(ah.data.census_names("validation"))
    model = ah.gpt.build_gpt()
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=steps, alpha=0.1)
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.01),
        loss=model.loss,
        steps_per_execution=record_every // 10 or 1,
    )
    rng = np.random.default_rng(seed)
    history = {"step": [0], "train_loss": [None],
               "validation_nll": [ah.gpt.negative_log_likelihood(ah.gpt.model_logits(model, valid_x), valid_y)]}
    for start in range(0, steps, record_every):
        chunk = min(record_every, steps - start)
        rows = rng.integers(0, len(train_x), size=chunk * batch_size)
        fit = model.fit(train_x[rows], train_y[rows], batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        validation = ah.gpt.negative_log_likelihood(ah.gpt.model_logits(model, valid_x), valid_y)
        history["step"].append(start + chunk)
        history["train_loss"].append(round(float(fit.history["loss"][-1]), 5))
        history["validation_nll"].append(round(validation, 5))
        print(f"step {start + chunk:5d}: train loss {fit.history['loss'][-1]:.4f}, validation NLL {validation:.4f}",
              flush=True)
    history["validation_nll"][0] = round(history["validation_nll"][0], 5)
    return model, history


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=FOLDER, help="folder to write to")
    parser.add_argument("--steps", type=int, default=6000, help="training steps")
    parser.add_argument("--batch-size", type=int, default=128, help="names per step")
    parser.add_argument("--record-every", type=int, default=250, help="steps between two records")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, the batches and the dropout")
    args = parser.parse_args(argv)
    from train_sagan_digits import save_reproducibly

    started = time.perf_counter()
    model, history = train(args.steps, args.batch_size, args.record_every, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    shipped = ah.gpt.build_gpt()  # the same model without the optimizer's state (3× the weights' size)
    shipped.set_weights(model.get_weights())
    save_reproducibly(shipped, args.out / FILES["tiny_gpt"])
    history["config"] = {"steps": args.steps, "batch_size": args.batch_size, "record_every": args.record_every,
                         "seed": args.seed, "learning_rate": "cosine 3e-3 -> 3e-4", "weight_decay": 0.01,
                         "n_train": len(ah.data.census_names("train"))}
    (args.out / FILES["tiny_gpt_history"]).write_text(json.dumps(history, indent=1) + "\n")
    print(f"wrote {FILES['tiny_gpt']} and {FILES['tiny_gpt_history']} to {args.out} "
          f"in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
