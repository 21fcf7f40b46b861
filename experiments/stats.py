"""Paired comparisons over seeds: mean difference, bootstrap interval, sign-flip p-value."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

__all__ = ["Paired", "bootstrap_ci", "paired", "sign_flip_pvalue"]

EXACT_UP_TO = 16
"""Sign-flip tests enumerate all 2**n sign patterns up to this many pairs; above, they sample."""

_TOLERANCE = 1e-12
"""Slack when comparing permuted statistics with the observed one (accuracies are fractions)."""


def bootstrap_ci(
    values: np.ndarray, *, level: float = 0.95, resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of ``values``.

    Parameters
    ----------
    values : numpy.ndarray
        One value per independent unit (here: per seed), shape ``(n,)``, ``n >= 1``.
    level : float
        Coverage of the interval, in (0, 1).
    resamples : int
        Bootstrap resamples (with replacement, ``n`` values each).
    seed : int
        Seeds the resampling, so a report is reproducible.

    Returns
    -------
    tuple of float
        ``(low, high)``: the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles
        of the resampled means.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"values must be a non-empty 1-d array, got shape {values.shape}")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(resamples, values.size))].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def sign_flip_pvalue(differences: np.ndarray, *, resamples: int = 100_000, seed: int = 0) -> float:
    """Two-sided sign-flip permutation p-value of the mean of paired ``differences``.

    Under the null hypothesis that each difference is as likely to have either
    sign, every pattern of signs is equally likely. The p-value is the share of
    patterns whose mean is at least as far from zero as the observed one:
    exactly, over all ``2**n`` patterns, when ``n <= EXACT_UP_TO``; otherwise
    estimated from ``resamples`` random patterns as ``(1 + hits) / (1 + resamples)``.

    Parameters
    ----------
    differences : numpy.ndarray
        One paired difference per seed, shape ``(n,)``, ``n >= 1``.
    resamples : int
        Random sign patterns when ``n > EXACT_UP_TO``.
    seed : int
        Seeds those patterns.

    Returns
    -------
    float
        The p-value, in (0, 1].
    """
    d = np.asarray(differences, dtype=float)
    if d.ndim != 1 or d.size == 0:
        raise ValueError(f"differences must be a non-empty 1-d array, got shape {d.shape}")
    observed = abs(d.mean()) - _TOLERANCE
    if d.size <= EXACT_UP_TO:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=d.size)))
        return float(np.mean(np.abs(signs @ d) / d.size >= observed))
    rng = np.random.default_rng(seed)
    signs = rng.choice((1.0, -1.0), size=(resamples, d.size))
    hits = int(np.sum(np.abs(signs @ d) / d.size >= observed))
    return (1 + hits) / (1 + resamples)


@dataclass(frozen=True)
class Paired:
    """An arm against the control over the same seeds."""

    mean: float
    low: float
    high: float
    p: float
    n: int


def paired(arm: np.ndarray, control: np.ndarray, *, level: float = 0.95) -> Paired:
    """Compare ``arm`` with ``control``, both indexed by the same seeds.

    Returns the mean of ``arm - control``, its bootstrap interval at ``level``
    and its sign-flip p-value.
    """
    arm, control = np.asarray(arm, dtype=float), np.asarray(control, dtype=float)
    if arm.shape != control.shape:
        raise ValueError(f"arm and control differ in shape: {arm.shape} and {control.shape}")
    d = arm - control
    low, high = bootstrap_ci(d, level=level)
    return Paired(float(d.mean()), low, high, sign_flip_pvalue(d), d.size)
