"""ah.vision: each measurement on a case whose answer is known exactly."""

import numpy as np
import pytest

from attention_helpers import vision


def test_patches_round_trip_and_order():
    images = np.arange(2 * 4 * 6 * 3, dtype=float).reshape(2, 4, 6, 3)
    patches = vision.to_patches(images, 2)
    assert patches.shape == (2, 6, 12)
    np.testing.assert_array_equal(patches[0, 1], images[0, 0:2, 2:4].ravel())  # row by row: patch 1 is right of 0
    np.testing.assert_array_equal(patches[1, 3], images[1, 2:4, 0:2].ravel())  # patch 3 starts the second row
    np.testing.assert_array_equal(vision.from_patches(patches, 2, 4, 6), images)


def test_patches_refuse_a_size_that_does_not_divide():
    with pytest.raises(ValueError, match=r"`patch_size` must divide .* Received: patch_size=3 for images of height 4"):
        vision.to_patches(np.zeros((1, 4, 6, 1)), 3)
    with pytest.raises(ValueError, match=r"`patches` must be \(n, 4, 2·2·channels\)"):
        vision.from_patches(np.zeros((1, 5, 4)), 2, 4, 4)


def test_identity_attention_has_distance_zero_and_rollout_identity():
    eye = np.broadcast_to(np.eye(17), (3, 2, 17, 17))
    np.testing.assert_array_equal(vision.mean_attention_distance(eye, 4), np.zeros((3, 2)))
    np.testing.assert_allclose(vision.attention_rollout([eye, eye]), np.broadcast_to(np.eye(17), (3, 17, 17)))


def test_uniform_attention_gives_the_mean_pairwise_distance():
    distances = vision.grid_distances((4, 4), 4)
    uniform = np.full((2, 17, 17), 1 / 17)
    np.testing.assert_allclose(vision.mean_attention_distance(uniform, 4), [distances.mean()] * 2)
    assert distances[0, 1] == 4 and distances[0, 5] == pytest.approx(4 * np.sqrt(2))
    # one step right for every patch that has a right neighbour: distance exactly one patch
    shift = np.zeros((16, 16))
    for q in range(16):
        shift[q, q + 1 if q % 4 < 3 else q] = 1
    assert vision.mean_attention_distance(shift, 4, class_token=False) == pytest.approx(4 * 12 / 16)


def test_rollout_multiplies_the_mixed_layers_first_layer_rightmost():
    rng = np.random.default_rng(0)
    layers = [rng.dirichlet(np.ones(5), size=(1, 2, 5)) for _ in range(3)]  # (batch, heads, T, T)
    expected = np.eye(5)
    for weights in layers:
        mixed = (weights[0].mean(0) + np.eye(5)) / 2
        expected = mixed @ expected
    got = vision.attention_rollout(layers)[0]
    np.testing.assert_allclose(got, expected)
    np.testing.assert_allclose(got.sum(-1), 1)
    np.testing.assert_allclose(vision.attention_rollout(layers[:1], residual=False)[0], layers[0][0].mean(0))


def test_occlusion_finds_the_one_patch_a_classifier_reads():
    def predict(images):  # class 1 is certain when the top-left 2×2 patch holds ink, else 50/50
        ink = images[:, :2, :2, 0].mean(axis=(1, 2)) > 0
        return np.stack([np.where(ink, 0.0, 0.5), np.where(ink, 1.0, 0.5)], axis=1)

    images = np.ones((2, 4, 4, 1), "float32")
    drop = vision.occlusion_map(predict, images, np.array([1, 0]), 2)
    np.testing.assert_allclose(drop[0], [[0.5, 0], [0, 0]])
    np.testing.assert_allclose(drop[1], [[-0.5, 0], [0, 0]])


def test_ink_position_similarity_and_spearman():
    images = -np.ones((1, 4, 4, 1))
    images[0, :2, :2] = 1
    np.testing.assert_allclose(vision.ink_map(images, 2)[0], [[1, 0], [0, 0]])
    np.testing.assert_allclose(np.diag(vision.position_similarity(np.random.default_rng(0).normal(size=(5, 3)))), 1)
    assert vision.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1)
    assert vision.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1)
    np.testing.assert_allclose(vision.spearman([[1, 2, 3], [1, 2, 3]], [[1, 2, 3], [3, 2, 1]], axis=1), [1, -1])


def test_grid_agreement_of_a_grid_and_of_noise():
    centres = vision.patch_centres((4, 4))
    similarity = -vision.grid_distances((4, 4))  # more alike the closer
    correlation, share = vision.grid_agreement(similarity)
    assert correlation == pytest.approx(1) and share == 1
    assert vision.neighbour_chance(4) == pytest.approx(0.2)
    assert centres[5].tolist() == [1.5, 1.5]


def test_shift_images_moves_sideways_only_when_asked():
    images = -np.ones((50, 6, 6, 1), "float32")
    images[:, 2:4, 2:4] = 1
    moved = vision.shift_images(images, 2, seed=0, vertical=False)
    np.testing.assert_array_equal(moved[:, :2], images[:, :2])  # rows untouched
    assert moved.sum() == images.sum() and not np.array_equal(moved, images)
