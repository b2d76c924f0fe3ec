#!/usr/bin/env python3
"""Train the attention-only Transformers that notebook 11 ships: one layer and two layers, same budget.

    python scripts/train_induction.py                   # writes attention_helpers/pretrained/
    python scripts/train_induction.py --out /tmp/check  # somewhere else, e.g. to compare two runs
    python scripts/train_induction.py --steps 500       # a quick run

Both models are `ah.circuits.attention_only_transformer(num_layers=...)` (vocabulary 64, context 32,
d_model 64, 2 heads per layer, no MLP, no LayerNorm), trained with Adam at learning rate 1e-2 on the
same stream of fresh sequences from `ah.circuits.repeated_tokens` (a segment of 10 distinct tokens
repeated once, at a distance that varies from row to row), batches of 64, for `--steps` steps.
Every `--record-every` steps it records, on 512 fixed validation sequences (NumPy forward pass
`ah.circuits.forward`): the mean training loss of those steps, the loss and accuracy on the
repeated tokens, each first-layer head's previous-token score and each last-layer head's
induction score.

It writes `induction_1_layer.keras` and `induction_2_layers.keras` (under 0.2 MB each) and
`induction_history.json` (both records, plus the configuration), then prints the run time. Seeded,
with TensorFlow's op determinism on: two runs on the same machine write the same bytes. Then rewrite
the models with the oldest supported Keras, weights unchanged:
`python scripts/resave_pretrained.py --oldest .envs/colab/bin/python`.

Run time: about 4 minutes on one CPU of this project's 2-core machine (both models).
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

LEARNING_RATE = 1e-2
VALIDATION_SEED = 10_000  # the validation sequences; training sequences use seeds below it


def measure(model):
    """Loss and accuracy on the repeated tokens, and the head scores, on the validation sequences."""
    import numpy as np

    data = ah.circuits.repeated_tokens(512, seed=VALIDATION_SEED)
    out = ah.circuits.forward(ah.circuits.circuit_weights(model), data["inputs"])
    loss, accuracy = ah.circuits.repeated_loss_and_accuracy(out["logits"], data)
    previous = ah.circuits.previous_token_score(out["patterns"][0])
    induction = ah.circuits.induction_score(out["patterns"][-1], data["source"])
    return {"repeated_loss": round(loss, 5), "repeated_accuracy": round(accuracy, 5),
            "previous_token_score": np.round(previous, 5).tolist(), "induction_score": np.round(induction, 5).tolist()}


def train(num_layers, steps, batch_size, record_every, seed):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    model = ah.circuits.attention_only_transformer(num_layers=num_layers, learning_rate=LEARNING_RATE)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=model.loss,
                  steps_per_execution=min(record_every, 50))
    history = {"step": [0], "train_loss": [None]}
    for key, value in measure(model).items():
        history[key] = [value]
    for start in range(0, steps, record_every):
        chunk = min(record_every, steps - start)
        data = ah.circuits.repeated_tokens(chunk * batch_size, seed=seed * VALIDATION_SEED + start + 1)
        fit = model.fit(data["inputs"], data["targets"], batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        history["step"].append(start + chunk)
        history["train_loss"].append(round(float(fit.history["loss"][-1]), 5))
        for key, value in measure(model).items():
            history[key].append(value)
        print(f"{num_layers} layer(s), step {start + chunk:5d}: train loss {history['train_loss'][-1]:.3f}, "
              f"repeated tokens: loss {history['repeated_loss'][-1]:.3f}, accuracy "
              f"{history['repeated_accuracy'][-1]:.3f}; induction score {history['induction_score'][-1]}",
              flush=True)
    return model, history


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=FOLDER, help="folder to write to")
    parser.add_argument("--steps", type=int, default=3000, help="training steps, for each model")
    parser.add_argument("--batch-size", type=int, default=64, help="sequences per step")
    parser.add_argument("--record-every", type=int, default=50, help="steps between two records")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the training sequences")
    args = parser.parse_args(argv)
    import keras
    from train_sagan_digits import save_reproducibly

    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    histories = {}
    for num_layers, name in ((1, "induction_1_layer"), (2, "induction_2_layers")):
        model, histories[name] = train(num_layers, args.steps, args.batch_size, args.record_every, args.seed)
        keras.backend.clear_session()
        shipped = ah.circuits.attention_only_transformer(num_layers=num_layers)  # without the optimizer's state
        shipped.set_weights(model.get_weights())
        save_reproducibly(shipped, args.out / FILES[name])
    histories["config"] = {"steps": args.steps, "batch_size": args.batch_size, "record_every": args.record_every,
                           "seed": args.seed, "learning_rate": LEARNING_RATE, "optimizer": "Adam",
                           "vocab_size": ah.circuits.VOCAB_SIZE, "context": ah.circuits.CONTEXT,
                           "segment": ah.circuits.SEGMENT, "d_model": 64, "num_heads": 2,
                           "validation": {"sequences": 512, "seed": VALIDATION_SEED}}
    (args.out / FILES["induction_history"]).write_text(json.dumps(histories, indent=1) + "\n")
    print(f"wrote {FILES['induction_1_layer']}, {FILES['induction_2_layers']} and {FILES['induction_history']} "
          f"to {args.out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
