"""Notebook 09's translators: English number words to German number words, with cross-attention.

The notebook writes its models in its own cells; this module keeps the same code for the training
script, the tests and the exercise check (`tests/test_notebook_models.py` keeps them in step).

- `SOURCE_VOCAB`, `TARGET_VOCAB`, `encode_source`, `encode_target`, `decode_target`: numbers ↔ tokens.
  Source tokens are English words (and num2words' "," and "-"), padded with token 0; target tokens
  are German characters, and "." (token 0) starts and ends every German word.
- `build_translator`: a Transformer encoder–decoder (Vaswani et al. 2017) at a toy size.
- `build_bahdanau`: a bidirectional GRU encoder, a GRU decoder and additive attention (Bahdanau et al. 2014).
- `with_cross_attention`: the same model, returning the cross-attention weights next to the logits.
- `greedy_decode`: the whole batch decoded at once, position by position.
- `exact_match`, `character_accuracy`, `alignment_accuracy`: the measurements of the notebook.

Example:
    >>> import attention_helpers as ah
    >>> model = ah.pretrained.load_translator()
    >>> numbers = ah.data.number_split("test")[:3]
    >>> tokens, weights = ah.seq2seq.greedy_decode(model, ah.seq2seq.encode_source(numbers))
    >>> ah.seq2seq.decode_target(tokens)
"""

from __future__ import annotations

import warnings

import numpy as np

from attention_helpers._validation import as_array, check_int, check_rate

SOURCE_VOCAB = (
    "<pad>",
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    "hundred", "thousand", "and", ",", "-",
)  # token i is SOURCE_VOCAB[i]; 0 pads
TARGET_VOCAB = ".abcdefghilnrstuvwzßöü"  # token i is TARGET_VOCAB[i]; "." starts and ends every German word
SOURCE_LENGTH = 9  # the longest English number of 1-9999 has 9 tokens ("one thousand , nine hundred and ...")
TARGET_LENGTH = 43  # "." + the 42 characters of the longest German number
IGNORE = -1  # target after the end: not scored
SOURCE_TOKEN = {word: i for i, word in enumerate(SOURCE_VOCAB)}
TARGET_TOKEN = {char: i for i, char in enumerate(TARGET_VOCAB)}


def _numbers(numbers):
    numbers = as_array("numbers", numbers, ndim=1, dtype=int)
    if numbers.size and (numbers.min() < 1 or numbers.max() > 9999):
        raise ValueError(f"`numbers` must lie in 1-9999. Received numbers from {numbers.min()} to {numbers.max()}")
    return numbers


def encode_source(numbers):
    """English token ids `(len(numbers), SOURCE_LENGTH)` of the numbers, padded with 0 after the last word."""
    from attention_helpers.data import number_words

    numbers = _numbers(numbers)
    source = np.zeros((len(numbers), SOURCE_LENGTH), dtype="int32")
    for row, number in enumerate(numbers):
        words = number_words(int(number))[0]
        source[row, : len(words)] = [SOURCE_TOKEN[word] for word in words]
    return source


def encode_target(numbers):
    """Teacher forcing: `(decoder_inputs, targets)`, each `(len(numbers), TARGET_LENGTH)`.

    The decoder input is "." followed by the German characters (then "." as padding); the target at
    position t is the input at t + 1: the German characters, then "." (the end), then IGNORE (-1).
    """
    from attention_helpers.data import number_words

    numbers = _numbers(numbers)
    inputs = np.zeros((len(numbers), TARGET_LENGTH), dtype="int32")
    targets = np.full((len(numbers), TARGET_LENGTH), IGNORE, dtype="int32")
    for row, number in enumerate(numbers):
        ids = [TARGET_TOKEN[char] for char in number_words(int(number))[1]]
        inputs[row, 1 : len(ids) + 1] = ids
        targets[row, : len(ids) + 1] = [*ids, 0]
    return inputs, targets


def decode_target(tokens):
    """German words from target token ids `(batch, steps)`: the characters before the first "." (token 0)."""
    tokens = as_array("tokens", tokens, ndim=2, dtype=int)
    words = []
    for row in tokens:
        chars = "".join(TARGET_VOCAB[t] for t in row)
        words.append(chars.split(".")[0])
    return words


def build_translator(d_model=64, num_heads=4, ff_dim=128, num_layers=1, dropout=0.0, learning_rate=3e-3):
    """The Transformer encoder–decoder of notebook 09 (the notebook's `build_translator`, kept equal by a test).

    Encoder: English token embedding + learned positions, `num_layers` post-norm `TransformerBlock`s
    (notebook 08's) with the source padding mask. Decoder: German character embedding + learned
    positions, then per layer a causal `TransformerBlock` (self-attention over the German prefix)
    and a `CrossAttentionBlock` (queries from the decoder, keys and values from the encoder's
    output, padded source words masked); a Dense head gives logits over `TARGET_VOCAB`.

    Returns:
        compiled `keras.Model` `[source (batch, source_steps), decoder_inputs (batch, target_steps)]` →
        logits `(batch, target_steps, len(TARGET_VOCAB))`; Adam, cross-entropy that skips IGNORE.
    """
    import keras

    from attention_helpers import layers

    check_int("d_model", d_model, minimum=1)
    check_int("num_heads", num_heads, minimum=1)
    check_int("num_layers", num_layers, minimum=1)
    check_rate("dropout", dropout)
    if d_model % num_heads:
        raise ValueError(f"`d_model` must be a multiple of `num_heads`. Received: d_model={d_model}, "
                         f"num_heads={num_heads}")
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    decoder_inputs = keras.Input(shape=(None,), dtype="int32", name="decoder_inputs")
    source_mask = keras.ops.not_equal(source, 0)  # (batch, source_steps): True at real words
    x = keras.layers.Embedding(len(SOURCE_VOCAB), d_model, name="source_embedding")(source)
    x = x + layers.PositionEmbedding(SOURCE_LENGTH, name="source_position")(x)  # (batch, source_steps, d_model)
    for i in range(num_layers):
        x = layers.TransformerBlock(num_heads, d_model // num_heads, ff_dim, dropout=dropout,
                                    name=f"encoder_{i}")(x, mask=source_mask)
    y = keras.layers.Embedding(len(TARGET_VOCAB), d_model, name="target_embedding")(decoder_inputs)
    y = y + layers.PositionEmbedding(TARGET_LENGTH, name="target_position")(y)  # (batch, target_steps, d_model)
    for i in range(num_layers):
        y = layers.TransformerBlock(num_heads, d_model // num_heads, ff_dim, dropout=dropout,
                                    name=f"decoder_{i}")(y, use_causal_mask=True)
        y, _ = layers.CrossAttentionBlock(num_heads, d_model // num_heads, ff_dim, dropout=dropout,
                                          name=f"cross_attention_{i}")(
            y, x, context_mask=source_mask, return_attention_scores=True)
    logits = keras.layers.Dense(len(TARGET_VOCAB), name="head")(y)  # (batch, target_steps, vocab): no softmax
    model = keras.Model([source, decoder_inputs], logits, name="translator")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=IGNORE))
    return model


def build_bahdanau(units=64, embedding_dim=32, learning_rate=3e-3):
    """Bahdanau et al.'s translator at a toy size: bidirectional GRU encoder, GRU decoder, additive attention.

    The encoder reads the English words in both directions; its outputs (forward and backward
    states side by side, `2·units`) are the values, and their projection `W_k h_j` the keys. The
    decoder GRU starts from `tanh(W_s h←_1)` (the backward state at the first word, as in the
    paper) and reads the German prefix. Its state `s_t` asks the encoder with the additive score
    `v · tanh(W_q s_t + W_k h_j)` (`keras.layers.AdditiveAttention`, whose `scale` is `v`); the
    context and `s_t` give the logits through a tanh layer. One simplification, to run the whole
    target in one pass: the attention reads the decoder's state after step t (as Luong et al. 2015
    do) instead of feeding the context into the GRU's next step (as Bahdanau et al. do).

    Returns:
        compiled `keras.Model` `[source, decoder_inputs]` → logits, as `build_translator`.
    """
    import keras

    check_int("units", units, minimum=1)
    check_int("embedding_dim", embedding_dim, minimum=1)
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    decoder_inputs = keras.Input(shape=(None,), dtype="int32", name="decoder_inputs")
    source_mask = keras.ops.not_equal(source, 0)
    embedded = keras.layers.Embedding(len(SOURCE_VOCAB), embedding_dim, name="source_embedding")(source)
    values, _, backward_state = keras.layers.Bidirectional(
        keras.layers.GRU(units, return_sequences=True, return_state=True), name="encoder")(
        embedded, mask=source_mask)  # (batch, source_steps, 2·units)
    keys = keras.layers.Dense(units, use_bias=False, name="key_projection")(values)  # W_k h_j
    state = keras.layers.Dense(units, activation="tanh", name="initial_state")(backward_state)
    target = keras.layers.Embedding(len(TARGET_VOCAB), embedding_dim, name="target_embedding")(decoder_inputs)
    decoded = keras.layers.GRU(units, return_sequences=True, name="decoder")(target, initial_state=state)
    queries = keras.layers.Dense(units, name="query_projection")(decoded)  # W_q s_t (+ bias)
    context, _ = keras.layers.AdditiveAttention(name="cross_attention_0")(
        [queries, values, keys], mask=[None, source_mask], return_attention_scores=True)
    hidden = keras.layers.Dense(units, activation="tanh", name="combine")(
        keras.layers.Concatenate(name="state_and_context")([decoded, context]))
    logits = keras.layers.Dense(len(TARGET_VOCAB), name="head")(hidden)
    model = keras.Model([source, decoder_inputs], logits, name="bahdanau")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=IGNORE))
    return model


def with_cross_attention(model):
    """`model` (either builder's) as a model that returns `(logits, weights)`.

    The weights are those of the last cross-attention layer (named "cross_attention_..."):
    `(batch, heads, target_steps, source_steps)` for the Transformer, `(batch, target_steps,
    source_steps)` for the Bahdanau model. The model shares its layers with `model`.
    """
    import keras

    attention = [layer for layer in model.layers if layer.name.startswith("cross_attention")]
    if not attention:
        raise ValueError(f"`model` has no layer named 'cross_attention_...'. Received layers: "
                         f"{[layer.name for layer in model.layers]}")
    return keras.Model(model.inputs, [model.outputs[0], attention[-1].output[1]])


def _post_or_pre_norm(block, x, attended, training=False):
    """The rest of a `TransformerBlock` or `CrossAttentionBlock` after its attention, at the given steps."""
    if block.norm_first:
        x = x + attended
        return x + block.feed_forward_out(block.feed_forward_in(block.feed_forward_norm(x)))
    x = block.attention_norm(x + attended)
    return block.feed_forward_norm(x + block.feed_forward_out(block.feed_forward_in(x)))


class _TransformerSteps:
    """`build_translator`'s model, one new position at a time: each layer keeps the inputs it has seen."""

    def __init__(self, model, source):
        import keras

        self.model, self.ops = model, keras.ops
        self.num_layers = sum(layer.name.startswith("cross_attention") for layer in model.layers)
        self.source_mask = source != 0
        x = model.get_layer("source_embedding")(source)
        x = x + model.get_layer("source_position")(x)
        for i in range(self.num_layers):
            x = model.get_layer(f"encoder_{i}")(x, mask=self.source_mask)
        self.context = x  # (batch, source_steps, d_model): the encoder's output, computed once
        self.seen = [None] * self.num_layers  # per decoder layer: its inputs so far (batch, t, d_model)

    def __call__(self, tokens, t):
        ops, model = self.ops, self.model
        y = model.get_layer("target_embedding")(tokens[:, None])  # (batch, 1, d_model): the new position only
        y = y + model.get_layer("target_position").embeddings[t]  # the learned vector of position t
        for i in range(self.num_layers):
            block, cross = model.get_layer(f"decoder_{i}"), model.get_layer(f"cross_attention_{i}")
            self.seen[i] = y if self.seen[i] is None else ops.concatenate([self.seen[i], y], axis=1)
            keys = block.attention_norm(self.seen[i]) if block.norm_first else self.seen[i]
            query = keys[:, -1:]
            y = _post_or_pre_norm(block, y, block.attention(query, keys))  # the prefix only: nothing to mask
            query = cross.attention_norm(y) if cross.norm_first else y
            attended, weights = cross.attention(query, self.context, value_mask=self.source_mask,
                                                return_attention_scores=True)
            y = _post_or_pre_norm(cross, y, attended)
        logits = model.get_layer("head")(y)[:, 0]  # (batch, vocab)
        return ops.convert_to_numpy(logits), ops.convert_to_numpy(weights)[:, :, 0]  # weights (batch, heads, src)


class _BahdanauSteps:
    """`build_bahdanau`'s model, one new position at a time: the decoder GRU carries its state."""

    def __init__(self, model, source):
        import keras

        self.model, self.ops = model, keras.ops
        self.source_mask = source != 0
        embedded = model.get_layer("source_embedding")(source)
        self.values, _, backward = model.get_layer("encoder")(embedded, mask=self.source_mask)
        self.keys = model.get_layer("key_projection")(self.values)
        self.state = model.get_layer("initial_state")(backward)  # (batch, units)

    def __call__(self, tokens, t):
        model = self.model
        target = model.get_layer("target_embedding")(tokens[:, None])  # (batch, 1, embedding_dim)
        decoded = model.get_layer("decoder")(target, initial_state=self.state)  # (batch, 1, units)
        self.state = decoded[:, 0]  # a GRU's output is its new state
        queries = model.get_layer("query_projection")(decoded)
        context, weights = model.get_layer("cross_attention_0")(
            [queries, self.values, self.keys], mask=[None, self.source_mask], return_attention_scores=True)
        hidden = model.get_layer("combine")(model.get_layer("state_and_context")([decoded, context]))
        logits = model.get_layer("head")(hidden)[:, 0]
        return self.ops.convert_to_numpy(logits), self.ops.convert_to_numpy(weights)[:, 0]  # weights (batch, src)


def greedy_decode(model, source, max_length=TARGET_LENGTH):
    """Greedy translation of a whole batch at once, one position at a time, each position computed once.

    Every row starts from "."; at step t the model reads the character written at step t − 1 and
    writes the most likely next one. Nothing is recomputed: the encoder runs once, the Transformer's
    decoder layers keep the inputs of the positions seen so far (the keys and values of their
    self-attention: a cache, as in notebook 10) and the Bahdanau decoder carries its GRU state. The
    logits equal those of the full model run on the written prefix (tests/test_seq2seq.py checks it).
    Stops when every row has written "." or after `max_length` steps.

    Args:
        model: a model of `build_translator` or `build_bahdanau` (inference: no dropout).
        source: `(batch, source_steps)` from `encode_source`.
        max_length: decoding steps at most (<= TARGET_LENGTH).

    Returns:
        `(tokens, weights)`: tokens `(batch, steps)`, the characters written, "." at the end and
        after it; weights the cross-attention weights of each step, `(batch, heads, steps,
        source_steps)` for the Transformer and `(batch, steps, source_steps)` for the Bahdanau model.
    """
    source = as_array("source", source, ndim=2, dtype="int32")
    max_length = check_int("max_length", max_length, minimum=1, maximum=TARGET_LENGTH)
    names = {layer.name for layer in model.layers}
    if "encoder_0" in names:
        step = _TransformerSteps(model, source)
    elif "encoder" in names:
        step = _BahdanauSteps(model, source)
    else:
        raise ValueError(f"`model` must come from `build_translator` or `build_bahdanau`. Received layers: "
                         f"{sorted(names)}")
    tokens, weights = [], []
    previous = np.zeros(len(source), dtype="int32")  # "." starts every row
    finished = np.zeros(len(source), dtype=bool)
    for t in range(max_length):
        with warnings.catch_warnings():  # at t = 0 the self-attention has one key: Keras warns about that softmax
            warnings.filterwarnings("ignore", message="You are using a softmax over axis")
            logits, step_weights = step(previous, t)
        previous = np.where(finished, 0, logits.argmax(axis=-1)).astype("int32")  # after the end: "."
        tokens.append(previous)
        weights.append(step_weights)
        finished |= previous == 0
        if finished.all():
            break
    return np.stack(tokens, axis=1), np.stack(weights, axis=-2)


def exact_match(predicted, numbers):
    """Fraction of numbers whose German word is written exactly right."""
    from attention_helpers.data import number_words

    numbers = _numbers(numbers)
    return float(np.mean([p == number_words(int(n))[1] for p, n in zip(predicted, numbers, strict=True)]))


def character_accuracy(predicted, numbers):
    """Fraction of the reference German characters written right at their position (a missing one is wrong)."""
    from attention_helpers.data import number_words

    numbers = _numbers(numbers)
    right = total = 0
    for word, number in zip(predicted, numbers, strict=True):
        reference = number_words(int(number))[1]
        right += sum(a == b for a, b in zip(word, reference))
        total += len(reference)
    return right / total


def alignment_accuracy(weights, numbers):
    """How often the most-weighted English token is the reference one, over the reference German characters.

    Args:
        weights: cross-attention weights `(batch, target_steps, source_steps)` (one head, or heads
            averaged) of a teacher-forced pass, or of greedy decoding where it wrote the reference
            word: the row for German character i is the query at position i (the one that writes it).
        numbers: the batch's numbers.

    Returns:
        float in [0, 1]: the fraction of German characters c for which argmax over the source of the
        weights at c is `ah.data.number_alignment`'s token.
    """
    from attention_helpers.data import number_alignment

    numbers = _numbers(numbers)
    weights = as_array("weights", weights, ndim=3)
    if len(weights) != len(numbers):
        raise ValueError(f"`weights` must have one row per number ({len(numbers)}). Received: "
                         f"weights.shape={weights.shape}")
    hits = total = 0
    for row, number in zip(weights, numbers):
        reference = number_alignment(int(number))
        hits += int((row[: len(reference)].argmax(axis=-1) == reference).sum())
        total += len(reference)
    return hits / total
