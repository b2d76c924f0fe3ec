"""Seeded toy data sets for the notebooks. Nothing is downloaded: every array is generated here, or read
from a package we depend on (scikit-learn's digits, the `names` package's census lists).

Same arguments and the same `seed` give the same arrays on every machine
(`numpy.random.default_rng`).
"""

from __future__ import annotations

import functools
import zlib

import numpy as np

from attention_helpers._validation import check_bool, check_index, check_int, check_one_of, check_seed


def dense_task(n, dims=32, target_index=1, seed=None):
    """The "only x[1] matters" task of keras-attention-mechanism (its `get_data`; Rémy calls the input v).

    Each sample is a vector of `dims` values drawn from N(0, 1); the binary label is copied
    into position `target_index`, so that one input alone decides the label and every other
    input is noise.

    Args:
        n: number of samples (>= 1).
        dims: vector length (>= 2).
        target_index: the position that carries the label, in [0, dims - 1].
        seed: None or a non-negative int.

    Returns:
        `(x, y)`: float32 `x` of shape `(n, dims)` and float32 `y` of shape `(n, 1)` in {0, 1},
        with `x[:, target_index] == y[:, 0]`.

    Example:
        >>> x, y = dense_task(4, seed=0)
        >>> x.shape, y.shape
        ((4, 32), (4, 1))
    """
    n = check_int("n", n, minimum=1)
    dims = check_int("dims", dims, minimum=2)
    target_index = check_index("target_index", target_index, dims, "dims")
    rng = np.random.default_rng(check_seed(seed))
    x = rng.standard_normal((n, dims)).astype(np.float32)
    y = rng.integers(0, 2, size=(n, 1)).astype(np.float32)
    x[:, target_index] = y[:, 0]
    return x, y


def sequence_task(n, steps=20, dims=2, target_step=10, seed=None):
    """The recurrent version of the task (`get_data_recurrent` in Philippe Rémy's keras-attention-mechanism).

    Every value is drawn from N(0, 1), then the binary label is written into every dimension at
    `target_step`: only that step carries information.

    Args:
        n: number of sequences (>= 1).
        steps: sequence length (>= 2).
        dims: values per step (>= 1).
        target_step: the step that carries the label, in [0, steps - 1].
        seed: None or a non-negative int.

    Returns:
        `(x, y)`: float32 `x` of shape `(n, steps, dims)` and float32 `y` of shape `(n, 1)`, with
        `x[:, target_step, :] == y`.
    """
    n = check_int("n", n, minimum=1)
    steps = check_int("steps", steps, minimum=2)
    dims = check_int("dims", dims, minimum=1)
    target_step = check_index("target_step", target_step, steps, "steps")
    rng = np.random.default_rng(check_seed(seed))
    x = rng.standard_normal((n, steps, dims)).astype(np.float32)
    y = rng.integers(0, 2, size=(n, 1)).astype(np.float32)
    x[:, target_step, :] = y
    return x, y


def multi_signal_task(n, steps=20, dims=2, target_steps=(5, 15), seed=None):
    """A sequence task where each dimension carries its own signal at its own step.

    Dimension `d` holds a signal `s_d ~ N(0, 1)` at step `target_steps[d]`; everything else is
    N(0, 1) noise. The label is 1 when the signals sum to more than 0. Each signal alone predicts
    the label only partly (about 75% for two dimensions); both together predict it exactly. So one
    attention vector shared by all dimensions, which cannot look at step 5 in dimension 0 and at
    step 15 in dimension 1 at the same time, loses accuracy that one vector per dimension keeps.

    Args:
        n: number of sequences (>= 1).
        steps: sequence length (>= 2).
        dims: number of dimensions (>= 1).
        target_steps: one step per dimension (`len(target_steps) == dims`).
        seed: None or a non-negative int.

    Returns:
        `(x, y)`: float32 `x` `(n, steps, dims)` and float32 `y` `(n, 1)` in {0, 1}, with
        `y == (sum_d x[:, target_steps[d], d] > 0)`.
    """
    n = check_int("n", n, minimum=1)
    steps = check_int("steps", steps, minimum=2)
    dims = check_int("dims", dims, minimum=1)
    if isinstance(target_steps, (str, bytes)) or not hasattr(target_steps, "__len__") or len(target_steps) == 0:
        raise TypeError(
            f"`target_steps` must be a non-empty sequence of step indices, one per dimension. "
            f"Received: target_steps={target_steps!r}"
        )
    if len(target_steps) != dims:
        raise ValueError(
            f"`target_steps` must have one step per dimension ({dims}, from dims={dims}). "
            f"Received: target_steps={tuple(target_steps)} ({len(target_steps)} steps)"
        )
    target_steps = tuple(check_index(f"target_steps[{d}]", step, steps, "steps") for d, step in enumerate(target_steps))
    rng = np.random.default_rng(check_seed(seed))
    x = rng.standard_normal((n, steps, dims)).astype(np.float32)
    signals = x[:, list(target_steps), list(range(dims))]  # (n, dims): the value each dimension plants
    y = (signals.sum(axis=1, keepdims=True) > 0).astype(np.float32)
    return x, y


def addition_task(n, min_length=10, max_length=30, seed=None):
    """A small, variable-length variant of the addition problem (Hochreiter & Schmidhuber 1997).

    Raffel & Ellis (2015) test feed-forward attention on the addition problem too, with much longer
    sequences (50 to 10,000 steps), their own value range, markers and target, and fresh sequences
    for every batch; notebook 04 compares the two set-ups. This variant is short and padded, so that
    masking matters.

    Each sequence has a random length in [min_length, max_length]. Every real step holds two
    values: a number drawn uniformly from (0, 1], and a marker that is 1 at exactly two steps and 0
    elsewhere. The target is the sum of the two marked numbers. Sequences are padded with zeros
    after their end to `max_length` steps; a real step is never all zeros (its number is > 0), so
    `keras.layers.Masking(mask_value=0.0)` recovers the padding mask.

    Args:
        n: number of sequences (>= 1).
        min_length, max_length: range of lengths, 2 <= min_length <= max_length.
        seed: None or a non-negative int.

    Returns:
        `(x, y)`: float32 `x` `(n, max_length, 2)` (number, marker) and float32 `y` `(n, 1)`.
        The lengths are `(x[:, :, 0] > 0).sum(axis=1)`.
    """
    n = check_int("n", n, minimum=1)
    min_length = check_int("min_length", min_length, minimum=2)
    max_length = check_int("max_length", max_length, minimum=2)
    if min_length > max_length:
        raise ValueError(
            f"`min_length` must be <= `max_length`. Received: min_length={min_length}, max_length={max_length}"
        )
    rng = np.random.default_rng(check_seed(seed))
    lengths = rng.integers(min_length, max_length + 1, size=n)
    x = np.zeros((n, max_length, 2), dtype=np.float32)
    y = np.zeros((n, 1), dtype=np.float32)
    for i, length in enumerate(lengths):
        x[i, :length, 0] = 1.0 - rng.random(length)  # in (0, 1]: never exactly 0
        marked = rng.choice(length, size=2, replace=False)
        x[i, marked, 1] = 1.0
        y[i, 0] = x[i, marked, 0].sum()
    return x, y


def query_document_task(n, vocab_size=20, query_length=4, document_length=12, seed=None):
    """Does the document contain one of the query's tokens? (for the CNN + attention pattern).

    Token ids are in [1, vocab_size - 1] (0 is left free for padding). The query holds
    `query_length` distinct tokens. For a positive sample (label 1) exactly one position of the
    document holds one of the query's tokens; for a negative sample the document holds none of them.

    Returns:
        `(query, document, y)`: int32 `(n, query_length)`, int32 `(n, document_length)`, float32
        `(n, 1)`, balanced labels.
    """
    n = check_int("n", n, minimum=1)
    vocab_size = check_int("vocab_size", vocab_size, minimum=4)
    query_length = check_int("query_length", query_length, minimum=1, maximum=vocab_size - 2)
    document_length = check_int("document_length", document_length, minimum=1)
    rng = np.random.default_rng(check_seed(seed))
    tokens = np.arange(1, vocab_size)
    query = np.zeros((n, query_length), np.int32)
    document = np.zeros((n, document_length), np.int32)
    y = rng.integers(0, 2, size=(n, 1)).astype(np.float32)
    for i in range(n):
        query[i] = rng.choice(tokens, size=query_length, replace=False)
        others = np.setdiff1d(tokens, query[i])
        document[i] = rng.choice(others, size=document_length, replace=True)
        if y[i, 0] == 1:
            document[i, rng.integers(document_length)] = rng.choice(query[i])
    return query, document, y


def reversal_task(n, length=8, vocab_size=10, seed=None):
    """Sequence-to-sequence toy task with a known alignment: output step i copies input step length-1-i.

    Returns:
        `(source, target)`: int32 arrays `(n, length)` with tokens in [0, vocab_size - 1] and
        `target == source[:, ::-1]`.
    """
    n = check_int("n", n, minimum=1)
    length = check_int("length", length, minimum=2)
    vocab_size = check_int("vocab_size", vocab_size, minimum=2)
    rng = np.random.default_rng(check_seed(seed))
    source = rng.integers(0, vocab_size, size=(n, length)).astype(np.int32)
    return source, source[:, ::-1].copy()


def two_objects_task(
    n,
    size=12,
    object_size=3,
    min_distance=6,
    distractors=3,
    colours=None,
    twin_probability=0.0,
    seed=None,
    return_objects=False,
):
    """Images with two marked squares far apart; the label says whether they look the same.

    Each `size × size` image holds two *marked* squares (`object_size` wide, top-left corners at
    least `min_distance` apart in Chebyshev distance, so no small convolution sees both) and
    `distractors` unmarked squares. No two squares overlap or touch: at least one background pixel
    separates any two, so every pixel belongs to one object at most (and a 2×2 pooling cell aligned
    on even pixels never covers two objects). The last channel is the *marker*: 1 on the marked
    squares only. The label is 1 when the two marked squares look the same, 0 when they differ:

    - `colours=None`: 2 channels, brightness and marker. The first marked square's brightness is
      drawn from U(0.3, 1), like a distractor's; the second has the same brightness (label 1) or
      one 0.25 to 0.5 away (label 0).
    - `colours=K` (K >= 2): K + 1 channels, a one-hot colour (channels 0 to K - 1) and the marker.
      The first marked square's colour is drawn uniformly, like a distractor's; the second has the
      same colour (label 1) or one of the K - 1 others (label 0).

    With probability `twin_probability` a distractor is a *twin*: it copies the brightness or
    colour of one of the marked squares (either, with equal chance), so what a square looks like
    does not tell whether it is marked. Averaging the image does not answer the question (the
    distractors blur it): a pixel of one marked square has to find the other.

    Args:
        n: number of images (>= 1).
        size: image height and width (>= 4).
        object_size: side of every square, in [1, size // 2].
        min_distance: least Chebyshev distance between the marked squares' top-left corners, in
            [object_size + 1, size - object_size].
        distractors: number of unmarked squares (>= 0); they must fit (else a ValueError).
        colours: None for brightness, or the number of colours K (>= 2).
        twin_probability: chance, in [0, 1], that a distractor copies a marked square.
        seed: None or a non-negative int.
        return_objects: also return which object each pixel belongs to.

    Returns:
        `(images, y, corners)`: float32 `(n, size, size, channels)`, float32 `(n, 1)`, and int32
        `(n, 2, 2)` with the (row, column) of each marked square's top-left corner. With
        `return_objects`, also int32 `objects` `(n, size, size)`: 0 for background, 1 and 2 for the
        first and second marked square, 3, 4, ... for the distractors.

    Example:
        >>> images, y, corners, objects = two_objects_task(4, colours=3, seed=0, return_objects=True)
        >>> images.shape, objects.max()
        ((4, 12, 12, 4), 5)
    """
    n = check_int("n", n, minimum=1)
    size = check_int("size", size, minimum=4)
    object_size = check_int("object_size", object_size, minimum=1, maximum=size // 2)
    min_distance = check_int("min_distance", min_distance, minimum=object_size + 1, maximum=size - object_size)
    distractors = check_int("distractors", distractors, minimum=0)
    colours = None if colours is None else check_int("colours", colours, minimum=2)
    if isinstance(twin_probability, bool) or not isinstance(twin_probability, (int, float)):
        raise TypeError(
            f"`twin_probability` must be a number in [0, 1]. Received: twin_probability={twin_probability!r}"
        )
    if not 0.0 <= twin_probability <= 1.0:
        raise ValueError(f"`twin_probability` must be in [0, 1]. Received: twin_probability={twin_probability!r}")
    return_objects = check_bool("return_objects", return_objects)
    rng = np.random.default_rng(check_seed(seed))
    channels = 2 if colours is None else colours + 1
    images = np.zeros((n, size, size, channels), np.float32)
    objects = np.zeros((n, size, size), np.int32)
    y = rng.integers(0, 2, size=(n, 1)).astype(np.float32)
    corners = np.zeros((n, 2, 2), np.int32)
    last = size - object_size
    apart = object_size + 1  # corners this far apart (Chebyshev) leave a background pixel between squares
    grid = np.stack(np.meshgrid(np.arange(last + 1), np.arange(last + 1), indexing="ij"), axis=-1).reshape(-1, 2)
    distance = np.max(np.abs(grid[:, None] - grid[None, :]), axis=-1)  # Chebyshev, between candidate corners
    pairs = np.argwhere(distance >= min_distance)  # (first, second) corners far enough apart
    clash = distance < apart  # squares at these two corners would overlap or touch
    for i in range(n):
        for _attempt in range(100):  # a layout can leave no room for the last distractor: draw it again
            placed = list(pairs[rng.integers(len(pairs))])
            for _ in range(distractors):
                clear = np.flatnonzero(~clash[placed].any(axis=0))
                if clear.size == 0:
                    break
                placed.append(clear[rng.integers(clear.size)])
            if len(placed) == 2 + distractors:
                break
        else:
            raise ValueError(
                f"{distractors} distractors do not fit in a {size}×{size} image with {object_size}×{object_size} "
                f"squares kept apart. Received: distractors={distractors}, size={size}, object_size={object_size}"
            )
        placed = grid[placed]
        looks = _two_looks(rng, y[i, 0] == 1, colours)
        for _ in range(distractors):
            twin = rng.random() < twin_probability
            looks.append(looks[rng.integers(2)] if twin else _two_looks(rng, False, colours)[0])
        for k, ((r, c), look) in enumerate(zip(placed, looks)):
            window = (i, slice(r, r + object_size), slice(c, c + object_size))
            if colours is None:
                images[(*window, 0)] = look
            else:
                images[(*window, look)] = 1.0
            images[(*window, channels - 1)] = 1.0 if k < 2 else 0.0
            objects[window] = k + 1
        corners[i] = placed[:2]
    if return_objects:
        return images, y, corners, objects
    return images, y, corners


def _two_looks(rng, same, colours):
    """Brightness (colours=None) or colour index of the two marked squares: the same, or clearly not."""
    if colours is not None:
        first = int(rng.integers(colours))
        return [first, first if same else (first + int(rng.integers(1, colours))) % colours]
    first = rng.uniform(0.3, 1.0)
    if same:
        return [first, first]
    gap = rng.uniform(0.25, 0.5)
    if first - gap >= 0.3:
        return [first, first - gap]
    if first + gap <= 1.0:
        return [first, first + gap]
    return [first, 0.3 if first - 0.3 >= 1.0 - first else 1.0]  # no room either way: as far as the range allows


def upsample2x_bilinear(images):
    """Double the height and width of `(n, H, W)` images by bilinear interpolation (half-pixel centres).

    Output pixel i samples the input at coordinate i/2 - 1/4, clamped to the edge: so output pixels
    2k and 2k+1 are `0.75 x[k] + 0.25 x[k-1]` and `0.75 x[k] + 0.25 x[k+1]`, along rows, then
    columns. This is what `keras.ops.image.resize(..., interpolation="bilinear")` and
    `tf.image.resize` compute for a factor of 2. Every output is a weighted mean of inputs, so the
    value range cannot grow.
    """
    images = np.asarray(images)

    def along(x, axis):
        x = np.moveaxis(x, axis, -1)
        before = np.concatenate([x[..., :1], x[..., :-1]], axis=-1)  # x[k-1], edge repeated
        after = np.concatenate([x[..., 1:], x[..., -1:]], axis=-1)  # x[k+1], edge repeated
        out = np.stack([0.75 * x + 0.25 * before, 0.75 * x + 0.25 * after], axis=-1)  # (..., W, 2)
        return np.moveaxis(out.reshape(*x.shape[:-1], 2 * x.shape[-1]), -1, axis)

    return along(along(images, -2), -1)


DIGITS_SIZES = (8, 16)


def digits(size=8, seed=None):
    """The 1,797 handwritten digits of scikit-learn's `load_digits`, scaled to [-1, 1].

    The images ship inside scikit-learn (the UCI "optical recognition of handwritten digits" test
    set, 8×8 pixels of 17 grey levels, 0 to 16): nothing is downloaded. Pixel p becomes
    `p / 8 - 1`, so the background is -1 and a full stroke +1 (the range of a generator's tanh).
    With `size=16` each image is doubled by `upsample2x_bilinear` (bilinear, half-pixel centres),
    which keeps the values in [-1, 1].

    Args:
        size: 8 (the original images) or 16 (upsampled 2×).
        seed: None keeps scikit-learn's order (0, 1, ..., 9, 0, 1, ...); an int shuffles images
            and labels together with `numpy.random.default_rng(seed).permutation`.

    Returns:
        `(images, labels)`: float32 `(1797, size, size, 1)` in [-1, 1] and int32 `(1797,)` in 0..9.

    Example:
        >>> images, labels = digits(16, seed=0)
        >>> images.shape, labels.shape
        ((1797, 16, 16, 1), (1797,))
    """
    if isinstance(size, bool) or size not in DIGITS_SIZES:
        raise ValueError(
            f"Invalid value for argument `size`. Expected one of {list(DIGITS_SIZES)} "
            f"(8: the original images, 16: upsampled 2×). Received: size={size!r}"
        )
    seed = check_seed(seed)
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    bunch = load_digits()
    images = bunch.images / 8.0 - 1.0  # 0..16 -> -1..1
    if size == 16:
        images = upsample2x_bilinear(images)
    images = images[..., None].astype(np.float32)
    labels = bunch.target.astype(np.int32)
    if seed is not None:
        order = np.random.default_rng(seed).permutation(len(labels))
        images, labels = images[order], labels[order]
    return images, labels


def pointer_mirror_task(n, length=8, seed=None):
    """Two lookups per output step: one whose place depends on the input, one fixed (for notebook 08).

    Tokens are in [0, length - 1], so every token can also be read as a position of its own
    sequence. At output step i the answer is a pair of tokens:

        pointed  = source[source[i]]        (follow the address written at step i: input-dependent)
        mirrored = source[length - 1 - i]   (the reversal of `reversal_task`: the same for every input)

    encoded as the single class `length * pointed + mirrored`, so a model predicts one of `length²`
    classes per step. A model whose queries carry only the output position (as in `reversal_task`'s
    model) can find `mirrored` but not `pointed`.

    Args:
        n: number of sequences (>= 1).
        length: steps per sequence, also the number of distinct tokens (>= 2).
        seed: None or a non-negative int.

    Returns:
        `(source, target)`: int32 arrays `(n, length)`; `target // length` is the pointed token and
        `target % length` the mirrored one.

    Example:
        >>> source, target = pointer_mirror_task(1, length=4, seed=0)
        >>> bool((target // 4 == source[0, source[0]]).all() and (target % 4 == source[0, ::-1]).all())
        True
    """
    n = check_int("n", n, minimum=1)
    length = check_int("length", length, minimum=2)
    rng = np.random.default_rng(check_seed(seed))
    source = rng.integers(0, length, size=(n, length)).astype(np.int32)
    pointed = np.take_along_axis(source, source, axis=1)  # source[b, source[b, i]]
    mirrored = source[:, ::-1]
    return source, (length * pointed + mirrored).astype(np.int32)


CENSUS_LISTS = {"last": "dist.all.last", "female": "dist.female.first", "male": "dist.male.first"}
NAME_SPLITS = ("train", "validation", "test")


def _name_split(name):
    """0 (train), 1 (validation) or 2 (test): decided by the name alone, the same on every machine."""
    bucket = zlib.crc32(name.encode("ascii")) % 10  # CRC-32 is fixed by its standard, unlike hash()
    return 0 if bucket < 8 else 1 if bucket == 8 else 2


def census_names(split="train", kind="last", seed=None):
    """Names from the 1990 US Census lists, lower-case, split 80/10/10 by name (notebook 10).

    The lists ship inside the `names` package (Trey Hunner's, on PyPI): about 88,800 surnames
    (`kind="last"`) and 5,500 first names (`"female"`, `"male"`), read from the installed package's
    folder; nothing is downloaded. Each name belongs to one split for good, decided by the CRC-32
    checksum of its spelling (80% train, 10% validation, 10% test): no name is in two splits, and
    the splits do not depend on `seed`, on the machine or on the Python version, so a model trained
    on `"train"` (the shipped checkpoint included) never saw a `"test"` name.

    Args:
        split: "train", "validation" or "test".
        kind: "last" (surnames), "female" or "male" (first names).
        seed: None for the names in alphabetical order, or a non-negative int to shuffle them
            (the same seed gives the same order).

    Returns:
        list of str: distinct names of the letters a-z only, lower-case.

    Example:
        >>> train = census_names("train")
        >>> len(train), train[:3]
        (71093, ['aaberg', 'aaby', 'aadland'])
    """
    check_one_of("split", split, NAME_SPLITS)
    check_one_of("kind", kind, set(CENSUS_LISTS))
    seed = check_seed(seed)
    import importlib.resources

    try:
        folder = importlib.resources.files("names")
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "census_names needs the `names` package (pip install names==0.3.0), which ships the census lists"
        ) from error
    text = (folder / CENSUS_LISTS[kind]).read_text(encoding="ascii")
    spellings = {line.split()[0].lower() for line in text.splitlines() if line.strip()}
    wanted = NAME_SPLITS.index(split)
    chosen = sorted(name for name in spellings if name.isalpha() and _name_split(name) == wanted)
    if seed is not None:
        order = np.random.default_rng(seed).permutation(len(chosen))
        chosen = [chosen[i] for i in order]
    return chosen


def lookback_task(n, length=32, lookback=3, vocab_size=16, seed=None):
    """Notebook 12: "output the token `lookback` positions back", a task that needs relative positions.

    Tokens are drawn uniformly from `vocab_size`; the target at position i is the token at
    i - `lookback`, and -1 (not scored) at the first `lookback` positions.

    Returns:
        int32 `(tokens, targets)`, each `(n, length)`.

    Example:
        >>> tokens, targets = lookback_task(2, length=6, seed=0)
        >>> bool((targets[:, 3:] == tokens[:, :3]).all())
        True
    """
    n = check_int("n", n, minimum=1)
    lookback = check_int("lookback", lookback, minimum=1)
    length = check_int("length", length, minimum=lookback + 1)
    vocab_size = check_int("vocab_size", vocab_size, minimum=2)
    tokens = np.random.default_rng(check_seed(seed)).integers(0, vocab_size, size=(n, length)).astype("int32")
    targets = np.full_like(tokens, -1)
    targets[:, lookback:] = tokens[:, :-lookback]  # position i asks for the token at i - lookback
    return tokens, targets


# Notebook 09: English number words to German number words, both written by the `num2words` package.
NUMBER_SPLITS = ("train", "validation", "test")
NUMBER_RANGE = (1, 9999)  # the numbers of `number_split`, both ends included
_EN_UNITS = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_EN_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
             "nineteen")
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_DE_UNITS = ("", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")
_DE_TEENS = ("zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn",
             "neunzehn")
_DE_TENS = ("", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig")


def _check_number(number):
    low, high = NUMBER_RANGE
    return check_int("number", number, minimum=low, maximum=high)


def english_tokens(text):
    """num2words' English, split into word tokens: "," and "-" become tokens of their own.

    Example:
        >>> english_tokens("one thousand, nine hundred and eighty-seven")
        ['one', 'thousand', ',', 'nine', 'hundred', 'and', 'eighty', '-', 'seven']
    """
    return text.replace(",", " , ").replace("-", " - ").split()


def number_words(number):
    """The English tokens and the German word of `number` (1 to 9999), as `num2words` 0.5 writes them.

    Args:
        number: an int from 1 to 9999.

    Returns:
        `(english, german)`: a list of str (`english_tokens` of `num2words(number)`) and a str
        (`num2words(number, lang="de")`, one word of lower-case letters, with "ß", "ö" and "ü").

    Example:
        >>> number_words(21)
        (['twenty', '-', 'one'], 'einundzwanzig')
    """
    english, german = _number_words(_check_number(number))
    return list(english), german


@functools.cache
def _number_words(number):
    """num2words' English tokens (a tuple) and German word, computed once per number (num2words is slow)."""
    try:
        from num2words import num2words
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError("number_words needs the `num2words` package (pip install num2words==0.5.14)") \
            from error
    return tuple(english_tokens(num2words(number))), num2words(number, lang="de")


@functools.cache
def _number_parts(number):
    """English tokens and German pieces of `number`, each piece with the index of the English token it translates.

    Returns tuples (cached: the notebook measures every test number many times)."""
    thousands, hundreds, rest = number // 1000, number // 100 % 10, number % 100
    english, pieces = [], []  # pieces: (German text, index of its English token)

    def word(token):
        english.append(token)
        return len(english) - 1

    if thousands:
        pieces.append(("ein" if thousands == 1 else _DE_UNITS[thousands], word(_EN_UNITS[thousands])))
        pieces.append(("tausend", word("thousand")))
        if hundreds or rest:
            word("," if hundreds else "and")
    if hundreds:
        pieces.append(("ein" if hundreds == 1 else _DE_UNITS[hundreds], word(_EN_UNITS[hundreds])))
        pieces.append(("hundert", word("hundred")))
        if rest:
            word("and")
    tens, units = rest // 10, rest % 10
    if 10 <= rest <= 19:
        pieces.append((_DE_TEENS[units], word(_EN_TEENS[units])))
    elif tens and units:  # "eighty - seven" -> "sieben" "und" "achtzig": the units come first in German
        tens_index, hyphen, units_index = word(_EN_TENS[tens]), word("-"), word(_EN_UNITS[units])
        pieces += [("ein" if units == 1 else _DE_UNITS[units], units_index), ("und", hyphen),
                   (_DE_TENS[tens], tens_index)]
    elif tens:
        pieces.append((_DE_TENS[tens], word(_EN_TENS[tens])))
    elif units:
        pieces.append((_DE_UNITS[units], word(_EN_UNITS[units])))
    return tuple(english), tuple(pieces)


def number_alignment(number):
    """The reference alignment of `number`: for each German character, the English token it translates.

    Derived from the number's parts, in German order: thousands digit and "tausend", hundreds
    digit and "hundert", then the last two digits, where German puts the units before the tens,
    joined by "und" ("sieben" + "und" + "achtzig" for "eighty - seven"). Each German piece aligns
    with the English token it translates: the digit word with the digit word ("ein" with "one",
    "zwei" with "two"), "tausend" with "thousand", "hundert" with "hundred", a teen ("siebzehn",
    "zwölf") or a tens word ("dreißig") with its English word, and "und" with the hyphen that joins
    the tens and the units in English. English's "and" and "," have no German counterpart and get no
    character. German's own forms are kept: "ein" before "tausend", "hundert" and "und", "eins" at
    the end, "siebzehn" (not "siebenzehn"), "sechzig", "siebzig", "dreißig".

    Args:
        number: an int from 1 to 9999.

    Returns:
        int array of shape `(len(german),)`: entry i is the index, in `number_words(number)[0]`, of
        the English token that German character i belongs to.

    Example:
        >>> number_alignment(21)  # twenty - one -> e i n | u n d | z w a n z i g
        array([2, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    """
    _, pieces = _number_parts(_check_number(number))
    return np.array([index for text, index in pieces for _ in text], dtype=int)


def number_pieces(number):
    """The German word of `number` cut into the pieces `number_alignment` aligns: `[(piece, english_index)]`.

    Example:
        >>> number_pieces(1987)
        [('ein', 0), ('tausend', 1), ('neun', 3), ('hundert', 4), ('sieben', 8), ('und', 7), ('achtzig', 6)]
    """
    return list(_number_parts(_check_number(number))[1])


PIECE_KINDS = ("digit", "tausend", "hundert", "und")


def number_character_kinds(number):
    """For each German character of `number`, the kind of piece it belongs to (see `number_alignment`).

    "digit" for the pieces that carry a digit's value (a unit such as "sieben" or "ein", a teen such
    as "zwölf", a tens word such as "achtzig"), else the piece itself: "tausend", "hundert" or "und".

    Example:
        >>> number_character_kinds(21)[:4]
        ['digit', 'digit', 'digit', 'und']
    """
    return [piece if piece in PIECE_KINDS else "digit"
            for piece, _ in number_pieces(number) for _ in piece]


def number_split(split="train", split_seed=0):
    """The numbers 1 to 9999 of one split, 80/10/10 (8,001 / 999 / 999), disjoint (notebook 09).

    The numbers are shuffled once with `numpy.random.default_rng(split_seed)` and cut in three:
    every number belongs to exactly one split, and the same `split_seed` gives the same split on
    every machine. The shipped translation models were trained on `split_seed=0`'s "train" split.

    Args:
        split: "train", "validation" or "test".
        split_seed: a non-negative int.

    Returns:
        int array, sorted ascending.

    Example:
        >>> len(number_split("train")), len(number_split("test"))
        (8001, 999)
    """
    check_one_of("split", split, NUMBER_SPLITS)
    split_seed = check_seed(split_seed)
    if split_seed is None:
        raise TypeError("`split_seed` must be a non-negative int. Received: split_seed=None")
    low, high = NUMBER_RANGE
    order = np.random.default_rng(split_seed).permutation(np.arange(low, high + 1))
    n_test = n_validation = len(order) // 10
    n_train = len(order) - n_test - n_validation
    bounds = {"train": (0, n_train), "validation": (n_train, n_train + n_validation),
              "test": (n_train + n_validation, len(order))}
    start, stop = bounds[split]
    return np.sort(order[start:stop])
