import numpy as np
import pytest

from attention_helpers.data import dense_task


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
