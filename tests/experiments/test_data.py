"""The task generators: shapes, determinism for a seed, class balance, the 3D solids."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from experiments import data

SHAPES = {
    "2d": ((1, 8, 8), 1797, 10),
    "1d": ((1, 40), 5000, 10),
    "3d": ((1, 16, 16, 16), 1200, 4),
}
"""Per task: one sample's shape, the number of samples, the number of classes."""


@functools.cache
def _seed_zero(task):
    return data.load(task, 0)


@pytest.fixture(scope="module", params=list(data.TASKS))
def task(request):
    return request.param


@pytest.fixture(scope="module")
def split(task):
    return _seed_zero(task)


def test_split_shapes_and_dtypes(task, split):
    sample, total, classes = SHAPES[task]
    assert split.input_shape == sample
    assert split.x_train.shape[1:] == split.x_test.shape[1:] == sample
    assert len(split.x_train) + len(split.x_test) == total
    assert len(split.y_train) == len(split.x_train) and len(split.y_test) == len(split.x_test)
    assert split.x_train.dtype == split.x_test.dtype == np.float32
    assert split.y_train.dtype == split.y_test.dtype == np.int64
    assert split.classes == classes
    assert np.isfinite(split.x_train).all() and np.isfinite(split.x_test).all()


def test_every_class_is_held_out_in_proportion(task, split):
    train = np.bincount(split.y_train, minlength=split.classes)
    test = np.bincount(split.y_test, minlength=split.classes)
    assert (train > 0).all()
    np.testing.assert_array_equal(test, np.round(data.TEST_FRACTION * (train + test)))


@pytest.mark.parametrize("generated", ["1d", "3d"])
def test_generated_tasks_have_equal_classes(generated):
    split = _seed_zero(generated)
    counts = np.bincount(np.concatenate([split.y_train, split.y_test]))
    assert (counts == counts[0]).all()


def test_a_seed_fixes_the_split_and_another_changes_it(task, split):
    again = data.load(task, 0)
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(again, name), getattr(split, name))
    other = data.load(task, 1)
    assert not np.array_equal(other.x_test, split.x_test)


def test_stratified_split_partitions_the_samples():
    x = np.arange(40, dtype=float)[:, None]
    y = np.repeat(np.arange(4), 10)
    split = data.stratified_split(x, y, seed=7)
    seen = np.concatenate([split.x_train[:, 0], split.x_test[:, 0]])
    np.testing.assert_array_equal(np.sort(seen), x[:, 0])
    np.testing.assert_array_equal(y[split.x_test[:, 0].astype(int)], split.y_test)
    assert len(split.y_test) == 4 * round(data.TEST_FRACTION * 10)


def test_mnist1d_leaves_the_global_random_state_alone():
    # mnist1d draws from NumPy's legacy global generator, so that is what is checked here.
    np.random.seed(123)  # noqa: NPY002
    expected = np.random.random_sample(3)  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    data.mnist1d(0, num_samples=100)
    np.testing.assert_array_equal(np.random.random_sample(3), expected)  # noqa: NPY002


def _inside(shape, points, size):
    offsets = np.asarray(points, dtype=float)[None, :, None, None, :]
    distance = data._distance_to_shape(shape, offsets, np.array([size]), np.random.default_rng(0))
    return distance[0, :, 0, 0] <= 0


def test_the_solids_have_their_shapes():
    # Offsets from the centre: the centre, 3 voxels along an axis, a corner (3, 3, 3), 5 along.
    points = [(0, 0, 0), (3, 0, 0), (3, 3, 3), (5, 0, 0)]
    np.testing.assert_array_equal(_inside("sphere", points, 4.0), [True, True, False, False])
    np.testing.assert_array_equal(_inside("cube", points, 4.0), [True, True, True, False])
    np.testing.assert_array_equal(_inside("shell", points, 3.0), [False, True, False, False])


def test_the_rod_is_long_and_thin():
    side = 16
    grid = np.stack(np.meshgrid(*[np.arange(side)] * 3, indexing="ij"), axis=-1) - side / 2
    rod = data._distance_to_shape("rod", grid[None], np.array([4.0]), np.random.default_rng(0))
    inside = np.argwhere(rod[0] <= 0) - side / 2
    extent = np.linalg.svd(inside - inside.mean(0), compute_uv=False)
    assert len(inside) < 0.05 * side**3
    assert extent[0] > 3 * extent[1]
