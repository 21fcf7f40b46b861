"""The three offline tasks: digits (2D), MNIST-1D (1D) and synthetic shape volumes (3D).

Every loader returns a `Split` whose test part depends on the seed alone, so all
the arms of one seed are trained and tested on the same data. Inputs are
channels-first float32 arrays ``(N, 1, *spatial)``; labels are int64.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SHAPES",
    "TASKS",
    "Split",
    "digits",
    "load",
    "mnist1d",
    "stratified_split",
    "volumes",
]

SHAPES = ("sphere", "cube", "shell", "rod")
"""The classes of the 3D task, in label order."""

TEST_FRACTION = 0.25
"""The share of each class held out for testing, in every task."""


@dataclass(frozen=True)
class Split:
    """A train/test split of one task."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def classes(self) -> int:
        """The number of classes (labels are ``0 .. classes - 1``)."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one sample, ``(1, *spatial)``."""
        return tuple(self.x_train.shape[1:])


def stratified_split(x: np.ndarray, y: np.ndarray, seed: int) -> Split:
    """Hold out `TEST_FRACTION` of every class, chosen by ``seed``, and shuffle both parts.

    Parameters
    ----------
    x : numpy.ndarray
        Samples on axis 0.
    y : numpy.ndarray
        Integer labels, shape ``(N,)``.
    seed : int
        Chooses the held-out samples.

    Returns
    -------
    Split
    """
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        test[members[: round(TEST_FRACTION * len(members))]] = True
    train_order = rng.permutation(np.flatnonzero(~test))
    test_order = rng.permutation(np.flatnonzero(test))
    return Split(
        x[train_order].astype(np.float32),
        y[train_order].astype(np.int64),
        x[test_order].astype(np.float32),
        y[test_order].astype(np.int64),
    )


def digits(seed: int) -> Split:
    """scikit-learn's 8x8 digits (1797 images, 10 classes), scaled to [0, 1].

    The images ship with scikit-learn; nothing is downloaded.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images / 16.0)[:, None, :, :]
    return stratified_split(x, bunch.target, seed)


def mnist1d(seed: int, num_samples: int = 5000) -> Split:
    """MNIST-1D generated locally: 10 classes of length-40 signals.

    Uses ``mnist1d.data.make_dataset`` with the package's default arguments except
    ``num_samples`` and ``seed``, never the loader that downloads a pickle. The
    generator seeds NumPy's and Python's global RNGs; their states are restored.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = num_samples
    args.seed = seed
    numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(numpy_state)  # noqa: NPY002
        random.setstate(python_state)
    x = np.concatenate([data["x"], data["x_test"]])[:, None, :]
    y = np.concatenate([data["y"], data["y_test"]])
    return stratified_split(x, y, seed)


def _distance_to_shape(
    shape: str, offsets: np.ndarray, size: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """How far outside ``shape`` each voxel is (<= 0 inside), for a batch of one class.

    ``offsets`` is ``(n, D, H, W, 3)``, voxel positions minus each volume's centre;
    ``size`` is ``(n,)``, the radius or half-width.
    """
    s = size[:, None, None, None]
    if shape == "sphere":
        return np.linalg.norm(offsets, axis=-1) - s
    if shape == "cube":
        return np.abs(offsets).max(axis=-1) - 0.8 * s
    if shape == "shell":
        return np.abs(np.linalg.norm(offsets, axis=-1) - s) - 0.75
    direction = rng.normal(size=(len(size), 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    along = np.einsum("ndhwk,nk->ndhw", offsets, direction)
    across = np.linalg.norm(offsets - along[..., None] * direction[:, None, None, None], axis=-1)
    radius = rng.uniform(0.8, 1.6, size=len(size))[:, None, None, None]
    return np.maximum(across - radius, np.abs(along) - 1.4 * s)


def volumes(seed: int, per_class: int = 300, side: int = 16) -> Split:
    """Synthetic ``side``^3 volumes of four classes: sphere, cube, hollow shell, rod.

    Each volume holds one solid of value 1 at a random centre and size (the rod
    also has a random direction and radius) on a background of 0, plus Gaussian
    noise of a random standard deviation in [0.1, 0.5]. Exactly ``per_class``
    volumes per class, all drawn from ``seed``.
    """
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.arange(side)] * 3, indexing="ij"), axis=-1)
    xs, ys = [], []
    for label, shape in enumerate(SHAPES):
        size = rng.uniform(2.5, 5.5, size=per_class)
        centre = rng.uniform(side / 2 - 2.5, side / 2 + 1.5, size=(per_class, 3))
        offsets = grid[None] - centre[:, None, None, None, :]
        solid = (_distance_to_shape(shape, offsets, size, rng) <= 0).astype(np.float32)
        noise = rng.uniform(0.1, 0.5, size=(per_class, 1, 1, 1))
        xs.append(solid + noise * rng.standard_normal(solid.shape))
        ys.append(np.full(per_class, label))
    x = np.concatenate(xs)[:, None]
    return stratified_split(x, np.concatenate(ys), seed)


TASKS: dict[str, Callable[[int], Split]] = {"2d": digits, "1d": mnist1d, "3d": volumes}
"""The tasks by name: the spatial rank of their inputs."""


def load(task: str, seed: int) -> Split:
    """The split of ``task`` (a key of `TASKS`) for ``seed``."""
    return TASKS[task](seed)
