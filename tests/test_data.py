import numpy as np
import pytest

from attention_helpers.data import dense_task, multi_signal_task, sequence_task


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
