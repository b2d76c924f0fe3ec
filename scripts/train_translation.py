#!/usr/bin/env python3
"""Train notebook 09's two translators: English number words to German number words.

    python scripts/train_translation.py                   # both models, written to attention_helpers/pretrained/
    python scripts/train_translation.py --out /tmp/check  # somewhere else
    python scripts/train_translation.py --models bahdanau --epochs 2   # a quick run of one model

It builds the Transformer with `ah.seq2seq.build_translator()` and the Bahdanau model with
`ah.seq2seq.build_bahdanau()` (the notebook's architectures, default sizes) and trains each with
teacher forcing on the numbers of `ah.data.number_split("train")` (8,001 of 1-9999; the 999 test
numbers are never seen), batches of 64 in an order drawn with the seed, Adam with a learning rate
that decays along a cosine, for 12 epochs (the Transformer) and 16 (Bahdanau's model). After every
epoch it records the mean training loss and the greedy exact match on the validation numbers.

It writes `translator_numbers.keras` and `bahdanau_numbers.keras` (the trained models, under 1 MB
each) and `translation_history.json` (the records, the test figures and the configuration), then
prints the run time. Seeded, with TensorFlow's op determinism on. Then rewrite the models with the
oldest supported Keras, weights unchanged, so that Colab's Keras loads them:
`python scripts/resave_pretrained.py --oldest .envs/colab/bin/python`.

Run time: about 7 minutes per model on one CPU of this project's 2-core machine (420 s and 400 s,
with other work on that CPU).
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

BUILDERS = {"translator": "build_translator", "bahdanau": "build_bahdanau"}
DEFAULT_EPOCHS = {"translator": 12, "bahdanau": 16}  # what the shipped models were trained for


def evaluate(model, numbers):
    """Greedy exact match and character accuracy, and the teacher-forced alignment accuracy (heads averaged)."""
    import numpy as np

    seq = ah.seq2seq
    source = seq.encode_source(numbers)
    tokens, _ = seq.greedy_decode(model, source)
    words = seq.decode_target(tokens)
    decoder_inputs, _ = seq.encode_target(numbers)
    _, weights = seq.with_cross_attention(model).predict_on_batch([source, decoder_inputs])
    weights = np.asarray(weights)
    averaged = weights.mean(axis=1) if weights.ndim == 4 else weights
    return {"exact_match": round(seq.exact_match(words, numbers), 5),
            "character_accuracy": round(seq.character_accuracy(words, numbers), 5),
            "alignment_accuracy": round(seq.alignment_accuracy(averaged, numbers), 5)}


def train(name, epochs, batch_size, learning_rate, seed):
    import keras
    import numpy as np
    import tensorflow as tf

    seq = ah.seq2seq
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    numbers = ah.data.number_split("train")
    source = seq.encode_source(numbers)
    decoder_inputs, targets = seq.encode_target(numbers)
    validation = ah.data.number_split("validation")
    model = getattr(seq, BUILDERS[name])()
    steps = epochs * (len(numbers) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=model.loss)
    rng = np.random.default_rng(seed)
    history = {"epoch": [], "train_loss": [], "validation_exact_match": []}
    for epoch in range(1, epochs + 1):
        rows = rng.permutation(len(numbers))[: (len(numbers) // batch_size) * batch_size]
        fit = model.fit([source[rows], decoder_inputs[rows]], targets[rows], batch_size=batch_size, epochs=1,
                        shuffle=False, verbose=0)
        figures = evaluate(model, validation)
        history["epoch"].append(epoch)
        history["train_loss"].append(round(float(fit.history["loss"][-1]), 5))
        history["validation_exact_match"].append(figures["exact_match"])
        print(f"{name} epoch {epoch:3d}: train loss {fit.history['loss'][-1]:.4f}, validation {figures}", flush=True)
    history["test"] = evaluate(model, ah.data.number_split("test"))
    print(f"{name} test: {history['test']}", flush=True)
    return model, history


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=FOLDER, help="folder to write to")
    parser.add_argument("--models", nargs="+", choices=sorted(BUILDERS), default=["translator", "bahdanau"])
    parser.add_argument("--epochs", type=int, default=None,
                        help="passes over the 8,001 training numbers (default: 12, Transformer; 16, Bahdanau)")
    parser.add_argument("--batch-size", type=int, default=64, help="numbers per step")
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="at the start of the cosine decay")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the batches")
    args = parser.parse_args(argv)
    from train_sagan_digits import save_reproducibly

    args.out.mkdir(parents=True, exist_ok=True)
    record_path = args.out / FILES["translation_history"]
    records = json.loads(record_path.read_text()) if record_path.exists() else {}
    for name in args.models:
        started = time.perf_counter()
        epochs = args.epochs or DEFAULT_EPOCHS[name]
        model, history = train(name, epochs, args.batch_size, args.learning_rate, args.seed)
        shipped = getattr(ah.seq2seq, BUILDERS[name])()  # the same model without the optimizer's state
        shipped.set_weights(model.get_weights())
        save_reproducibly(shipped, args.out / FILES[name])
        history["seconds"] = round(time.perf_counter() - started)
        history["config"] = {"epochs": epochs, "batch_size": args.batch_size, "seed": args.seed,
                             "learning_rate": f"cosine {args.learning_rate} -> {args.learning_rate * 0.05:.2g}",
                             "n_train": len(ah.data.number_split("train"))}
        records[name] = history
        record_path.write_text(json.dumps(records, indent=1) + "\n")
        print(f"wrote {FILES[name]} and {FILES['translation_history']} to {args.out} in {history['seconds']} s",
              flush=True)


if __name__ == "__main__":
    main()
