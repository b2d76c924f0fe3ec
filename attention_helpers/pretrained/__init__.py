"""Trained models that ship inside the package (notebooks 07, 09, 10 and 11), in Keras's `.keras` format, and
the figures of trainings over several seeds (notebooks 12 and 13), in JSON.

`scripts/train_sagan_digits.py` (notebook 07), `scripts/train_translation.py` (notebook 09),
`scripts/train_tiny_gpt.py` (notebook 10), `scripts/train_induction.py` (notebook 11),
`scripts/measure_attention_at_scale.py` (notebook 12) and `scripts/train_vision.py` (notebook 13) write every
file in this folder, deterministically; see their docstrings for what they train and how long it
takes; `scripts/resave_pretrained.py` then rewrites the `.keras` files with the oldest Keras the
package supports, so that every supported Keras loads them.
Loading uses `keras.saving.load_model` with `safe_mode=True`: a `.keras` file holds a JSON config
and the weights (HDF5), no pickle, and the only custom class it names is the package's registered
`SelfAttention2D`, `PositionEmbedding`, `TransformerBlock`, `CrossAttentionBlock` and `MultiHeadAttention`, so loading
executes no code from the file.
"""

from __future__ import annotations

import json
from pathlib import Path

from attention_helpers._validation import check_bool

FOLDER = Path(__file__).resolve().parent
FILES = {
    "generator": "sagan_digits_generator.keras",
    "discriminator": "sagan_digits_discriminator.keras",
    "generator_without_attention": "sagan_digits_generator_without_attention.keras",
    "classifier": "digits_classifier.keras",
    "history": "sagan_digits_history.json",
    "seeds": "sagan_digits_seeds.json",
    "tiny_gpt": "tiny_gpt_names.keras",
    "tiny_gpt_history": "tiny_gpt_history.json",
    "attention_at_scale": "attention_at_scale.json",
    "induction_1_layer": "induction_1_layer.keras",
    "induction_2_layers": "induction_2_layers.keras",
    "induction_history": "induction_history.json",
    "translator": "translator_numbers.keras",
    "bahdanau": "bahdanau_numbers.keras",
    "translation_history": "translation_history.json",
    "vision": "vision_results.json",
}


def _load(name):
    return _load_from(FOLDER, name)


def _load_from(folder, name):
    """The model `FILES[name]` from `folder` (the training script reads freshly written files)."""
    import keras

    import attention_helpers.layers  # noqa: F401 (registers SelfAttention2D for deserialization)

    return keras.saving.load_model(Path(folder) / FILES[name], compile=False, safe_mode=True)


def load_sagan_digits(attention=True):
    """The trained SAGAN for 16×16 digits, or its ablation without attention blocks.

    Args:
        attention: True for the GAN with a self-attention block in the generator and in the
            discriminator; False for the same GAN trained without them (same data, seed, steps).

    Returns:
        dict with `generator` (a `keras.Model`, z `(batch, 16)` → images `(batch, 16, 16, 1)` in
        [-1, 1]), `discriminator` (the trained discriminator, or None without attention: only the
        attention GAN's training is continued in the notebook, so only its discriminator ships) and
        `history` (`load_history(attention)`).

    Example:
        >>> import attention_helpers as ah
        >>> gan = ah.pretrained.load_sagan_digits()
        >>> gan["generator"].get_layer("attention")   # the generator's SelfAttention2D
    """
    attention = check_bool("attention", attention)
    if attention:
        return {"generator": _load("generator"), "discriminator": _load("discriminator"), "history": load_history()}
    return {"generator": _load("generator_without_attention"), "discriminator": None, "history": load_history(False)}


def load_digits_classifier():
    """The digit classifier that judges samples: 16×16 images in [-1, 1] → 10 probabilities.

    Trained on the first 1,500 images of `ah.data.digits(16)` (unshuffled), like the GANs; the last
    297 are held out.
    """
    return _load("classifier")


def load_history(attention=True):
    """γ of both attention blocks and both hinge losses over training, as recorded by the script.

    Returns:
        dict of lists: `step`, `generator_gamma`, `discriminator_gamma` (None entries without
        attention), `discriminator_loss` and `generator_loss` (None at step 0), plus `config`
        (seed, steps, record_every, n_train, batch_size).
    """
    attention = check_bool("attention", attention)
    histories = json.loads((FOLDER / FILES["history"]).read_text())
    history = dict(histories["with_attention" if attention else "without_attention"])
    history["config"] = histories["config"]
    return history


def load_seed_figures():
    """The classifier's figures for both GANs trained with seeds 0 (shipped), 1 and 2: run-to-run variance.

    `scripts/train_sagan_digits.py --extra-seeds 1 2` trained both GANs again with each extra seed
    (only the seed changes: initial weights, noise and batch order) and judged every generator with
    the shipped classifier on the same noise; the extra runs' weights are not shipped.

    Returns:
        dict with `with_attention` and `without_attention`, each `{seed: figures}` with int seeds
        and figures a dict of `confident` (fraction), `classes`, `counts` (list of 10), plus the final
        `generator_gamma` and `discriminator_gamma` with attention; and `config` (`seeds`, `steps`,
        `n_samples`, `noise_seed`, `confidence`, `class_share`).
    """
    figures = json.loads((FOLDER / FILES["seeds"]).read_text())
    return {
        key: value if key == "config" else {int(seed): run for seed, run in value.items()}
        for key, value in figures.items()
    }


def load_tiny_gpt():
    """Notebook 10's GPT, trained by `scripts/train_tiny_gpt.py` on the census surnames' train split.

    Returns:
        the `keras.Model` of `ah.gpt.build_gpt()` (default sizes), uncompiled: int tokens
        `(batch, steps <= 14)` → logits `(batch, steps, 27)`. `ah.gpt.gpt_weights(model)` gives its
        weights to the NumPy decoder.
    """
    return _load("tiny_gpt")


def load_tiny_gpt_history():
    """The training record of `load_tiny_gpt()`'s model.

    Returns:
        dict of lists `step`, `train_loss` (mean loss of the steps since the last record, in nats;
        None at step 0) and `validation_nll` (nats per character on the validation split), plus
        `config` (steps, batch_size, record_every, seed, learning_rate, weight_decay, n_train).
    """
    return json.loads((FOLDER / FILES["tiny_gpt_history"]).read_text())


def load_attention_at_scale_figures():
    """Notebook 12's figures from training runs, one per seed, by `scripts/measure_attention_at_scale.py`.

    Returns:
        dict with `grouped_heads` (`{seed: {kv_heads: {validation_nll, parameters,
        cache_bytes_per_token}}}`: notebook 10's GPT with 4, 2 and 1 key/value heads),
        `length_generalisation` (`{seed: {positions: {seen, unseen}}}`: accuracy at the trained
        lengths and beyond, for no, learned, sinusoidal and rotary positions) and `config`. Seeds
        and key/value head counts are ints.
    """
    figures = json.loads((FOLDER / FILES["attention_at_scale"]).read_text())
    return {
        "grouped_heads": {int(seed): {int(kv): run for kv, run in runs.items()}
                          for seed, runs in figures["grouped_heads"].items()},
        "length_generalisation": {int(seed): runs for seed, runs in figures["length_generalisation"].items()},
        "config": figures["config"],
    }


def load_induction_model(num_layers=2):
    """Notebook 11's attention-only Transformer, trained by `scripts/train_induction.py`.

    Args:
        num_layers: 1 or 2: the one-layer or the two-layer model (same data, same 3,000 steps).

    Returns:
        the `keras.Model` of `ah.circuits.attention_only_transformer(num_layers=num_layers)`,
        uncompiled: int tokens `(batch, steps <= 32)` → logits `(batch, steps, 64)`.
        `ah.circuits.circuit_weights(model)` gives its QK and OV circuits.
    """
    if isinstance(num_layers, bool) or num_layers not in (1, 2):
        raise ValueError(f"`num_layers` must be 1 or 2. Received: num_layers={num_layers!r}")
    return _load("induction_1_layer" if num_layers == 1 else "induction_2_layers")


def load_induction_history():
    """The training records of both `load_induction_model` models.

    Returns:
        dict with `induction_1_layer` and `induction_2_layers`, each a dict of lists over the records:
        `step`, `train_loss` (mean loss of the steps since the last record; None at step 0),
        `repeated_loss` and `repeated_accuracy` (on the repeated tokens of 512 validation
        sequences), `previous_token_score` (per head of the first layer) and `induction_score` (per
        head of the last layer); and `config` (steps, batch_size, record_every, seed, learning_rate, …).
    """
    return json.loads((FOLDER / FILES["induction_history"]).read_text())


def load_translator(kind="transformer"):
    """Notebook 09's translator (English number words → German), trained by `scripts/train_translation.py`.

    Args:
        kind: "transformer" for `ah.seq2seq.build_translator()`'s encoder–decoder, "bahdanau" for
            `ah.seq2seq.build_bahdanau()`'s GRU model with additive attention.

    Returns:
        the uncompiled `keras.Model`: `[source (batch, source_steps), decoder_inputs (batch,
        target_steps)]` → logits `(batch, target_steps, len(ah.seq2seq.TARGET_VOCAB))`.
    """
    if kind not in ("transformer", "bahdanau"):
        raise ValueError(f"`kind` must be 'transformer' or 'bahdanau'. Received: kind={kind!r}")
    return _load("translator" if kind == "transformer" else "bahdanau")


def load_translation_history():
    """The training records of both translators: `{"translator": ..., "bahdanau": ...}`.

    Each holds lists `epoch`, `train_loss`, `validation_exact_match`, the `test` figures
    (`exact_match`, `character_accuracy`, `alignment_accuracy` with the heads averaged), `seconds`
    and `config`.
    """
    return json.loads((FOLDER / FILES["translation_history"]).read_text())


def load_vision_results():
    """Notebook 13's figures from `scripts/train_vision.py`: Vision Transformers and CNNs trained with several seeds.

    Returns:
        dict with `runs`, `{seed: figures}` with int seeds, each figure dict holding
        `data_size` (`{n: {"vit", "cnn", "logistic_regression"}}` test accuracies, n = 350, 700, 1400),
        `patches` (`{patch: {"with_positions", "without_positions", "seconds_per_epoch", "parameters"}}`),
        `positions` (`grid_correlation`, `neighbour_share` of the 1,400-image ViT's position embeddings) and
        `shifted` (the same two figures and the test `accuracy` of the ViT trained on sideways-shifted images);
        `similarity` (`trained`, `shifted`: the first seed's `(16, 16)` position similarities as lists); and
        `config` (`seeds`, `sizes`, `n_test`, `batch_size`, `steps`, `shift`, `similarity_seed`, `seconds`).
    """
    figures = json.loads((FOLDER / FILES["vision"]).read_text())
    figures["runs"] = {int(seed): run for seed, run in figures["runs"].items()}
    return figures
