"""Slow, obvious references: the seed's functions and a loop over samples and pairs.

One deliberate difference from the seed's code: a constant map has no cell
above its mean (the seed's ``img > mean(img)`` depends on rounding there).

Written in plain NumPy float64 with Python loops, independently of the
vectorised kernels, so that the kernels can be checked against them.
"""

from __future__ import annotations

import numpy as np

EPS = 0.0001


def _min_max(img: np.ndarray) -> np.ndarray:
    base = np.max(img) - np.min(img)
    if base == 0:
        base = EPS
    return (img - np.min(img)) / base


def _above_mean(img: np.ndarray) -> np.ndarray:
    if np.all(img == img[0]):
        return np.zeros(img.shape, dtype=bool)
    return img > np.mean(img)


def _unit_l2(img: np.ndarray) -> np.ndarray:
    factor = np.linalg.norm(img)
    if factor == 0:
        factor = EPS
    return img / factor


def reference_similarity(img1: np.ndarray, img2: np.ndarray, method: str) -> float:
    """The seed's similarity of two maps, one pair at a time."""
    img1 = np.asarray(img1, dtype=np.float64).ravel()
    img2 = np.asarray(img2, dtype=np.float64).ravel()
    if method == "direct":
        correlated = _above_mean(img1) == _above_mean(img2)
    elif method == "overlap":
        correlated = _above_mean(img1) & _above_mean(img2)
    elif method in ("multiply", "multiply_l2"):
        normalise = _min_max if method == "multiply" else _unit_l2
        mult = normalise(img1) * normalise(img2)
        correlated = _above_mean(mult)
    elif method == "rectify":
        delta = (np.abs(_min_max(img1) - 0.5) - np.abs(_min_max(img2) - 0.5)) / 2
        return float(1 - np.abs(np.mean(delta)))
    else:
        raise AssertionError(method)
    return sum(correlated) / len(img1)


def reference_scores(
    x: np.ndarray, perm: np.ndarray, method: str, num_pairs: int | None, channel_axis: int
) -> np.ndarray:
    """Scores ``(N, P)`` by looping over samples and pairs."""
    maps = np.moveaxis(np.asarray(x, dtype=np.float64), channel_axis, 1)
    n, c = maps.shape[:2]
    pairs = c // 2 if num_pairs is None else num_pairs
    scores = np.empty((n, pairs))
    for sample in range(n):
        for k in range(pairs):
            a, b = maps[sample, perm[2 * k]], maps[sample, perm[2 * k + 1]]
            scores[sample, k] = reference_similarity(a, b, method)
    return scores


def reference_mask(
    x: np.ndarray,
    perm: np.ndarray,
    *,
    method: str = "multiply",
    threshold: float | None = None,
    rate: float | None = None,
    batchwise: bool = True,
    num_pairs: int | None = None,
    channel_axis: int = 1,
    rescale: bool = False,
) -> np.ndarray:
    """The keep mask, decided pair by pair, in the broadcastable shape of ``wedge_mask``."""
    defaults = {"direct": 0.5, "multiply": 0.65, "multiply_l2": 0.65}
    scores = reference_scores(x, perm, method, num_pairs, channel_axis)
    n, pairs = scores.shape
    c = x.shape[channel_axis]
    dropped = np.zeros((n, pairs), dtype=bool)
    if rate is None:
        t = defaults[method] if threshold is None else threshold
        for k in range(pairs):
            similar = [scores[sample, k] >= t for sample in range(n)]
            if batchwise:
                dropped[:, k] = 2 * sum(similar) >= n
            else:
                dropped[:, k] = similar
    else:
        count = round(rate * pairs)
        rows = [np.mean(scores, axis=0)] * n if batchwise else list(scores)
        for sample, row in enumerate(rows):
            key = [-1.0 if np.isnan(s) else s for s in row]
            for k in sorted(range(pairs), key=lambda k: (-key[k], k))[:count]:
                dropped[sample, k] = True
    keep = np.ones((n, c))
    for sample in range(n):
        for k in range(pairs):
            if dropped[sample, k]:
                keep[sample, perm[2 * k]] = keep[sample, perm[2 * k + 1]] = 0
        if rescale:
            keep[sample] *= c / max(keep[sample].sum(), 1)
    shape = [1] * x.ndim
    shape[0], shape[channel_axis] = n, c
    return keep.reshape(shape)
