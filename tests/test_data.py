import numpy as np
import pytest

from attention_helpers import data
from attention_helpers.data import (
    addition_task,
    dense_task,
    digits,
    multi_signal_task,
    pointer_mirror_task,
    query_document_task,
    reversal_task,
    sequence_task,
    two_objects_task,
    upsample2x_bilinear,
)


def test_dense_task_shapes_dtypes_and_target():
    x, y = dense_task(100, dims=16, target_index=5, seed=0)
    assert x.shape == (100, 16) and y.shape == (100, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert set(np.unique(y)) <= {0.0, 1.0}
    np.testing.assert_array_equal(x[:, 5], y[:, 0])


def test_dense_task_is_seeded():
    a = dense_task(50, seed=7)
    b = dense_task(50, seed=7)
    c = dense_task(50, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_dense_task_noise_is_standard_normal_and_labels_balanced():
    x, y = dense_task(20000, dims=8, target_index=0, seed=3)
    noise = x[:, 1:]
    assert abs(noise.mean()) < 0.02 and abs(noise.std() - 1) < 0.02
    assert 0.48 < y.mean() < 0.52


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 0}, ValueError, r"`n` must be >= 1. Received: n=0"),
        ({"n": 2.5}, TypeError, r"`n` must be an integer. Received: n=2.5"),
        ({"n": 5, "dims": 1}, ValueError, r"`dims` must be >= 2"),
        (
            {"n": 5, "target_index": 32},
            ValueError,
            r"`target_index` must be in \[0, 31\] \(dims=32\). Received: target_index=32",
        ),
        ({"n": 5, "target_index": -1}, ValueError, r"target_index=-1"),
        ({"n": 5, "seed": -3}, ValueError, r"`seed` must be >= 0"),
    ],
)
def test_dense_task_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        dense_task(**kwargs)


def test_sequence_task_plants_the_label_in_every_dimension():
    x, y = sequence_task(64, steps=12, dims=3, target_step=4, seed=0)
    assert x.shape == (64, 12, 3) and y.shape == (64, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, 4, :], np.repeat(y, 3, axis=1))
    np.testing.assert_array_equal(sequence_task(64, steps=12, dims=3, target_step=4, seed=0)[0], x)


def test_multi_signal_task_label_needs_every_signal():
    x, y = multi_signal_task(4000, steps=20, dims=2, target_steps=(5, 15), seed=0)
    assert x.shape == (4000, 20, 2) and y.shape == (4000, 1)
    signals = np.stack([x[:, 5, 0], x[:, 15, 1]], axis=1)
    np.testing.assert_array_equal(y[:, 0], (signals.sum(axis=1) > 0).astype(np.float32))
    one_signal_accuracy = np.mean((signals[:, 0] > 0) == (y[:, 0] == 1))
    assert 0.7 < one_signal_accuracy < 0.8  # one signal alone predicts the label only partly
    np.testing.assert_array_equal(multi_signal_task(10, seed=3)[0], multi_signal_task(10, seed=3)[0])


@pytest.mark.parametrize(
    ("fn", "kwargs", "error", "match"),
    [
        (
            sequence_task,
            {"n": 5, "target_step": 20},
            ValueError,
            r"`target_step` must be in \[0, 19\] \(steps=20\). Received: target_step=20",
        ),
        (sequence_task, {"n": 5, "dims": 0}, ValueError, r"`dims` must be >= 1"),
        (multi_signal_task, {"n": 5, "target_steps": (5, 25)}, ValueError, r"`target_steps\[1\]` must be in \[0, 19\]"),
        (
            multi_signal_task,
            {"n": 5, "dims": 3, "target_steps": (5, 15)},
            ValueError,
            r"one step per dimension \(3, from dims=3\). Received: target_steps=\(5, 15\) \(2 steps\)",
        ),
        (multi_signal_task, {"n": 5, "target_steps": 5}, TypeError, r"`target_steps` must be a non-empty sequence"),
    ],
)
def test_sequence_generators_reject_bad_arguments(fn, kwargs, error, match):
    with pytest.raises(error, match=match):
        fn(**kwargs)


def test_addition_task_targets_markers_and_padding():
    x, y = addition_task(200, min_length=5, max_length=12, seed=0)
    assert x.shape == (200, 12, 2) and y.shape == (200, 1)
    real = x[:, :, 0] > 0
    lengths = real.sum(axis=1)
    assert lengths.min() >= 5 and lengths.max() <= 12
    for i in range(200):
        assert real[i, : lengths[i]].all() and not real[i, lengths[i] :].any()  # padding only at the end
        assert np.all(x[i, lengths[i] :] == 0.0)
    marked = x[:, :, 1] == 1
    np.testing.assert_array_equal(marked.sum(axis=1), 2)
    assert not np.any(marked & ~real)
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * marked).sum(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(addition_task(20, seed=4)[0], addition_task(20, seed=4)[0])


def test_query_document_task_labels_match_the_overlap():
    query, document, y = query_document_task(500, seed=0)
    assert query.shape == (500, 4) and document.shape == (500, 12) and query.dtype == np.int32
    assert query.min() >= 1 and document.min() >= 1
    overlaps = np.array([np.isin(document[i], query[i]).sum() for i in range(500)])
    np.testing.assert_array_equal(overlaps, y[:, 0])  # exactly one mention when positive, none when negative
    assert all(len(set(q)) == 4 for q in query)
    assert 0.4 < y.mean() < 0.6


def test_reversal_task():
    source, target = reversal_task(50, length=6, vocab_size=5, seed=0)
    assert source.shape == target.shape == (50, 6) and source.max() < 5
    np.testing.assert_array_equal(target, source[:, ::-1])


def test_pointer_mirror_task_answers_the_pointed_and_the_mirrored_token():
    source, target = pointer_mirror_task(200, length=6, seed=0)
    assert source.shape == target.shape == (200, 6)
    assert source.dtype == target.dtype == np.int32
    assert source.min() >= 0 and source.max() <= 5 and target.max() < 36
    for b in range(200):
        for i in range(6):
            assert target[b, i] == 6 * source[b, source[b, i]] + source[b, 5 - i]
    # Every token value occurs, so every address is exercised.
    assert set(np.unique(source)) == set(range(6))


def test_pointer_mirror_task_is_seeded():
    a, b, c = (pointer_mirror_task(40, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize(
    ("fn", "kwargs", "error", "match"),
    [
        (
            addition_task,
            {"n": 5, "min_length": 8, "max_length": 6},
            ValueError,
            r"`min_length` must be <= `max_length`. Received: min_length=8, max_length=6",
        ),
        (addition_task, {"n": 5, "min_length": 1}, ValueError, r"`min_length` must be >= 2"),
        (query_document_task, {"n": 5, "vocab_size": 6, "query_length": 5}, ValueError, r"`query_length` must be <= 4"),
        (reversal_task, {"n": 5, "length": 1}, ValueError, r"`length` must be >= 2"),
        (pointer_mirror_task, {"n": 5, "length": 1}, ValueError, r"`length` must be >= 2. Received: length=1"),
        (pointer_mirror_task, {"n": 0}, ValueError, r"`n` must be >= 1. Received: n=0"),
        (pointer_mirror_task, {"n": 5, "length": 2.5}, TypeError, r"`length` must be an integer"),
        (pointer_mirror_task, {"n": 5, "seed": -1}, ValueError, r"`seed` must be >= 0. Received: seed=-1"),
    ],
)
def test_more_generators_reject_bad_arguments(fn, kwargs, error, match):
    with pytest.raises(error, match=match):
        fn(**kwargs)


def test_two_objects_task_marks_two_distant_squares_and_labels_equal_brightness():
    images, y, corners = two_objects_task(300, size=12, min_distance=6, distractors=3, seed=0)
    assert images.shape == (300, 12, 12, 2) and y.shape == (300, 1) and corners.shape == (300, 2, 2)
    for i in range(300):
        (r0, c0), (r1, c1) = corners[i]
        assert max(abs(r0 - r1), abs(c0 - c1)) >= 6
        marked = images[i, :, :, 1] == 1
        first, second = images[i, r0 : r0 + 3, c0 : c0 + 3, 0], images[i, r1 : r1 + 3, c1 : c1 + 3, 0]
        assert marked[r0 : r0 + 3, c0 : c0 + 3].all() and marked[r1 : r1 + 3, c1 : c1 + 3].all()
        assert marked.sum() == 18  # exactly the two squares
        assert np.ptp(first) == 0 and np.ptp(second) == 0  # uniform brightness per square
        assert (images[i, :, :, 0] > 0).sum() == 5 * 9  # two marked squares and three whole distractors
        same = bool(np.isclose(first[0, 0], second[0, 0]))
        assert same == bool(y[i, 0])
        if not same:
            assert abs(first[0, 0] - second[0, 0]) >= 0.25 - 1e-6
    assert 0.4 < y.mean() < 0.6
    np.testing.assert_array_equal(two_objects_task(5, seed=1)[0], two_objects_task(5, seed=1)[0])


def test_two_objects_task_objects_map_names_every_square_and_squares_never_touch():
    images, _, corners, objects = two_objects_task(200, distractors=3, seed=3, return_objects=True)
    assert objects.shape == (200, 12, 12) and objects.dtype == np.int32
    np.testing.assert_array_equal(two_objects_task(200, distractors=3, seed=3)[0], images)  # same draws
    for i in range(200):
        for k, (r, c) in enumerate(corners[i], start=1):
            assert (objects[i, r : r + 3, c : c + 3] == k).all()
        np.testing.assert_array_equal(objects[i] > 0, images[i, :, :, 0] > 0)
        np.testing.assert_array_equal(np.isin(objects[i], (1, 2)), images[i, :, :, 1] == 1)
        for k in range(1, 6):
            rows, cols = np.nonzero(objects[i] == k)
            assert rows.size == 9 and np.ptp(rows) == 2 and np.ptp(cols) == 2  # one whole 3×3 square
            assert np.ptp(images[i, rows, cols, 0]) == 0
            # a background ring: the 5×5 window around the square holds no other object
            window = objects[i, max(rows.min() - 1, 0) : rows.max() + 2, max(cols.min() - 1, 0) : cols.max() + 2]
            assert set(np.unique(window)) <= {0, k}
        # so no 2×2 pooling cell (aligned on even pixels) covers two objects
        cells = objects[i].reshape(6, 2, 6, 2).transpose(0, 2, 1, 3).reshape(36, 4)
        assert all(len(set(cell) - {0}) <= 1 for cell in cells.tolist())


def test_two_objects_task_with_colours_labels_equal_colours_and_marks_the_last_channel():
    images, y, corners, objects = two_objects_task(
        300, size=10, object_size=2, min_distance=5, colours=3, seed=0, return_objects=True
    )
    assert images.shape == (300, 10, 10, 4) and images.dtype == np.float32
    colour = images[..., :3]
    np.testing.assert_array_equal(colour.sum(axis=-1), objects > 0)  # one-hot on every square, 0 elsewhere
    np.testing.assert_array_equal(images[..., 3], np.isin(objects, (1, 2)))  # the marker
    for i in range(300):
        (r0, c0), (r1, c1) = corners[i]
        assert max(abs(r0 - r1), abs(c0 - c1)) >= 5
        first, second = colour[i, r0, c0].argmax(), colour[i, r1, c1].argmax()
        assert (first == second) == bool(y[i, 0])
        for k in range(1, 6):
            assert np.ptp(colour[i][objects[i] == k], axis=0).max() == 0  # one colour per square
    assert 0.4 < y.mean() < 0.6
    firsts = colour[np.arange(300), corners[:, 0, 0], corners[:, 0, 1]].argmax(axis=-1)
    assert set(np.unique(firsts)) == {0, 1, 2}


@pytest.mark.parametrize("colours", [None, 3])
def test_two_objects_task_twins_copy_a_marked_square(colours):
    def looks(images, objects, i, k):
        pixels = images[i][objects[i] == k][:, :-1]  # every channel but the marker
        return tuple(pixels[0])

    images, _, _, objects = two_objects_task(200, colours=colours, twin_probability=1.0, seed=4, return_objects=True)
    for i in range(200):
        marked = {looks(images, objects, i, 1), looks(images, objects, i, 2)}
        assert all(looks(images, objects, i, k) in marked for k in (3, 4, 5))
    images, _, _, objects = two_objects_task(200, colours=colours, twin_probability=0.0, seed=4, return_objects=True)
    copies = [
        looks(images, objects, i, k) in {looks(images, objects, i, 1), looks(images, objects, i, 2)}
        for i in range(200)
        for k in (3, 4, 5)
    ]
    expected = 0.0 if colours is None else 0.5  # by chance only: 1 or 2 of 3 colours
    assert abs(np.mean(copies) - expected) < 0.1


def test_two_objects_task_without_distractors_and_with_too_many():
    images, _, _, objects = two_objects_task(20, distractors=0, seed=0, return_objects=True)
    assert objects.max() == 2 and (images[:, :, :, 0] > 0).sum() == 20 * 18
    with pytest.raises(ValueError, match=r"12 distractors do not fit in a 12×12 image with 3×3 squares kept apart"):
        two_objects_task(2, distractors=12, seed=0)


def test_two_objects_task_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`min_distance` must be <= 9. Received: min_distance=10"):
        two_objects_task(3, size=12, min_distance=10)
    with pytest.raises(ValueError, match=r"`min_distance` must be >= 4. Received: min_distance=3"):
        two_objects_task(3, size=12, min_distance=3)
    with pytest.raises(ValueError, match=r"`object_size` must be <= 6"):
        two_objects_task(3, size=12, object_size=7)
    with pytest.raises(TypeError, match=r"`return_objects` must be True or False. Received: return_objects=1"):
        two_objects_task(3, return_objects=1)
    with pytest.raises(ValueError, match=r"`colours` must be >= 2. Received: colours=1"):
        two_objects_task(3, colours=1)
    with pytest.raises(ValueError, match=r"`twin_probability` must be in \[0, 1\]. Received: twin_probability=1.5"):
        two_objects_task(3, twin_probability=1.5)
    with pytest.raises(TypeError, match=r"`twin_probability` must be a number in \[0, 1\]"):
        two_objects_task(3, twin_probability="half")


def test_digits_are_the_scikit_learn_images_scaled_to_plus_minus_one():
    from sklearn.datasets import load_digits

    images, labels = digits(8)
    bunch = load_digits()
    assert images.shape == (1797, 8, 8, 1) and images.dtype == np.float32
    assert labels.shape == (1797,) and labels.dtype == np.int32
    np.testing.assert_array_equal(labels, bunch.target)  # seed=None: scikit-learn's order
    np.testing.assert_allclose(images[..., 0], bunch.images / 8 - 1)  # 0 -> -1, 8 -> 0, 16 -> +1
    assert images.min() == -1.0 and images.max() == 1.0
    assert set(np.unique(labels)) == set(range(10))


def test_digits_16_is_the_documented_bilinear_upsampling():
    small, _ = digits(8)
    large, _ = digits(16)
    assert large.shape == (1797, 16, 16, 1) and large.dtype == np.float32
    assert large.min() >= -1.0 and large.max() <= 1.0
    x = small[..., 0]
    # Output pixels 2k and 2k+1 are 0.75 x[k] + 0.25 x[k-1] and 0.75 x[k] + 0.25 x[k+1] (edges repeated).
    rows = np.stack([0.75 * x + 0.25 * x[:, np.r_[0, 0:7]], 0.75 * x + 0.25 * x[:, np.r_[1:8, 7]]], axis=2)
    rows = rows.reshape(1797, 16, 8)
    both = np.stack(
        [0.75 * rows + 0.25 * rows[:, :, np.r_[0, 0:7]], 0.75 * rows + 0.25 * rows[:, :, np.r_[1:8, 7]]], axis=3
    )
    np.testing.assert_allclose(large[..., 0], both.reshape(1797, 16, 16), atol=1e-6)
    # The same as Keras's bilinear resize (half-pixel centres, no antialiasing).
    import keras

    resized = keras.ops.image.resize(small, (16, 16), interpolation="bilinear", antialias=False)
    np.testing.assert_allclose(large, keras.ops.convert_to_numpy(resized), atol=1e-6)
    # A hand-computed corner: rows 0 and 1 of a 2x2 image [[0, 1], [1, 1]].
    np.testing.assert_allclose(
        upsample2x_bilinear(np.array([[[0.0, 1.0], [1.0, 1.0]]]))[0, :2],
        [[0.0, 0.25, 0.75, 1.0], [0.25, 0.4375, 0.8125, 1.0]],
    )


def test_digits_seed_shuffles_images_and_labels_together():
    original, original_labels = digits(8)
    a, a_labels = digits(8, seed=3)
    b, b_labels = digits(8, seed=3)
    c, _ = digits(8, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a_labels, b_labels)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a_labels, original_labels)
    order = np.random.default_rng(3).permutation(1797)  # the documented permutation
    np.testing.assert_array_equal(a, original[order])
    np.testing.assert_array_equal(a_labels, original_labels[order])
    np.testing.assert_array_equal(digits(16, seed=3)[1], a_labels)  # same order at both sizes


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"size": 32},
            ValueError,
            r"Invalid value for argument `size`. Expected one of \[8, 16\] .* Received: size=32",
        ),
        ({"size": "16"}, ValueError, r"Received: size='16'"),
        ({"size": True}, ValueError, r"Received: size=True"),
        ({"size": 8, "seed": -1}, ValueError, r"`seed` must be >= 0. Received: seed=-1"),
        ({"size": 8, "seed": 1.5}, TypeError, r"`seed` must be an integer"),
    ],
)
def test_digits_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        digits(**kwargs)


def test_importing_the_data_module_does_not_import_scikit_learn():
    import subprocess
    import sys

    code = "import sys, attention_helpers as ah; ah.data; assert 'sklearn' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def test_census_names_splits_are_disjoint_fixed_and_cover_every_name():
    splits = {split: data.census_names(split) for split in data.NAME_SPLITS}
    sizes = {split: len(names) for split, names in splits.items()}
    assert sum(sizes.values()) == 88_799  # every surname of the 1990 census list, each once
    assert 0.78 < sizes["train"] / 88_799 < 0.82 and 0.09 < sizes["test"] / 88_799 < 0.11
    for a, b in (("train", "validation"), ("train", "test"), ("validation", "test")):
        assert not set(splits[a]) & set(splits[b]), (a, b)
    assert splits["train"] == sorted(splits["train"]) and splits["train"][:3] == ["aaberg", "aaby", "aadland"]
    assert all(name.isalpha() and name.islower() for name in splits["test"])


def test_census_names_seed_shuffles_without_changing_the_split():
    first, again = data.census_names("test", seed=3), data.census_names("test", seed=3)
    assert first == again and first != data.census_names("test", seed=4)
    assert sorted(first) == data.census_names("test")
    female = data.census_names("train", kind="female")
    assert 3000 < len(female) < 4000 and not set(female) & set(data.census_names("test", kind="female"))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"split": "dev"}, ValueError, r"`split`. Expected one of \['test', 'train', 'validation'\]. Received: split='dev'"),
        ({"kind": "first"}, ValueError, r"`kind`. Expected one of \['female', 'last', 'male'\]. Received: kind='first'"),
        ({"seed": -1}, ValueError, "`seed` must be >= 0"),
    ],
)
def test_census_names_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        data.census_names(**kwargs)


def test_lookback_task_targets_are_the_tokens_three_back():
    tokens, targets = data.lookback_task(50, length=10, lookback=3, vocab_size=5, seed=1)
    assert tokens.shape == targets.shape == (50, 10) and tokens.dtype == np.int32
    np.testing.assert_array_equal(targets[:, 3:], tokens[:, :7])
    assert np.all(targets[:, :3] == -1) and set(np.unique(tokens)) == set(range(5))
    np.testing.assert_array_equal(tokens, data.lookback_task(50, length=10, lookback=3, vocab_size=5, seed=1)[0])
    with pytest.raises(ValueError, match="`length` must be >= 4"):
        data.lookback_task(5, length=3, lookback=3)


# Notebook 09: number words and their reference alignment.
def _pieces_by_hand(number):
    english, german = data.number_words(number)
    alignment = data.number_alignment(number)
    return english, german, [(german[i], english[j]) for i, j in enumerate(alignment)]


@pytest.mark.parametrize(
    ("number", "english", "german", "pieces"),
    [
        (7, "seven", "sieben", [("sieben", "seven")]),
        (1, "one", "eins", [("eins", "one")]),
        (17, "seventeen", "siebzehn", [("siebzehn", "seventeen")]),
        (30, "thirty", "dreißig", [("dreißig", "thirty")]),
        (21, "twenty - one", "einundzwanzig", [("ein", "one"), ("und", "-"), ("zwanzig", "twenty")]),
        (97, "ninety - seven", "siebenundneunzig", [("sieben", "seven"), ("und", "-"), ("neunzig", "ninety")]),
        (66, "sixty - six", "sechsundsechzig", [("sechs", "six"), ("und", "-"), ("sechzig", "sixty")]),
        (100, "one hundred", "einhundert", [("ein", "one"), ("hundert", "hundred")]),
        (110, "one hundred and ten", "einhundertzehn", [("ein", "one"), ("hundert", "hundred"), ("zehn", "ten")]),
        (111, "one hundred and eleven", "einhundertelf", [("ein", "one"), ("hundert", "hundred"), ("elf", "eleven")]),
        (112, "one hundred and twelve", "einhundertzwölf",
         [("ein", "one"), ("hundert", "hundred"), ("zwölf", "twelve")]),
        (1000, "one thousand", "eintausend", [("ein", "one"), ("tausend", "thousand")]),
        (1001, "one thousand and one", "eintausendeins", [("ein", "one"), ("tausend", "thousand"), ("eins", "one")]),
        (1987, "one thousand , nine hundred and eighty - seven", "eintausendneunhundertsiebenundachtzig",
         [("ein", "one"), ("tausend", "thousand"), ("neun", "nine"), ("hundert", "hundred"), ("sieben", "seven"),
          ("und", "-"), ("achtzig", "eighty")]),
        (7070, "seven thousand and seventy", "siebentausendsiebzig",
         [("sieben", "seven"), ("tausend", "thousand"), ("siebzig", "seventy")]),
    ],
)
def test_number_alignment_on_hand_checked_numbers(number, english, german, pieces):
    tokens, word, by_character = _pieces_by_hand(number)
    assert tokens == english.split() and word == german
    expected = [(character, source) for piece, source in pieces for character in piece]
    assert by_character == expected


def test_number_alignment_crosses_where_german_puts_units_first():
    english, _ = data.number_words(1987)
    alignment = data.number_alignment(1987)
    # "sieben" (English token 8, "seven") comes before "achtzig" (token 6, "eighty"): the alignment crosses.
    assert english[8] == "seven" and english[6] == "eighty"
    assert alignment.tolist().index(8) < alignment.tolist().index(6)
    assert np.any(np.diff(alignment) < 0) and not np.any(np.diff(data.number_alignment(1900)) < 0)


def test_number_alignment_covers_every_number_and_never_uses_and_or_comma():
    for number in range(1, 10000):
        english, german = data.number_words(number)
        alignment = data.number_alignment(number)
        assert len(alignment) == len(german), number
        assert "".join(piece for piece, _ in data.number_pieces(number)) == german, number
        used = {english[i] for i in alignment}
        assert not used & {"and", ","}, number
        assert set(range(len(english))) - set(alignment) <= {i for i, t in enumerate(english) if t in ("and", ",")}


def test_number_split_is_seeded_disjoint_and_complete():
    splits = {split: data.number_split(split) for split in data.NUMBER_SPLITS}
    assert [len(splits[s]) for s in data.NUMBER_SPLITS] == [8001, 999, 999]
    together = np.concatenate(list(splits.values()))
    assert np.array_equal(np.sort(together), np.arange(1, 10000))  # every number once: disjoint and complete
    assert np.array_equal(data.number_split("test"), data.number_split("test", split_seed=0))
    other = data.number_split("test", split_seed=1)
    assert len(other) == 999 and not np.array_equal(other, splits["test"])
    assert np.all(np.diff(splits["train"]) > 0)


def test_number_words_and_split_reject_bad_arguments():
    with pytest.raises(ValueError, match="number"):
        data.number_words(0)
    with pytest.raises(ValueError, match="number"):
        data.number_alignment(10000)
    with pytest.raises(TypeError, match="number"):
        data.number_alignment(2.5)
    with pytest.raises(ValueError, match="split"):
        data.number_split("dev")
    with pytest.raises((TypeError, ValueError), match="split_seed"):
        data.number_split("train", split_seed=None)
