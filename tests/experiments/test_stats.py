"""The paired statistics, on cases whose answers are known exactly or in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from experiments import stats


def test_bootstrap_ci_of_a_constant_is_that_constant():
    assert stats.bootstrap_ci(np.full(7, 0.25)) == (0.25, 0.25)


def test_bootstrap_ci_of_two_values_spans_both():
    # Resampled means of [0, 1] are 0, 0.5 and 1 with probabilities 1/4, 1/2, 1/4:
    # the 2.5 % and 97.5 % quantiles are the two extremes.
    assert stats.bootstrap_ci(np.array([0.0, 1.0])) == (0.0, 1.0)


def test_bootstrap_ci_matches_the_normal_interval_for_a_large_sample():
    values = np.random.default_rng(1).normal(0.5, 1.0, size=400)
    half = 1.96 * values.std(ddof=1) / np.sqrt(values.size)
    low, high = stats.bootstrap_ci(values)
    assert low == pytest.approx(values.mean() - half, abs=0.1 * half)
    assert high == pytest.approx(values.mean() + half, abs=0.1 * half)


def test_bootstrap_ci_shifts_with_the_data_and_widens_with_the_level():
    values = np.random.default_rng(2).normal(size=30)
    low, high = stats.bootstrap_ci(values)
    shifted = stats.bootstrap_ci(values + 3.0)
    assert shifted == pytest.approx((low + 3.0, high + 3.0))
    narrow, wide = stats.bootstrap_ci(values, level=0.5), stats.bootstrap_ci(values, level=0.99)
    assert wide[0] < low < narrow[0] < narrow[1] < high < wide[1]


def test_bootstrap_ci_is_reproducible_for_a_seed():
    values = np.random.default_rng(3).normal(size=10)
    assert stats.bootstrap_ci(values, seed=4) == stats.bootstrap_ci(values, seed=4)


@pytest.mark.parametrize(
    ("differences", "p"),
    [
        ([1.0] * 5, 2 / 32),  # only all-plus and all-minus reach |mean| = 1
        ([0.0, 0.0, 0.0], 1.0),
        ([1.0, -1.0], 1.0),
        ([1.0, 2.0, 3.0], 2 / 8),  # |sum| of +-1 +-2 +-3 reaches 6 in 2 of 8 patterns
        ([2.0, 1.0, -1.0], 6 / 8),  # +-2 +-1 +-1 has |sum| >= 2 in 6 of 8 patterns
        ([0.1, 0.2, -0.3], 1.0),  # the mean is 0 up to rounding: every pattern reaches it
    ],
)
def test_sign_flip_pvalue_exact_cases(differences, p):
    assert stats.sign_flip_pvalue(np.array(differences)) == pytest.approx(p)
    assert stats.sign_flip_pvalue(-np.array(differences)) == pytest.approx(p)


def test_sign_flip_pvalue_samples_above_the_exact_limit(monkeypatch):
    d = np.random.default_rng(5).normal(0.3, 1.0, size=stats.EXACT_UP_TO + 1)
    sampled = stats.sign_flip_pvalue(d, resamples=50_000)
    monkeypatch.setattr(stats, "EXACT_UP_TO", d.size)
    exact = stats.sign_flip_pvalue(d)
    assert sampled == pytest.approx(exact, abs=0.01)
    assert 0 < exact < 1


def test_sign_flip_pvalue_of_twenty_equal_gains_is_tiny():
    # The exact value is 2 / 2**20; the sampled estimate is (1 + hits) / (1 + resamples).
    assert stats.sign_flip_pvalue(np.full(20, 0.01), resamples=20_000) < 5e-4


def test_paired_compares_matching_seeds():
    control = np.array([0.90, 0.92, 0.91, 0.93])
    result = stats.paired(control + 0.01, control)
    assert result.mean == pytest.approx(0.01)
    assert (result.low, result.high) == pytest.approx((0.01, 0.01))
    assert result.p == pytest.approx(2 / 16)
    assert result.n == 4
    same = stats.paired(control, control)
    assert (same.mean, same.p) == (0.0, 1.0)


@pytest.mark.parametrize("bad", [np.array([]), np.zeros((2, 2))])
def test_statistics_reject_empty_or_nested_input(bad):
    with pytest.raises(ValueError, match="non-empty 1-d"):
        stats.bootstrap_ci(bad)
    with pytest.raises(ValueError, match="non-empty 1-d"):
        stats.sign_flip_pvalue(bad)


def test_paired_rejects_unmatched_seeds():
    with pytest.raises(ValueError, match="differ in shape"):
        stats.paired(np.zeros(3), np.zeros(4))
