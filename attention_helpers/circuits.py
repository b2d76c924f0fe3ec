"""Induction heads (notebook 11): the copying task, an attention-only Transformer, head scores, ablations.

The model is the attention-only Transformer of Elhage et al. (2021): token and position embeddings
feed a **residual stream** `x`, each layer's heads *add* their outputs to it (no MLP, no
LayerNorm), and an unembedding reads logits from it. Without biases each head is two matrices
acting on the stream: its **QK circuit** `W_QK = W_Q W_Kᵀ / √d_head` (`(d, d)`: the score of query
position i for key position j is `x_i W_QK x_jᵀ`) and its **OV circuit** `W_OV = W_V W_O` (`(d, d)`:
what the head adds at i is `Σ_j a_ij x_j W_OV`). `circuit_weights(model)` reads a trained Keras
model into that form and `forward` runs it in NumPy, returning every head's attention pattern and
its output (what it adds to the stream) as documented results; `ablate=` replaces chosen heads'
outputs by zero or by their mean. No private attribute is read anywhere.

The head scores are plain functions of attention patterns:

- `previous_token_score`: the mean weight a head puts on key i − 1 from query i;
- `induction_score`: on the repeated half, the mean weight from query i on the key right after the
  earlier occurrence of query i's token (the token that comes next, if the pattern repeats).

References:
    Elhage et al. (2021), *A Mathematical Framework for Transformer Circuits*,
    https://transformer-circuits.pub/2021/framework/index.html
    Olsson et al. (2022), *In-context Learning and Induction Heads*, https://arxiv.org/abs/2209.11895
"""

from __future__ import annotations

import math

import numpy as np

from attention_helpers._validation import as_array, check_bool, check_index, check_int, check_one_of, check_seed

CONTEXT = 32  # positions the models read
VOCAB_SIZE = 64  # tokens
SEGMENT = 10  # tokens in the repeated segment


# --- the task ------------------------------------------------------------------------------------


def repeated_tokens(n, vocab_size=VOCAB_SIZE, context=CONTEXT, segment=SEGMENT, fixed=False, seed=None):
    """Random token sequences in which one segment of distinct tokens occurs twice.

    Each row holds `context + 1` tokens: a segment of `segment` distinct random tokens at position
    `s1 >= 1` and again at `s2 = s1 + segment + gap`; every other token is drawn at random from the
    tokens *not* in the segment, so that each segment token occurs exactly twice and "the token that
    followed my earlier occurrence" is unambiguous. Position 0 never belongs to the segment (it has
    no previous token to be matched by). With `fixed=False` the gap and `s1` are drawn per row (gap
    uniform in `[0, context − 2·segment]`, then `s1 >= 1` uniform where the row still fits), so the
    distance between the copies varies; with `fixed=True` the first copy starts at position 1 and
    the second ends the row, always `context + 1 − segment − 1` apart (a distance a model can learn
    by position alone).

    The model reads `inputs = row[:-1]` and predicts `targets = row[1:]` (the next token).

    Args:
        n: rows.
        vocab_size: tokens (ids 0 … vocab_size − 1); more than `segment`.
        context: tokens the model reads per row.
        segment: length of the repeated segment; `2·segment <= context`.
        fixed: True for the fixed distance described above.
        seed: seed of the draw (None: not reproducible).

    Returns:
        dict of arrays, each `(n, context)`: `inputs` and `targets` (int32); `repeated` (bool), True at
        the query positions i of the second copy whose target is the repeat's next token (positions
        `s2 … s2 + segment − 2`: `segment − 1` per row); `source` (int), at those positions the
        position j of the earlier copy whose input equals the target (`s1 + (i − s2) + 1`), −1
        elsewhere; and `starts` `(n, 2)`, the positions s1 and s2.

    Example:
        >>> data = ah.circuits.repeated_tokens(4, seed=0)
        >>> i = data["repeated"][0].argmax()
        >>> data["inputs"][0, data["source"][0, i]] == data["targets"][0, i]
        True
    """
    n = check_int("n", n, minimum=1)
    vocab_size = check_int("vocab_size", vocab_size, minimum=2)
    context = check_int("context", context, minimum=2)
    segment = check_int("segment", segment, minimum=2)
    fixed = check_bool("fixed", fixed)
    if 2 * segment + 1 > context + 1:
        raise ValueError(f"`segment` must fit twice after the first token of a row of context + 1 = {context + 1} "
                         "tokens. "
                         f"Received: segment={segment}, context={context}")
    if segment >= vocab_size:
        raise ValueError(f"`segment` must be smaller than `vocab_size`. Received: segment={segment}, "
                         f"vocab_size={vocab_size}")
    rng = np.random.default_rng(check_seed(seed))
    length = context + 1
    spare = length - 2 * segment  # room for the gap and the start
    rows = np.empty((n, length), dtype=np.int64)
    starts = np.empty((n, 2), dtype=np.int64)
    for r in range(n):
        order = rng.permutation(vocab_size)
        pattern, others = order[:segment], order[segment:]
        rows[r] = rng.choice(others, size=length)
        if fixed:
            s1, s2 = 1, length - segment
        else:
            gap = int(rng.integers(0, spare))
            s1 = int(rng.integers(1, spare - gap + 1))
            s2 = s1 + segment + gap
        rows[r, s1:s1 + segment] = pattern
        rows[r, s2:s2 + segment] = pattern
        starts[r] = s1, s2
    positions = np.arange(context)
    offset = positions[None, :] - starts[:, 1:2]  # i − s2
    repeated = (offset >= 0) & (offset <= segment - 2)
    source = np.where(repeated, starts[:, 0:1] + offset + 1, -1)
    return {"inputs": rows[:, :-1].astype("int32"), "targets": rows[:, 1:].astype("int32"),
            "repeated": repeated, "source": source, "starts": starts}


# --- the model -----------------------------------------------------------------------------------


def attention_only_transformer(vocab_size=VOCAB_SIZE, context=CONTEXT, d_model=64, num_heads=2, num_layers=2,
                               learning_rate=1e-3):
    """An attention-only Transformer: the model notebook 11 writes in its cells.

    tokens → token embedding + position embedding (the residual stream) → `num_layers` times: add the
    output of causal multi-head attention (notebook 08's `ah.layers.MultiHeadAttention`, no biases)
    → a Dense unembedding: logits over the vocabulary at every position. No MLP, no LayerNorm, so
    that every head is exactly a QK and an OV circuit (`circuit_weights`).

    Args:
        vocab_size: tokens.
        context: the longest input.
        d_model: width of the residual stream.
        num_heads: heads per layer, each of width `d_model // num_heads`.
        num_layers: attention layers.
        learning_rate: of Adam.

    Returns:
        a `keras.Model`, int tokens `(batch, steps <= context)` → logits `(batch, steps, vocab_size)`,
        compiled with Adam and cross-entropy on logits. Its layers are named `token_embedding`,
        `position_embedding`, `attention_0`, `attention_1`, … and `unembedding`.
    """
    import keras

    from attention_helpers import layers

    vocab_size = check_int("vocab_size", vocab_size, minimum=2)
    context = check_int("context", context, minimum=1)
    d_model = check_int("d_model", d_model, minimum=1)
    num_heads = check_int("num_heads", num_heads, minimum=1)
    num_layers = check_int("num_layers", num_layers, minimum=1)
    if d_model % num_heads:
        raise ValueError(f"`d_model` must be a multiple of `num_heads`. Received: d_model={d_model}, "
                         f"num_heads={num_heads}")
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, d_model, name="token_embedding")(tokens)  # (batch, steps, d_model)
    x = x + layers.PositionEmbedding(context, name="position_embedding")(x)  # the residual stream
    for i in range(num_layers):
        attention = layers.MultiHeadAttention(num_heads, d_model // num_heads, use_bias=False, name=f"attention_{i}")
        x = x + attention(x, x, use_causal_mask=True)  # every head adds its output to the stream
    logits = keras.layers.Dense(vocab_size, name="unembedding")(x)  # (batch, steps, vocab_size)
    model = keras.Model(tokens, logits, name=f"attention_only_{num_layers}_layers")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def circuit_weights(model):
    """The weights of an `attention_only_transformer` as QK and OV circuits (NumPy, float64).

    Returns:
        dict with `token_embedding` `(vocab, d)`, `position_embedding` `(context, d)`, `layers` (one
        dict per layer: `qk` and `ov`, each `(heads, d, d)`: `W_Q[h] W_K[h]ᵀ / √d_head` and
        `W_V[h] W_O[h]`), `unembedding` `(d, vocab)` and `unembedding_bias` `(vocab,)`.
    """
    import keras

    def numpy(variable):
        return keras.ops.convert_to_numpy(variable).astype("float64")

    layers = []
    for i in range(len(model.layers)):
        name = f"attention_{i}"
        if name not in {layer.name for layer in model.layers}:
            break
        attention = model.get_layer(name)
        if attention.use_bias:
            raise ValueError(f"circuit_weights reads attention without biases. Received: {name} with use_bias=True")
        w_q, w_k, w_v = (numpy(k) for k in (attention.query_kernel, attention.key_kernel, attention.value_kernel))
        w_o = numpy(attention.output_kernel)  # (heads, head_dim, d)
        head_dim = w_q.shape[-1]
        layers.append({
            "qk": np.einsum("fhd,ghd->hfg", w_q, w_k) / math.sqrt(head_dim),  # (heads, d, d)
            "ov": np.einsum("fhd,hdg->hfg", w_v, w_o),  # (heads, d, d)
        })
    if not layers:
        raise ValueError("circuit_weights expects a model from attention_only_transformer (layers named "
                         f"attention_0, attention_1, ...). Received layers: {[layer.name for layer in model.layers]}")
    unembedding = model.get_layer("unembedding")
    return {
        "token_embedding": numpy(model.get_layer("token_embedding").embeddings),
        "position_embedding": numpy(model.get_layer("position_embedding").embeddings),
        "layers": layers,
        "unembedding": numpy(unembedding.kernel),
        "unembedding_bias": numpy(unembedding.bias),
    }


def causal_softmax(scores):
    """Softmax over the last axis of `(…, T, T)` scores with keys j > query i masked out (weight exactly 0)."""
    steps = scores.shape[-1]
    future = np.triu(np.ones((steps, steps), bool), k=1)
    scores = np.where(future, -np.inf, scores)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


ABLATIONS = ("zero", "mean")


def forward(weights, tokens, ablate=None, patch=None):
    """Run an attention-only Transformer in NumPy, keeping every head's pattern and output.

    Args:
        weights: `circuit_weights(model)`, or a dict of the same form written by hand.
        tokens: int `(batch, steps)`.
        ablate: None, or `{(layer, head): "zero" | "mean"}`: that head's output is replaced by zeros,
            or by its mean over the batch's sequences at each position, before it is added to the
            stream (later layers see the ablated stream).
        patch: None, or `{(layer, head): weights}`: that head attends with the given `(batch, steps,
            steps)` weights instead of its own (each row summing to 1, nothing after the query); what it
            then adds, and everything after it, is computed from them.

    Returns:
        dict with `logits` `(batch, steps, vocab)`, `patterns` (one `(batch, heads, steps, steps)`
        array per layer: query i's weights on keys j), `head_outputs` (one `(batch, steps, heads, d)`
        per layer: what each head adds to the stream, after any ablation) and `residual` (the stream
        before each layer and after the last: `num_layers + 1` arrays `(batch, steps, d)`).
    """
    tokens = as_array("tokens", tokens, ndim=2, dtype=np.int64)
    steps = tokens.shape[1]
    context, vocab = weights["position_embedding"].shape[0], weights["token_embedding"].shape[0]
    if steps > context:
        raise ValueError(f"`tokens` has {steps} positions; the model reads at most {context}. "
                         f"Received: tokens.shape={tokens.shape}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab):
        raise ValueError(f"`tokens` must be ids in [0, {vocab - 1}]. Received values in "
                         f"[{tokens.min()}, {tokens.max()}]")
    ablate = dict(ablate or {})
    for (layer, head), how in ablate.items():
        check_index("layer", layer, len(weights["layers"]), "layers")
        check_index("head", head, weights["layers"][layer]["qk"].shape[0], "heads")
        check_one_of("ablate", how, ABLATIONS)
    patch = dict(patch or {})
    for (layer, head), given in patch.items():
        check_index("layer", layer, len(weights["layers"]), "layers")
        check_index("head", head, weights["layers"][layer]["qk"].shape[0], "heads")
        given = as_array("patch", given, ndim=3)
        if given.shape != (tokens.shape[0], steps, steps):
            raise ValueError(f"`patch` weights must be (batch, steps, steps) = {(tokens.shape[0], steps, steps)}. "
                             f"Received: shape={given.shape} for (layer, head)={(layer, head)}")
        if not np.allclose(given.sum(axis=-1), 1.0) or np.any(np.triu(given, k=1)):
            raise ValueError("`patch` weights must sum to 1 over the keys and put nothing after the query. "
                             f"Received for (layer, head)={(layer, head)}: row sums in "
                             f"[{given.sum(axis=-1).min():.3g}, {given.sum(axis=-1).max():.3g}]")
        patch[layer, head] = given
    x = weights["token_embedding"][tokens] + weights["position_embedding"][:steps]  # (batch, steps, d)
    residual, patterns, head_outputs = [x], [], []
    for index, layer in enumerate(weights["layers"]):
        stream = x[:, None]  # (batch, 1, steps, d): the same stream for every head
        queries = stream @ layer["qk"]  # x_i W_QK: (batch, heads, steps, d)
        pattern = causal_softmax(queries @ np.swapaxes(stream, -1, -2))  # (batch, heads, steps, steps)
        for (where, head), given in patch.items():
            if where == index:
                pattern[:, head] = given
        values = stream @ layer["ov"]  # x_j W_OV: (batch, heads, steps, d)
        outputs = np.swapaxes(pattern @ values, 1, 2).copy()  # (batch, steps, heads, d)
        for (where, head), how in ablate.items():
            if where == index:
                outputs[:, :, head] = 0.0 if how == "zero" else outputs[:, :, head].mean(axis=0)
        x = x + outputs.sum(axis=2)
        residual.append(x)
        patterns.append(pattern)
        head_outputs.append(outputs)
    logits = x @ weights["unembedding"] + weights["unembedding_bias"]
    return {"logits": logits, "patterns": patterns, "head_outputs": head_outputs, "residual": residual}


# --- measuring -----------------------------------------------------------------------------------


def _patterns(name, patterns):
    patterns = as_array(name, patterns, ndim=4)
    if patterns.shape[-1] != patterns.shape[-2]:
        raise ValueError(f"`{name}` must be (batch, heads, steps, steps) self-attention weights. "
                         f"Received: {name}.shape={patterns.shape}")
    return patterns


def previous_token_score(patterns):
    """Per head, the mean weight that query i puts on key i − 1 (queries 1 … T − 1).

    Args:
        patterns: `(batch, heads, T, T)` attention weights (rows: queries).

    Returns:
        `(heads,)`: 1 for a head that always looks exactly one step back; `mean(1 / (i + 1))` for one
        that spreads its weight evenly over the causal prefix.
    """
    patterns = _patterns("patterns", patterns)
    return np.diagonal(patterns, offset=-1, axis1=2, axis2=3).mean(axis=(0, 2))


def induction_score(patterns, source):
    """Per head, the mean weight on the key right after the earlier occurrence of the query's token.

    Args:
        patterns: `(batch, heads, T, T)` attention weights.
        source: int `(batch, T)`: for each scored query i the key position j to look at (from
            `repeated_tokens(...)["source"]`), −1 for queries not scored.

    Returns:
        `(heads,)`: the mean of `patterns[b, h, i, source[b, i]]` over the scored queries.
    """
    patterns = _patterns("patterns", patterns)
    source = as_array("source", source, ndim=2, dtype=np.int64)
    if source.shape != (patterns.shape[0], patterns.shape[2]):
        raise ValueError(f"`source` must be (batch, T) = {(patterns.shape[0], patterns.shape[2])}. "
                         f"Received: source.shape={source.shape}")
    rows, queries = np.nonzero(source >= 0)
    if not len(rows):
        raise ValueError("`source` marks no query to score (every entry is -1).")
    return patterns[rows, :, queries, source[rows, queries]].mean(axis=0)


def log_softmax(logits):
    """log p over the last axis, computed stably (the largest logit is subtracted first)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def repeated_loss_and_accuracy(logits, data):
    """Mean loss (nats) and accuracy of the next-token prediction on the repeated positions only.

    Args:
        logits: `(batch, T, vocab)`.
        data: `repeated_tokens(...)` (its `targets` and `repeated`).

    Returns:
        `(loss, accuracy)` as floats.
    """
    logits = as_array("logits", logits, ndim=3)
    targets, mask = data["targets"], data["repeated"]
    picked = np.take_along_axis(log_softmax(logits), targets[..., None].astype(np.int64), axis=-1)[..., 0]
    correct = logits.argmax(axis=-1) == targets
    return float(-picked[mask].mean()), float(correct[mask].mean())


def per_position_loss(logits, targets):
    """`(batch, T)` loss −log p(target) at every position."""
    picked = np.take_along_axis(log_softmax(np.asarray(logits, float)), np.asarray(targets)[..., None], axis=-1)
    return -picked[..., 0]


# --- the hand-built circuit (the exercise of notebook 11) ------------------------------------------


def hand_built_layout(vocab_size=VOCAB_SIZE, context=CONTEXT):
    """The residual stream of the hand-built induction model: four slots side by side.

    `token` holds the one-hot of the token at this position (the token embedding), `position` the
    one-hot of the position (the position embedding), `previous` is empty until a layer-1 head
    writes into it, and `output` is what the unembedding reads (logit of token t = `output[t]`).

    Returns:
        dict of slices into the stream, `token`, `position`, `previous`, `output`; the stream's width
        is `layout["output"].stop` (`3·vocab_size + context`).
    """
    vocab_size = check_int("vocab_size", vocab_size, minimum=2)
    context = check_int("context", context, minimum=2)
    v, t = vocab_size, context
    return {"token": slice(0, v), "position": slice(v, v + t), "previous": slice(v + t, 2 * v + t),
            "output": slice(2 * v + t, 3 * v + t)}


def hand_built_weights(previous_qk, previous_ov, induction_qk, induction_ov, vocab_size=VOCAB_SIZE,
                       context=CONTEXT):
    """`forward` weights of a two-layer, one-head-per-layer model from its four circuits.

    The embeddings and the unembedding are fixed one-hot maps into and out of `hand_built_layout`'s
    slots; the four `(d, d)` matrices are the QK and OV circuits of the layer-1 head and the
    layer-2 head (`d = 3·vocab_size + context`).
    """
    layout = hand_built_layout(vocab_size, context)
    d = layout["output"].stop
    circuits_ = {}
    for name, value in (("previous_qk", previous_qk), ("previous_ov", previous_ov),
                        ("induction_qk", induction_qk), ("induction_ov", induction_ov)):
        array = as_array(name, value, ndim=2)
        if array.shape != (d, d):
            raise ValueError(f"`{name}` must be (d, d) = {(d, d)}, one row and one column per slot of the stream. "
                             f"Received: {name}.shape={array.shape}")
        circuits_[name] = array
    token_embedding = np.zeros((vocab_size, d))
    token_embedding[:, layout["token"]] = np.eye(vocab_size)
    position_embedding = np.zeros((context, d))
    position_embedding[:, layout["position"]] = np.eye(context)
    unembedding = np.zeros((d, vocab_size))
    unembedding[layout["output"]] = np.eye(vocab_size)
    return {
        "token_embedding": token_embedding, "position_embedding": position_embedding,
        "layers": [{"qk": circuits_["previous_qk"][None], "ov": circuits_["previous_ov"][None]},
                   {"qk": circuits_["induction_qk"][None], "ov": circuits_["induction_ov"][None]}],
        "unembedding": unembedding, "unembedding_bias": np.zeros(vocab_size),
    }
