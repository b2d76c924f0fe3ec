"""Notebook 09's translators: English number words to German number words, with cross-attention.

The notebook writes its models in its own cells; this module keeps the same code for the training
script, the tests and the exercise check (`tests/test_notebook_models.py` keeps them in step).

- `SOURCE_VOCAB`, `TARGET_VOCAB`, `encode_source`, `encode_target`, `decode_target`: numbers ↔ tokens.
  Source tokens are English words (and num2words' "," and "-"), padded with token 0; target tokens
  are German characters, and "." (token 0) starts and ends every German word.
- `build_translator`: a Transformer encoder–decoder (Vaswani et al. 2017) at a toy size.
- `build_bahdanau`: a bidirectional GRU encoder, a GRU decoder and additive attention (Bahdanau et al. 2014).
- `with_cross_attention`: the same model, returning the cross-attention weights next to the logits.
- `greedy_decode`: the whole batch decoded at once, position by position; `teacher_forced`: the same
  computation on given decoder inputs.
- `exact_match`, `character_accuracy`, `alignment_accuracy`: the measurements of the notebook.

Example:
    >>> import attention_helpers as ah
    >>> model = ah.pretrained.load_translator()
    >>> numbers = ah.data.number_split("test")[:3]
    >>> tokens, weights = ah.seq2seq.greedy_decode(model, ah.seq2seq.encode_source(numbers))
    >>> ah.seq2seq.decode_target(tokens)
"""

from __future__ import annotations

import functools

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
        keras.layers.GRU(units, return_sequences=True, return_state=True, name="gru"), name="encoder")(
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


def _numpy_sublayers(block):
    """A block's LayerNorms and feed-forward net as NumPy functions of one step `(batch, d)`."""
    import keras

    convert = keras.ops.convert_to_numpy

    def norm(layer):
        gamma, beta, epsilon = convert(layer.gamma), convert(layer.beta), layer.epsilon
        return lambda x: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + epsilon) * gamma + beta

    dense_in, dense_out = block.feed_forward_in, block.feed_forward_out
    w_in, b_in, w_out, b_out = (convert(w) for w in (dense_in.kernel, dense_in.bias, dense_out.kernel, dense_out.bias))
    activation = dense_in.activation

    def feed_forward(x):
        return convert(activation(x @ w_in + b_in)) @ w_out + b_out

    return norm(block.attention_norm), norm(block.feed_forward_norm), feed_forward


def _post_or_pre_norm(block, sublayers, x, attended):
    """The rest of a `TransformerBlock` or `CrossAttentionBlock` after its attention, for one step `(batch, d)`."""
    attention_norm, feed_forward_norm, feed_forward = sublayers
    if block.norm_first:
        x = x + attended
        return x + feed_forward(feed_forward_norm(x))
    x = attention_norm(x + attended)
    return feed_forward_norm(x + feed_forward(x))


def _attention_weights_of(layer):
    """A `MultiHeadAttention`'s kernels and biases as NumPy arrays (zero biases if it has none)."""
    import keras

    def array(name, shape):
        value = getattr(layer, name, None)
        return np.zeros(shape, "float32") if value is None else keras.ops.convert_to_numpy(value)

    kernels = {name: array(f"{name}_kernel", None) for name in ("query", "key", "value", "output")}
    biases = {name: array(f"{name}_bias", kernels[name].shape[1:] if name != "output" else kernels[name].shape[2:])
              for name in kernels}
    return kernels, biases


def _attend(query, keys, values, kernels, biases, allowed=None):
    """One query step against cached keys and values. query (batch, d); keys, values (batch, T, heads, dim)."""
    q = np.einsum("bf,fhd->bhd", query, kernels["query"]) + biases["query"]  # (batch, heads, key_dim)
    scores = np.einsum("bhd,bthd->bht", q, keys) / np.sqrt(q.shape[-1])  # (batch, heads, T)
    if allowed is not None:  # (batch, T): False at padded steps, whose weight must be exactly 0
        scores = np.where(allowed[:, None, :], scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    heads = np.einsum("bht,bthd->bhd", weights, values)
    return np.einsum("bhd,hdo->bo", heads, kernels["output"]) + biases["output"], weights


class _TransformerSteps:
    """`build_translator`'s model, one new position at a time, with a cache of every layer's keys and values.

    The encoder runs once (with Keras); each step then computes only the new position: its
    embedding, its query, key and value in every decoder layer (the key and value are appended to
    the layer's cache, as notebook 10's KV cache does), its cross-attention over the encoder's keys
    and values (projected once), and its logits. The attention is written in NumPy; the LayerNorms
    and feed-forward nets too, from the model's weights.
    """

    def __init__(self, model, source):
        import keras

        self.model, self.convert = model, keras.ops.convert_to_numpy
        self.num_layers = sum(layer.name.startswith("cross_attention") for layer in model.layers)
        self.allowed = source != 0
        x = model.get_layer("source_embedding")(source)
        x = x + model.get_layer("source_position")(x)
        for i in range(self.num_layers):
            x = model.get_layer(f"encoder_{i}")(x, mask=self.allowed)
        context = self.convert(x)  # (batch, source_steps, d_model): the encoder's output, computed once
        self.embedding = self.convert(model.get_layer("target_embedding").embeddings)
        self.positions = self.convert(model.get_layer("target_position").embeddings)
        head = model.get_layer("head")
        self.head_kernel, self.head_bias = self.convert(head.kernel), self.convert(head.bias)
        self.layers = []
        for i in range(self.num_layers):
            block, cross = model.get_layer(f"decoder_{i}"), model.get_layer(f"cross_attention_{i}")
            self_weights, cross_weights = _attention_weights_of(block.attention), _attention_weights_of(cross.attention)
            kernels, biases = cross_weights
            cross_keys = np.einsum("bsf,fhd->bshd", context, kernels["key"]) + biases["key"]
            cross_values = np.einsum("bsf,fhd->bshd", context, kernels["value"]) + biases["value"]
            self.layers.append({"block": block, "cross": cross, "self_weights": self_weights,
                                "block_sublayers": _numpy_sublayers(block), "cross_sublayers": _numpy_sublayers(cross),
                                "cross_weights": cross_weights, "cross_keys": cross_keys,
                                "cross_values": cross_values, "keys": None, "values": None})

    def __call__(self, tokens, t):
        y = self.embedding[tokens] + self.positions[t]  # (batch, d_model): the new position only
        for layer in self.layers:
            block, cross = layer["block"], layer["cross"]
            kernels, biases = layer["self_weights"]
            h = layer["block_sublayers"][0](y) if block.norm_first else y
            k = (np.einsum("bf,fhd->bhd", h, kernels["key"]) + biases["key"])[:, None]  # (batch, 1, heads, dim)
            v = (np.einsum("bf,fhd->bhd", h, kernels["value"]) + biases["value"])[:, None]
            layer["keys"] = k if layer["keys"] is None else np.concatenate([layer["keys"], k], axis=1)
            layer["values"] = v if layer["values"] is None else np.concatenate([layer["values"], v], axis=1)
            attended, _ = _attend(h, layer["keys"], layer["values"], kernels, biases)  # the past only: no mask
            y = _post_or_pre_norm(block, layer["block_sublayers"], y, attended)
            h = layer["cross_sublayers"][0](y) if cross.norm_first else y
            attended, weights = _attend(h, layer["cross_keys"], layer["cross_values"], *layer["cross_weights"],
                                        allowed=self.allowed)
            y = _post_or_pre_norm(cross, layer["cross_sublayers"], y, attended)
        logits = y @ self.head_kernel + self.head_bias  # (batch, vocab)
        return logits, weights  # weights (batch, heads, source_steps)


class _BahdanauSteps:
    """`build_bahdanau`'s model, one new position at a time: the decoder GRU carries its state.

    The encoder runs once (with Keras); each step runs one GRU step (Keras's GRU equations with
    `reset_after=True`), the additive attention and the output layers in NumPy, from the model's weights.
    """

    def __init__(self, model, source):
        import keras

        convert = keras.ops.convert_to_numpy
        self.allowed = source != 0
        embedded = model.get_layer("source_embedding")(source)
        values, _, backward = model.get_layer("encoder")(embedded, mask=self.allowed)
        self.values = convert(values)  # (batch, source_steps, 2·units): h_j
        self.keys = convert(model.get_layer("key_projection")(values))  # W_k h_j, projected once
        self.state = convert(model.get_layer("initial_state")(backward))  # (batch, units)
        self.embedding = convert(model.get_layer("target_embedding").embeddings)
        gru = model.get_layer("decoder")
        cell = gru.cell if hasattr(gru, "cell") else gru
        self.kernel, self.recurrent_kernel = convert(cell.kernel), convert(cell.recurrent_kernel)
        self.bias = convert(cell.bias).reshape(2, -1)  # reset_after: input bias, recurrent bias
        self.query = [convert(w) for w in model.get_layer("query_projection").weights]
        self.scale = convert(model.get_layer("cross_attention_0").scale)
        self.combine = [convert(w) for w in model.get_layer("combine").weights]
        self.head = [convert(w) for w in model.get_layer("head").weights]

    def _gru(self, x, h):
        def sigmoid(a):
            return 1 / (1 + np.exp(-a))

        x_z, x_r, x_h = np.split(x @ self.kernel + self.bias[0], 3, axis=-1)
        h_z, h_r, h_h = np.split(h @ self.recurrent_kernel + self.bias[1], 3, axis=-1)
        z, r = sigmoid(x_z + h_z), sigmoid(x_r + h_r)
        return z * h + (1 - z) * np.tanh(x_h + r * h_h)

    def __call__(self, tokens, t):
        self.state = self._gru(self.embedding[tokens], self.state)  # s_t: (batch, units)
        query = self.state @ self.query[0] + self.query[1]  # W_q s_t
        scores = (self.scale * np.tanh(query[:, None, :] + self.keys)).sum(axis=-1)  # (batch, source_steps)
        scores = np.where(self.allowed, scores, -np.inf)  # padded words: weight exactly 0
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        context = np.einsum("bs,bsf->bf", weights, self.values)
        hidden = np.tanh(np.concatenate([self.state, context], axis=-1) @ self.combine[0] + self.combine[1])
        return hidden @ self.head[0] + self.head[1], weights


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
    step = _steps(model, source)
    tokens, weights = [], []
    previous = np.zeros(len(source), dtype="int32")  # "." starts every row
    finished = np.zeros(len(source), dtype=bool)
    for t in range(max_length):
        logits, step_weights = step(previous, t)
        previous = np.where(finished, 0, logits.argmax(axis=-1)).astype("int32")  # after the end: "."
        tokens.append(previous)
        weights.append(step_weights)
        finished |= previous == 0
        if finished.all():
            break
    return np.stack(tokens, axis=1), np.stack(weights, axis=-2)


def _steps(model, source):
    names = {layer.name for layer in model.layers}
    if "encoder_0" in names:
        return _TransformerSteps(model, source)
    if "encoder" in names:
        return _BahdanauSteps(model, source)
    raise ValueError(f"`model` must come from `build_translator` or `build_bahdanau`. Received layers: "
                     f"{sorted(names)}")


def teacher_forced(model, source, decoder_inputs):
    """The logits and cross-attention weights of `model` on given decoder inputs, one position at a time.

    The same numbers as `with_cross_attention(model)([source, decoder_inputs])`, computed as
    `greedy_decode` computes them (each position once, in NumPy), which is quicker and lighter on
    memory for a whole test set.

    Returns:
        `(logits, weights)`: `(batch, steps, len(TARGET_VOCAB))`, and the weights as `greedy_decode`
        returns them.
    """
    source = as_array("source", source, ndim=2, dtype="int32")
    decoder_inputs = as_array("decoder_inputs", decoder_inputs, ndim=2, dtype="int32")
    if len(decoder_inputs) != len(source):
        raise ValueError(f"`decoder_inputs` must have one row per source row ({len(source)}). Received: "
                         f"decoder_inputs.shape={decoder_inputs.shape}")
    step = _steps(model, source)
    logits, weights = zip(*(step(decoder_inputs[:, t], t) for t in range(decoder_inputs.shape[1])))
    return np.stack(logits, axis=1), np.stack(weights, axis=-2)


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


def alignment_accuracy(weights, numbers, kinds=None, first_only=False):
    """How often the most-weighted English token is the reference one, over the reference German characters.

    Args:
        weights: cross-attention weights `(batch, target_steps, source_steps)` (one head, or heads
            averaged) of a teacher-forced pass, or of greedy decoding where it wrote the reference
            word: the row for German character i is the query at position i (the one that writes it).
        numbers: the batch's numbers.
        kinds: None for every character, or some of `ah.data.PIECE_KINDS` ("digit", "tausend",
            "hundert", "und"): only the characters of those pieces count.
        first_only: if True, only the first character of each piece counts (where the decoder
            decides which piece comes next; the rest of a piece follows from the German prefix).

    Returns:
        float in [0, 1]: the fraction of German characters c for which argmax over the source of the
        weights at c is `ah.data.number_alignment`'s token.
    """
    from attention_helpers.data import PIECE_KINDS

    if kinds is not None:
        kinds = set(kinds)
        if not kinds or not kinds <= set(PIECE_KINDS):
            raise ValueError(f"`kinds` must be None or some of {PIECE_KINDS}. Received: kinds={sorted(kinds)}")

    numbers = _numbers(numbers)
    weights = as_array("weights", weights, ndim=3)
    if len(weights) != len(numbers):
        raise ValueError(f"`weights` must have one row per number ({len(numbers)}). Received: "
                         f"weights.shape={weights.shape}")
    rows, positions, reference, kind, first = _references(tuple(int(n) for n in numbers))
    if positions.max() >= weights.shape[1]:
        raise ValueError(f"`weights` must cover every German character ({positions.max() + 1} positions). "
                         f"Received: weights.shape={weights.shape}")
    counted = np.ones(len(reference), bool) if kinds is None else np.isin(kind, list(kinds))
    if first_only:
        counted &= first
    hits = weights[rows, positions].argmax(axis=-1) == reference  # one entry per German character
    return float(hits[counted].mean())


@functools.lru_cache(maxsize=8)
def _references(numbers):
    """For every German character of `numbers`, flattened: its row and position, its reference token,
    the kind of its piece, and whether it starts a piece (cached: the notebook measures one set many times)."""
    from attention_helpers.data import number_alignment, number_character_kinds, number_pieces

    parts = []
    for row, number in enumerate(numbers):
        reference = number_alignment(number)
        starts = np.cumsum([0] + [len(piece) for piece, _ in number_pieces(number)[:-1]])
        positions = np.arange(len(reference))
        parts.append((np.full(len(reference), row), positions, reference, np.array(number_character_kinds(number)),
                      np.isin(positions, starts)))
    return tuple(np.concatenate(column) for column in zip(*parts))
