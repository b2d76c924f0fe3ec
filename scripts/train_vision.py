#!/usr/bin/env python3
"""Measure what notebook 13 reports from trainings too many for a notebook, over several seeds.

    python scripts/train_vision.py                        # writes attention_helpers/pretrained/vision_results.json
    python scripts/train_vision.py --seeds 0 1 --out /tmp/check

Every run trains on the first n images of `ah.data.digits(16, seed=seed)` and is tested on its last
397 (so the seed sets the split as well as the initial weights and the batch order), with batches of
50 and Adam with cosine decay over 336 steps (12 epochs of 1,400 images):

1. Data size: `ah.vision.build_vit()` (patch 4, learned positions, 18.6k weights) and
   `ah.vision.build_cnn()` (18.5k weights) on 350, 700 and 1,400 images, the same 336 steps each
   (48, 24 and 12 epochs); logistic regression on the raw pixels (scikit-learn, the same images).
2. Positions: the ViT without position embeddings at patch 2, 4 and 8, and with them at patch 2
   and 8 (patch 4 is run 1's); time per epoch for each patch size (median of epochs 2-12, the first
   epoch traces the step).
3. Shifts: the ViT with positions trained on images moved sideways by up to `SHIFT` pixels (new
   shifts every epoch), tested unshifted; how grid-like its position embeddings are
   (`ah.vision.grid_agreement`) against the runs of 1.

It writes `vision_results.json` (figures, each run's position-similarity matrix for the first seed,
the configuration) and prints its run time (about 30 minutes on this shared 2-core machine).
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

import numpy as np  # noqa: E402

import attention_helpers as ah  # noqa: E402
from attention_helpers.pretrained import FILES, FOLDER  # noqa: E402

N_TEST, BATCH, STEPS = 397, 50, 336  # test images, batch size, training steps of every run
SIZES = (350, 700, 1400)
SHIFT = 2  # pixels, sideways, for the shift-trained runs


def split(seed, n):
    images, labels = ah.data.digits(16, seed=seed)
    return images[:n], labels[:n], images[-N_TEST:], labels[-N_TEST:]


class EpochTimes:
    """A Keras callback that records the wall time of each epoch."""

    def __new__(cls):
        import keras

        class Callback(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.seconds = []

            def on_epoch_begin(self, epoch, logs=None):
                self.started = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self.started)

        return Callback()


def accuracy(model, images, labels):
    import keras

    return round(float((keras.ops.convert_to_numpy(model(images)).argmax(axis=1) == labels).mean()), 4)


def train(build, seed, n, shift=False, **kwargs):
    """(model, test accuracy, seconds per epoch after the first) of one run."""
    import keras

    x, y, test_x, test_y = split(seed, n)
    epochs = STEPS * BATCH // n
    keras.utils.set_random_seed(seed)
    model = build(decay_steps=STEPS, **kwargs)
    times = EpochTimes()
    if shift:  # new shifts every epoch; the compiled step is kept between the calls of fit
        for epoch in range(epochs):
            moved = ah.vision.shift_images(x, SHIFT, seed=1000 * seed + epoch, vertical=False)
            model.fit(moved, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[times])
    else:
        model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[times])
    return model, accuracy(model, test_x, test_y), float(np.median(times.seconds[1:]))


def position_figures(model):
    import keras

    table = keras.ops.convert_to_numpy(model.get_layer("position_embedding").embeddings)[1:]  # patches only
    similarity = ah.vision.position_similarity(table)
    correlation, share = ah.vision.grid_agreement(similarity)
    return {"grid_correlation": round(correlation, 4), "neighbour_share": round(share, 4)}, similarity


def logistic_regression(seed, n):
    return round(ah.vision.logistic_regression_accuracy(*split(seed, n)), 4)


def run_seed(seed):
    result = {"data_size": {}, "patches": {}, "shifted": {}}
    similarities = {}
    for n in SIZES:
        vit, vit_accuracy, vit_seconds = train(ah.vision.build_vit, seed, n)
        _, cnn_accuracy, _ = train(ah.vision.build_cnn, seed, n)
        result["data_size"][str(n)] = {"vit": vit_accuracy, "cnn": cnn_accuracy,
                                       "logistic_regression": logistic_regression(seed, n)}
        print(f"seed {seed} n {n}: {result['data_size'][str(n)]}", flush=True)
    result["positions"], similarities["trained"] = position_figures(vit)
    for patch in (2, 4, 8):
        figures = {}
        for positions in (True, False):
            if patch == 4 and positions:
                figures["with_positions"] = result["data_size"]["1400"]["vit"]
                figures["seconds_per_epoch"] = round(vit_seconds, 4)
                figures["parameters"] = vit.count_params()
                continue
            model, figure, seconds = train(ah.vision.build_vit, seed, SIZES[-1], patch_size=patch, positions=positions)
            figures["with_positions" if positions else "without_positions"] = figure
            if positions:
                figures["seconds_per_epoch"] = round(seconds, 4)
                figures["parameters"] = model.count_params()
        result["patches"][str(patch)] = figures
        print(f"seed {seed} patch {patch}: {figures}", flush=True)
    model, shifted_accuracy, _ = train(ah.vision.build_vit, seed, SIZES[-1], shift=True)
    result["shifted"], similarities["shifted"] = position_figures(model)
    result["shifted"]["accuracy"] = shifted_accuracy
    print(f"seed {seed} positions {result['positions']} shifted {result['shifted']}", flush=True)
    return result, similarities


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=FOLDER)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    runs, similarity = {}, None
    for seed in args.seeds:
        runs[str(seed)], similarities = run_seed(seed)
        if similarity is None:
            similarity = {key: np.round(value, 4).tolist() for key, value in similarities.items()}
    figures = {
        "runs": runs,
        "similarity": similarity,  # the first seed's (16, 16) position similarities, trained and shift-trained
        "config": {"seeds": args.seeds, "sizes": list(SIZES), "n_test": N_TEST, "batch_size": BATCH, "steps": STEPS,
                   "shift": SHIFT, "similarity_seed": args.seeds[0], "seconds": round(time.perf_counter() - started)},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / FILES["vision"]).write_text(json.dumps(figures, indent=1) + "\n")
    print(f"wrote {args.out / FILES['vision']} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
