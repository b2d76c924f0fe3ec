#!/usr/bin/env python3
"""Rewrite the shipped `.keras` files with the oldest Keras the package supports, weights unchanged.

Keras reads `.keras` files written by an older Keras, not always those of a newer one: Keras 3.15
writes configuration keys (`input_axes` in initializers, `renorm` in BatchNormalization, ...) that
Keras 3.13 rejects. So the files in `attention_helpers/pretrained/` are written by the oldest Keras
that `pyproject.toml` allows, the one of the `colab` profile, and load with every supported Keras.
After `scripts/train_sagan_digits.py`, `scripts/train_translation.py`, `scripts/train_tiny_gpt.py` or
`scripts/train_induction.py` (which write with the Keras that runs them), run

    python scripts/run_in_env.py colab notebooks/00_attention_essence.ipynb   # builds .envs/colab once
    python scripts/resave_pretrained.py --oldest .envs/colab/bin/python

It reads every model's weights here (`get_weights`, in order) into a temporary `.npz`, then runs
itself with the oldest Keras's Python (`--write`), which builds each model with the package's own
builder (`attention_helpers.gan`, `attention_helpers.gpt`, `attention_helpers.seq2seq`,
`attention_helpers.circuits`), checks that its layer classes are the ones the file records, sets the
weights and saves the model with the training script's `save_reproducibly`. The names of unnamed
layers may differ from the old file's (Keras numbers them in the order models are built); the
weights, the named layers and the architecture do not. Finally it checks, here, that the new
files load and hold exactly the old weights.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

MODELS = ("generator", "generator_without_attention", "discriminator", "classifier", "tiny_gpt", "translator",
          "bahdanau", "induction_1_layer", "induction_2_layers")


def build(name):
    import attention_helpers as ah

    builders = {
        "generator": lambda: ah.gan.build_generator(attention=True),
        "generator_without_attention": lambda: ah.gan.build_generator(attention=False),
        "discriminator": lambda: ah.gan.build_discriminator(attention=True),
        "classifier": ah.gan.build_classifier,
        "tiny_gpt": ah.gpt.build_gpt,
        "induction_1_layer": lambda: ah.circuits.attention_only_transformer(num_layers=1),
        "induction_2_layers": lambda: ah.circuits.attention_only_transformer(num_layers=2),
        "translator": ah.seq2seq.build_translator,
        "bahdanau": ah.seq2seq.build_bahdanau,
    }
    return builders[name]()


def recorded_layer_classes(path):
    """The layer classes in the file's config.json, read as plain JSON."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    return [layer["class_name"] for layer in config["config"]["layers"]]


def read_weights():
    """Every shipped model's weights, loaded with this Keras: {name: [arrays]}."""
    from attention_helpers.pretrained import _load

    return {name: _load(name).get_weights() for name in MODELS}


def write(weights_file):
    """Run by the oldest Keras: rebuild each model, set its weights, save it."""
    import keras
    import numpy as np
    from train_sagan_digits import save_reproducibly

    from attention_helpers.pretrained import FILES, FOLDER

    stored = np.load(weights_file)
    for name in MODELS:
        path = FOLDER / FILES[name]
        keras.backend.clear_session()
        model = build(name)
        # From the config, as the file records them: operations such as `x + y` are entries there too.
        classes = [layer["class_name"] for layer in model.get_config()["layers"]]
        recorded = recorded_layer_classes(path)
        if classes != recorded:
            raise SystemExit(f"{path.name}: the builder's layers {classes} are not the file's {recorded}")
        count = len(model.get_weights())
        model.set_weights([stored[f"{name}/{i}"] for i in range(count)])
        save_reproducibly(model, path)
        print(f"{path.name}: rewritten with Keras {keras.__version__}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--oldest", type=Path, help="the Python of an environment with the oldest supported Keras")
    parser.add_argument("--write", type=Path, help=argparse.SUPPRESS)  # internal: run by --oldest's Python
    args = parser.parse_args(argv)
    if args.write:
        write(args.write)
        return
    if args.oldest is None:
        parser.error("--oldest PYTHON is required (for example .envs/colab/bin/python)")
    import numpy as np

    before = read_weights()
    with tempfile.TemporaryDirectory() as tmp:
        weights_file = Path(tmp) / "weights.npz"
        np.savez(weights_file, **{f"{name}/{i}": w for name, ws in before.items() for i, w in enumerate(ws)})
        subprocess.run([str(args.oldest), __file__, "--write", str(weights_file)], check=True)
    after = read_weights()
    for name in MODELS:
        same = len(before[name]) == len(after[name]) and all(
            np.array_equal(a, b) for a, b in zip(before[name], after[name])
        )
        if not same:
            raise SystemExit(f"{name}: the rewritten file does not hold the same weights")
    print("every rewritten file loads here with exactly the weights it had")


if __name__ == "__main__":
    main()
