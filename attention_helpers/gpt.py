"""Notebook 10's tiny GPT: a character-level language model of surnames, and a KV cache you can check.

The notebook writes every piece in its own cells; this module keeps the same code for the training
script, the tests, the exercise check and later notebooks (`tests/test_notebook_models.py` and
`tests/test_gpt.py` keep the two in step).

- `encode` / `decode`: names ↔ tokens. Token 0, ".", starts and ends every name; the others are a-z.
- `build_gpt`: token and position embeddings, pre-norm Transformer blocks with a causal mask
  (GPT-2's layout), a final LayerNorm and a Dense head that returns logits.
- `gpt_weights`, `forward`, `decode_step`, `attend_with_cache`: the same model in NumPy, for the
  whole sequence at once or one token at a time with a cache of keys and values.
- `sample_next`, `generate`: temperature and top-k sampling on the logits, with or without the cache.
- `negative_log_likelihood`, `model_nll`: the loss in nats per character, from logits or from a model.

Example:
    >>> import attention_helpers as ah
    >>> model = ah.pretrained.load_tiny_gpt()
    >>> weights = ah.gpt.gpt_weights(model)
    >>> ah.gpt.generate(weights, 3, temperature=0.0)  # greedy: the most likely name, three times
"""

from __future__ import annotations

import math

import numpy as np

from attention_helpers._validation import as_array, check_int, check_rate, check_seed

VOCAB = ".abcdefghijklmnopqrstuvwxyz"  # token i is VOCAB[i]
END = 0  # "." starts and ends every name
IGNORE = -1  # target at a padded step: not scored
CONTEXT = 14  # the longest census surname has 13 letters: "." + 13 letters as inputs
TOKEN_OF = {char: i for i, char in enumerate(VOCAB)}


def encode(names, context=CONTEXT):
    """Names as `(inputs, targets)`: ".name" predicts "name.", one character ahead.

    Args:
        names: list of lower-case names of the letters a-z, each at most `context - 1` letters.
        context: length of every row; rows are padded with "." in the inputs and `IGNORE` (-1) in
            the targets, so that padded steps are not scored.

    Returns:
        int32 `inputs` and `targets` of shape `(len(names), context)`, with
        `targets[i, t] == inputs[i, t + 1]` wherever the name goes on.
    """
    context = check_int("context", context, minimum=2)
    if isinstance(names, str):
        raise TypeError(f"`names` must be a list of names, not one string. Received: names={names!r}")
    inputs = np.full((len(names), context), END, dtype="int32")
    targets = np.full((len(names), context), IGNORE, dtype="int32")
    for row, name in enumerate(names):
        if not isinstance(name, str) or not name or any(char not in TOKEN_OF or char == "." for char in name):
            raise ValueError(f"`names` must hold non-empty strings of the letters a-z. Received: {name!r}")
        if len(name) > context - 1:
            raise ValueError(f"`names` must hold names of at most context - 1 = {context - 1} letters. "
                             f"Received: {name!r} ({len(name)} letters)")
        tokens = [END, *(TOKEN_OF[char] for char in name), END]  # ".name."
        inputs[row, : len(tokens) - 1] = tokens[:-1]
        targets[row, : len(tokens) - 1] = tokens[1:]
    return inputs, targets


def decode(tokens):
    """The name spelled by `tokens` (one row), from after the start token to the first end token."""
    tokens = [int(t) for t in np.asarray(tokens).ravel()]
    if tokens and tokens[0] == END:
        tokens = tokens[1:]
    name = []
    for token in tokens:
        if token == END:
            break
        name.append(VOCAB[token])
    return "".join(name)


def build_gpt(
    vocab_size=27,
    context=CONTEXT,
    d_model=64,
    num_heads=4,
    num_layers=2,
    dropout=0.1,
    learning_rate=3e-3,
    num_key_value_heads=None,
):
    """A GPT as GPT-2 lays it out, small: the same model notebook 10 writes in its cells.

    tokens → token embedding + position embedding → dropout → `num_layers` ×
    `TransformerBlock(norm_first=True, activation="gelu")` with a causal mask → LayerNorm → Dense
    head: logits over the vocabulary at every step (no softmax layer; the loss takes logits).
    The head has its own weights (GPT-2 ties them to the token embedding; we do not).

    Args:
        vocab_size: tokens in the vocabulary.
        context: the longest input, in tokens (positions have learned vectors up to it).
        d_model: width of every token's vector.
        num_heads: heads per block; each of width `d_model // num_heads`.
        num_layers: Transformer blocks.
        dropout: on the embeddings, the attention weights and both residual branches.
        learning_rate: of AdamW.
        num_key_value_heads: key/value heads per block (grouped-query attention, notebook 12); None:
            one per head, as in notebook 10.

    Returns:
        a `keras.Model`, `(batch, steps <= context)` int tokens → `(batch, steps, vocab_size)` logits,
        compiled with AdamW and cross-entropy on logits that skips targets equal to `IGNORE`.
    """
    import keras

    from attention_helpers import layers

    vocab_size = check_int("vocab_size", vocab_size, minimum=2)
    context = check_int("context", context, minimum=1)
    d_model = check_int("d_model", d_model, minimum=1)
    num_heads = check_int("num_heads", num_heads, minimum=1)
    num_layers = check_int("num_layers", num_layers, minimum=1)
    dropout = check_rate("dropout", dropout)
    if d_model % num_heads:
        raise ValueError(f"`d_model` must be a multiple of `num_heads`. Received: d_model={d_model}, "
                         f"num_heads={num_heads}")
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, d_model, name="token_embedding")(tokens)  # (batch, steps, d_model)
    x = x + layers.PositionEmbedding(context, name="position_embedding")(x)
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(num_layers):
        block = layers.TransformerBlock(num_heads, d_model // num_heads, 4 * d_model, dropout=dropout,
                                        norm_first=True, activation="gelu", num_key_value_heads=num_key_value_heads,
                                        name=f"block_{i}")
        x = block(x, use_causal_mask=True)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    logits = keras.layers.Dense(vocab_size, name="head")(x)  # (batch, steps, vocab_size)
    model = keras.Model(tokens, logits, name="tiny_gpt")
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate, weight_decay=0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=IGNORE),
    )
    return model


def log_softmax(logits, axis=-1):
    logits = np.asarray(logits, dtype="float64")
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def negative_log_likelihood(logits, targets):
    """Mean −log p(target) in nats over the scored steps (targets != IGNORE).

    Args:
        logits: `(batch, steps, vocab)`.
        targets: int `(batch, steps)`, `IGNORE` where nothing is scored.
    """
    logits = as_array("logits", logits, ndim=3)
    targets = np.asarray(targets)
    if targets.shape != logits.shape[:2]:
        raise ValueError(f"`targets` must have shape {logits.shape[:2]} (the logits' batch and steps). "
                         f"Received: targets.shape={targets.shape}")
    scored = targets != IGNORE
    picked = np.take_along_axis(log_softmax(logits), np.where(scored, targets, 0)[..., None], axis=-1)[..., 0]
    return float(-picked[scored].mean())


def model_logits(model, inputs, batch_size=2048):
    """The model's logits (inference mode, float32 NumPy) for int `inputs`, in batches."""
    import keras

    parts = [keras.ops.convert_to_numpy(model(inputs[i : i + batch_size], training=False))
             for i in range(0, len(inputs), batch_size)]
    return np.concatenate(parts).astype("float32")


# --- the same model in NumPy -------------------------------------------------------------------------


def gpt_weights(model):
    """The weights of a `build_gpt` model as NumPy arrays, named after what they do.

    Returns:
        dict with `token_embedding` `(vocab, d)`, `position_embedding` `(context, d)`, `blocks` (one
        dict per block: `norm1`, `norm2` as `(gamma, beta, epsilon)`, `w_q`, `w_k`, `w_v`
        `(d, heads, head_dim)`, `b_q`, `b_k`, `b_v` `(heads, head_dim)`, `w_o` `(heads, head_dim, d)`,
        `b_o` `(d,)`, `w_1` `(d, ff)`, `b_1`, `w_2` `(ff, d)`, `b_2`), `final_norm`, `w_head`
        `(d, vocab)` and `b_head`.
    """
    import keras

    def numpy(variable):
        return keras.ops.convert_to_numpy(variable).astype("float32")

    def norm(layer):
        return numpy(layer.gamma), numpy(layer.beta), float(layer.epsilon)

    blocks = []
    for layer in model.layers:
        if type(layer).__name__ != "TransformerBlock":
            continue
        attention = layer.attention
        if attention.key_kernel.shape[1] != attention.query_kernel.shape[1]:
            raise ValueError("gpt_weights reads models with one key/value head per query head only. Received: "
                             f"{attention.query_kernel.shape[1]} query heads, {attention.key_kernel.shape[1]} "
                             "key/value heads")
        blocks.append({
            "norm1": norm(layer.attention_norm),
            "w_q": numpy(attention.query_kernel), "b_q": numpy(attention.query_bias),
            "w_k": numpy(attention.key_kernel), "b_k": numpy(attention.key_bias),
            "w_v": numpy(attention.value_kernel), "b_v": numpy(attention.value_bias),
            "w_o": numpy(attention.output_kernel), "b_o": numpy(attention.output_bias),
            "norm2": norm(layer.feed_forward_norm),
            "w_1": numpy(layer.feed_forward_in.kernel), "b_1": numpy(layer.feed_forward_in.bias),
            "w_2": numpy(layer.feed_forward_out.kernel), "b_2": numpy(layer.feed_forward_out.bias),
        })
    head = model.get_layer("head")
    return {
        "token_embedding": numpy(model.get_layer("token_embedding").embeddings),
        "position_embedding": numpy(model.get_layer("position_embedding").embeddings),
        "blocks": blocks,
        "final_norm": norm(model.get_layer("final_norm")),
        "w_head": numpy(head.kernel),
        "b_head": numpy(head.bias),
    }


def layer_norm(x, norm):
    gamma, beta, epsilon = norm
    mean = x.mean(axis=-1, keepdims=True)
    variance = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def gelu(x):
    """Keras's "gelu" (exact): x · Φ(x), Φ the standard normal's distribution function."""
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def softmax(scores, axis=-1):
    """Stable softmax that keeps the dtype (`reference.softmax` computes in float64): the cache stays float32."""
    shifted = scores - scores.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def feed_forward(x, block):
    return gelu(x @ block["w_1"] + block["b_1"]) @ block["w_2"] + block["b_2"]


def forward(weights, tokens, return_attention=False):
    """The whole causal forward pass in NumPy, every position at once (no cache).

    Args:
        weights: `gpt_weights(model)`.
        tokens: int `(batch, steps)`.
        return_attention: also return each block's weights `(batch, heads, steps, steps)`.

    Returns:
        logits `(batch, steps, vocab)` (float32), and the list of attention weights if asked.
    """
    tokens = np.asarray(tokens)
    steps = tokens.shape[1]
    x = weights["token_embedding"][tokens] + weights["position_embedding"][:steps]  # (batch, steps, d)
    future = np.triu(np.ones((steps, steps), bool), k=1)  # True where key j > query i
    maps = []
    for block in weights["blocks"]:
        h = layer_norm(x, block["norm1"])
        q = np.einsum("btf,fhd->bthd", h, block["w_q"]) + block["b_q"]  # (batch, steps, heads, head_dim)
        k = np.einsum("btf,fhd->bthd", h, block["w_k"]) + block["b_k"]
        v = np.einsum("btf,fhd->bthd", h, block["w_v"]) + block["b_v"]
        scores = np.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(q.shape[-1])  # (batch, heads, steps, steps)
        attention = softmax(np.where(future, -np.inf, scores))
        maps.append(attention)
        heads = np.einsum("bhqk,bkhd->bqhd", attention, v)
        x = x + np.einsum("bqhd,hdf->bqf", heads, block["w_o"]) + block["b_o"]
        x = x + feed_forward(layer_norm(x, block["norm2"]), block)
    logits = (layer_norm(x, weights["final_norm"]) @ weights["w_head"] + weights["b_head"]).astype("float32")
    return (logits, maps) if return_attention else logits


def empty_cache(weights, batch):
    """One `{"keys", "values"}` pair of `(batch, 0, heads, head_dim)` arrays per block."""
    heads, head_dim = weights["blocks"][0]["w_k"].shape[1:]
    return [{"keys": np.zeros((batch, 0, heads, head_dim), "float32"),
             "values": np.zeros((batch, 0, heads, head_dim), "float32")} for _ in weights["blocks"]]


def attend_with_cache(q, k_new, v_new, cache):
    """Attention of the newest token: append its key and value to the cache, attend over all of it.

    Args:
        q, k_new, v_new: the newest token's query, key and value, `(batch, heads, head_dim)`.
        cache: `{"keys", "values"}`, each `(batch, steps so far, heads, head_dim)`.

    Returns:
        `(output, cache)`: output `(batch, heads, head_dim)` and the cache with one more step.
    """
    keys = np.concatenate([cache["keys"], k_new[:, None]], axis=1)  # (batch, t + 1, heads, head_dim)
    values = np.concatenate([cache["values"], v_new[:, None]], axis=1)
    scores = np.einsum("bhd,bthd->bht", q, keys) / math.sqrt(q.shape[-1])  # (batch, heads, t + 1)
    weights = softmax(scores)  # no mask needed: the cache holds only the past and the present
    return np.einsum("bht,bthd->bhd", weights, values), {"keys": keys, "values": values}


def decode_step(weights, tokens, position, cache, attend=attend_with_cache):
    """Logits for the next token from one new token per sequence, using and updating the cache.

    Args:
        weights: `gpt_weights(model)`.
        tokens: int `(batch,)`, the tokens at `position`.
        position: their position (the number of tokens already in the cache).
        cache: from `empty_cache`, or the previous step; replaced block by block (returned).
        attend: the function that appends to a block's cache and attends (`attend_with_cache`);
            the exercise of notebook 10 passes the student's.

    Returns:
        `(logits, cache)`: float32 `(batch, vocab)` and the updated cache.
    """
    x = weights["token_embedding"][np.asarray(tokens)] + weights["position_embedding"][position]  # (batch, d)
    new_cache = []
    for block, block_cache in zip(weights["blocks"], cache):
        h = layer_norm(x, block["norm1"])
        q = np.einsum("bf,fhd->bhd", h, block["w_q"]) + block["b_q"]  # (batch, heads, head_dim)
        k = np.einsum("bf,fhd->bhd", h, block["w_k"]) + block["b_k"]
        v = np.einsum("bf,fhd->bhd", h, block["w_v"]) + block["b_v"]
        heads, block_cache = attend(q, k, v, block_cache)
        new_cache.append(block_cache)
        x = x + np.einsum("bhd,hdf->bf", heads, block["w_o"]) + block["b_o"]
        x = x + feed_forward(layer_norm(x, block["norm2"]), block)
    logits = layer_norm(x, weights["final_norm"]) @ weights["w_head"] + weights["b_head"]
    return logits.astype("float32"), new_cache


def sample_next(logits, temperature=1.0, top_k=None, rng=None):
    """One token per row of `logits` `(batch, vocab)`.

    temperature 0 takes the most likely token (greedy); otherwise the logits are divided by the
    temperature, all but the `top_k` largest are set to −∞ (if `top_k` is given), and a token is
    drawn from their softmax with `rng` (a `numpy.random.Generator`).
    """
    logits = as_array("logits", logits, ndim=2)
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or temperature < 0:
        raise ValueError(f"`temperature` must be a number >= 0. Received: temperature={temperature!r}")
    if temperature == 0:
        return logits.argmax(axis=-1)
    scaled = logits / temperature
    if top_k is not None:
        top_k = check_int("top_k", top_k, minimum=1, maximum=logits.shape[-1])
        kth_largest = np.sort(scaled, axis=-1)[:, -top_k][:, None]
        scaled = np.where(scaled < kth_largest, -np.inf, scaled)
    probabilities = softmax(scaled)
    rng = np.random.default_rng() if rng is None else rng
    draws = rng.random((len(logits), 1))
    return np.minimum((probabilities.cumsum(axis=-1) < draws).sum(axis=-1), logits.shape[-1] - 1)


def generate(weights, n, temperature=1.0, top_k=None, seed=None, use_cache=True, return_logits=False,
             attend=attend_with_cache, prefixes=None):
    """`n` names sampled from the model, written one character at a time.

    Args:
        weights: `gpt_weights(model)`.
        n: how many names.
        temperature, top_k: as in `sample_next` (temperature 0: greedy).
        seed: seed of the draws.
        use_cache: True to feed one new token per step with the KV cache (`decode_step`); False to
            recompute the whole prefix at every step (`forward`), as a model without a cache does.
        return_logits: also return the logits of every step, `(n, steps, vocab)`.
        attend: the cache update `decode_step` uses (`attend_with_cache`).
        prefixes: None, or `n` strings of equal length: each name starts with its prefix (the model
            reads it, and writes from there on).

    Returns:
        list of `n` names (a name stops at the end token or at the context length), and the
        tokens `(n, 1 + steps)` and logits if `return_logits`.
    """
    n = check_int("n", n, minimum=1)
    rng = np.random.default_rng(check_seed(seed))
    context = weights["position_embedding"].shape[0]
    forced = np.zeros((n, 0), dtype="int64")
    if prefixes is not None:
        if len(prefixes) != n or len({len(prefix) for prefix in prefixes}) != 1:
            raise ValueError(f"`prefixes` must be {n} strings of equal length. Received: {prefixes!r}")
        forced = encode(list(prefixes), context=len(prefixes[0]) + 1)[0][:, 1:].astype("int64")
    tokens = np.full((n, 1), END, dtype="int64")
    cache = empty_cache(weights, n)
    all_logits = []
    for position in range(context):
        if use_cache:
            logits, cache = decode_step(weights, tokens[:, -1], position, cache, attend=attend)
        else:
            logits = forward(weights, tokens)[:, -1]
        all_logits.append(logits)
        chosen = forced[:, position] if position < forced.shape[1] else sample_next(logits, temperature, top_k, rng)
        tokens = np.concatenate([tokens, chosen[:, None]], axis=1)
        if np.all((tokens[:, 1:] == END).any(axis=1)):
            break
    names = [decode(row) for row in tokens]
    if return_logits:
        return names, tokens, np.stack(all_logits, axis=1)
    return names


def model_nll(model, inputs, targets, batch_size=2048):
    """The Keras model's mean −log p(target) in nats over the scored steps, without computing padding.

    Rows are grouped by the number of steps they score and each group is run only that far: with the
    causal mask, the logits of the steps kept do not depend on the steps cut, so the result is that of
    `negative_log_likelihood(model_logits(model, inputs), targets)`, in about half the time on names.
    """
    import keras

    targets = np.asarray(targets)
    lengths = (targets != IGNORE).sum(axis=1)
    total, count = 0.0, 0
    for length in np.unique(lengths[lengths > 0]):
        rows = np.flatnonzero(lengths == length)
        for start in range(0, len(rows), batch_size):
            chosen = rows[start : start + batch_size]
            logits = keras.ops.convert_to_numpy(model(inputs[chosen, :length], training=False))
            scored = targets[chosen, :length]
            total += negative_log_likelihood(logits, scored) * int((scored != IGNORE).sum())
            count += int((scored != IGNORE).sum())
    return total / count
