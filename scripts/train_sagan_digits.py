#!/usr/bin/env python3
"""Train the weights that notebook 07 ships: a small SAGAN on 16×16 digits, its ablation, a classifier.

    python scripts/train_sagan_digits.py                   # writes attention_helpers/pretrained/
    python scripts/train_sagan_digits.py --out /tmp/check  # somewhere else, e.g. to compare two runs
    python scripts/train_sagan_digits.py --extra-seeds 1 2 # run-to-run variance: sagan_digits_seeds.json

It trains, with the builders, hinge losses and TTUR optimizers of `attention_helpers.gan`:

- the GAN with a self-attention block in the generator (16×16) and in the discriminator (8×8);
- the same GAN without both blocks, same data, seed, batch size and number of steps (the ablation);
- the digit classifier that judges samples in the notebook.

It writes `sagan_digits_generator.keras`, `sagan_digits_discriminator.keras`,
`sagan_digits_generator_without_attention.keras`, `digits_classifier.keras` and
`sagan_digits_history.json` (γ of both attention blocks and both losses over training), then
prints the run time. Everything is seeded and TensorFlow's op determinism is on, so two runs on
the same machine write the same bytes: the .keras files are rewritten without the save date, with
fixed zip timestamps, and with Keras's `shared_object_id` (a Python `id()`, different in every
process) renumbered 1, 2, ...

Keras reads files written by an older Keras, not always those of a newer one, so the shipped files
are then rewritten, weights unchanged, with the oldest Keras the package supports (the `colab`
profile's): `python scripts/resave_pretrained.py --oldest .envs/colab/bin/python`.

With `--extra-seeds`, it trains nothing it ships: it trains both GANs again with each extra seed
(everything else the same: data, steps, batch size, learning rates), judges every generator (the
shipped seed-0 ones, read from `--out`, and the extra ones) with the shipped classifier on the
same 2,000 noise vectors, and writes `sagan_digits_seeds.json`: for each variant and training seed,
the classifier's figures (`ah.gan.classifier_figures`) and the final γ of both attention blocks.
The extra runs' weights are not saved. That file measures what one training run per variant
cannot: how much the figures change from one training run to the next.

Run time: 515 s and 580 s (wall) for two runs on this project's 2-core machine while it was shared
with other jobs, about 7 minutes of CPU time each; most of it is the GAN with attention.
`--extra-seeds 1 2` took 1,021 s (wall, under `nice`, on the same shared machine): 486 s and 343 s
for the GAN with attention, 82 s and 95 s without.

Why the discriminator's last Dense has no spectral normalisation: in prototype runs (noise of length
32 and 64 channels in the discriminator's second convolution, otherwise these networks; samples
judged by a prototype of the classifier), with it the discriminator's hinge loss stayed near 1.9
(2 is what a discriminator that cannot tell real from fake gets) and 59% of 500 samples were
confidently classified after 4,000 steps; without it, the loss settled near 1.3 and 63% were after
2,000 steps.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import attention_helpers as ah  # noqa: E402

SEED = 0  # seeds Python, NumPy and Keras, the initial weights, the noise and the order of the batches
STEPS = 4000  # GAN training steps (one discriminator and one generator update each)
RECORD_EVERY = 25  # steps between two records of gamma and the losses
N_TRAIN = 1500  # the first 1,500 digits (scikit-learn's order) train both; the last 297 are held out
CLASSIFIER_EPOCHS = 20
N_JUDGE = 2000  # generated digits per generator in sagan_digits_seeds.json
JUDGE_SEED = 12345  # the noise they are drawn from, the same for every generator


def save_reproducibly(model, path):
    """`model.save(path)`, then rewrite the archive so that the same model gives the same bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / path.name
        model.save(raw)
        with zipfile.ZipFile(raw) as source:
            entries = {info.filename: source.read(info.filename) for info in source.infolist()}
    metadata = json.loads(entries["metadata.json"])
    metadata.pop("date_saved", None)
    entries["metadata.json"] = json.dumps(metadata).encode()
    ids = {}
    entries["config.json"] = re.sub(
        rb'"shared_object_id": (\d+)',
        lambda m: b'"shared_object_id": %d' % ids.setdefault(m[1], len(ids) + 1),
        entries["config.json"],
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    path.write_bytes(buffer.getvalue())


def train_gan(attention, images, steps, seed):
    import keras
    import numpy as np
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    generator = ah.gan.build_generator(attention=attention)
    discriminator = ah.gan.build_discriminator(attention=attention)
    g_optimizer, d_optimizer = ah.gan.make_optimizers()
    noise = keras.random.SeedGenerator(seed)
    data = tf.constant(images)

    @tf.function
    def step(real):
        return ah.gan.train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise)

    def gamma(model):
        return float(model.get_layer("attention").gamma.numpy()) if attention else None

    rng = np.random.default_rng(seed)
    order = np.zeros(0, dtype=int)
    history = {"step": [0], "generator_gamma": [gamma(generator)], "discriminator_gamma": [gamma(discriminator)]}
    history.update(discriminator_loss=[None], generator_loss=[None])
    for index in range(1, steps + 1):
        if len(order) < ah.gan.BATCH_SIZE:  # a new epoch: reshuffle
            order = rng.permutation(len(images))
        batch, order = order[: ah.gan.BATCH_SIZE], order[ah.gan.BATCH_SIZE :]
        d_loss, g_loss = step(tf.gather(data, batch))
        if index % RECORD_EVERY == 0:
            history["step"].append(index)
            history["generator_gamma"].append(gamma(generator))
            history["discriminator_gamma"].append(gamma(discriminator))
            history["discriminator_loss"].append(float(d_loss))
            history["generator_loss"].append(float(g_loss))
    return generator, discriminator, history


def train_classifier(images, labels, seed):
    import keras

    keras.utils.set_random_seed(seed)
    classifier = ah.gan.build_classifier()
    classifier.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    classifier.fit(images, labels, epochs=CLASSIFIER_EPOCHS, batch_size=64, verbose=0)
    return classifier


def without_optimizer(model, builder):
    """A copy of a compiled model without its optimizer (whose Adam moments would triple the file)."""
    copy = builder()
    copy.set_weights(model.get_weights())
    return copy


def rounded(values):
    return [None if v is None else float(f"{v:.4g}") for v in values]


def judge(generator, classifier):
    """The classifier's figures for `N_JUDGE` samples drawn with `JUDGE_SEED`, as plain JSON values."""
    figures = ah.gan.classifier_figures(ah.gan.generate(classifier, ah.gan.sample(generator, N_JUDGE, JUDGE_SEED)))
    return {"confident": figures["confident"], "classes": figures["classes"], "counts": figures["counts"].tolist()}


def final_gamma(model):
    return float(f"{float(model.get_layer('attention').gamma.numpy()):.4g}")


def train_extra_seeds(out, seeds, images, steps):
    """Train both GANs with each of `seeds`, judge them and the shipped seed-0 ones, write the JSON."""
    from attention_helpers import pretrained

    classifier = ah.gan.build_classifier()  # the shipped classifier, read from `out`
    classifier.set_weights(pretrained._load_from(out, "classifier").get_weights())
    runs = {"with_attention": {}, "without_attention": {}}
    for attention in (True, False):
        variant = "with_attention" if attention else "without_attention"
        name = "generator" if attention else "generator_without_attention"
        shipped = pretrained._load_from(out, name)
        runs[variant][str(SEED)] = judge(shipped, classifier)
        if attention:
            runs[variant][str(SEED)]["generator_gamma"] = final_gamma(shipped)
            discriminator = pretrained._load_from(out, "discriminator")
            runs[variant][str(SEED)]["discriminator_gamma"] = final_gamma(discriminator)
        for seed in seeds:
            began = time.perf_counter()
            generator, discriminator, _ = train_gan(attention, images, steps, seed)
            runs[variant][str(seed)] = judge(generator, classifier)
            if attention:
                runs[variant][str(seed)]["generator_gamma"] = final_gamma(generator)
                runs[variant][str(seed)]["discriminator_gamma"] = final_gamma(discriminator)
            figures = runs[variant][str(seed)]
            print(
                f"GAN {'with' if attention else 'without'} attention, seed {seed}: {steps} steps in "
                f"{time.perf_counter() - began:.0f} s; confident {figures['confident']:.3f}, "
                f"classes {figures['classes']}"
            )
    config = {
        "seeds": [SEED, *seeds],
        "steps": steps,
        "n_samples": N_JUDGE,
        "noise_seed": JUDGE_SEED,
        "confidence": ah.gan.CONFIDENCE,
        "class_share": ah.gan.CLASS_SHARE,
    }
    path = out / "sagan_digits_seeds.json"
    path.write_text(json.dumps({"config": config, **runs}, indent=1, sort_keys=True) + "\n")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "attention_helpers" / "pretrained")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument(
        "--extra-seeds",
        type=int,
        nargs="+",
        metavar="SEED",
        help="train both GANs with these seeds too and write only sagan_digits_seeds.json (see above)",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    ah.setup_notebook(seed=SEED)
    args.out.mkdir(parents=True, exist_ok=True)
    images, labels = ah.data.digits(16)  # unshuffled: the split does not depend on any seed
    train_images, train_labels = images[:N_TRAIN], labels[:N_TRAIN]
    if args.extra_seeds:
        if SEED in args.extra_seeds:
            parser.error(f"seed {SEED} is the shipped run; --extra-seeds takes others")
        path = train_extra_seeds(args.out, args.extra_seeds, train_images, args.steps)
        print(f"wrote {args.out.name}/{path.name} in {time.perf_counter() - start:.0f} s (run time, this machine)")
        return

    histories = {}
    for attention in (True, False):
        began = time.perf_counter()
        generator, discriminator, history = train_gan(attention, train_images, args.steps, SEED)
        suffix = "" if attention else "_without_attention"
        save_reproducibly(generator, args.out / f"sagan_digits_generator{suffix}.keras")
        if attention:
            save_reproducibly(discriminator, args.out / "sagan_digits_discriminator.keras")
        histories["with_attention" if attention else "without_attention"] = {
            key: rounded(value) if key != "step" else value for key, value in history.items()
        }
        print(
            f"GAN {'with' if attention else 'without'} attention: {args.steps} steps in "
            f"{time.perf_counter() - began:.0f} s"
        )

    began = time.perf_counter()
    classifier = train_classifier(train_images, train_labels, SEED)
    save_reproducibly(without_optimizer(classifier, ah.gan.build_classifier), args.out / "digits_classifier.keras")
    accuracy = classifier.evaluate(images[N_TRAIN:], labels[N_TRAIN:], verbose=0)[1]
    print(
        f"classifier: {CLASSIFIER_EPOCHS} epochs in {time.perf_counter() - began:.0f} s, "
        f"held-out accuracy {accuracy:.3f}"
    )

    histories["config"] = {
        "seed": SEED,
        "steps": args.steps,
        "record_every": RECORD_EVERY,
        "n_train": N_TRAIN,
        "batch_size": ah.gan.BATCH_SIZE,
    }
    (args.out / "sagan_digits_history.json").write_text(json.dumps(histories, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out.name}/ in {time.perf_counter() - start:.0f} s (run time, this machine)")


if __name__ == "__main__":
    main()
