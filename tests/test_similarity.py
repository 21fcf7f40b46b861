"""`similarity` and `similarity_matrix`: the seed's scores, batched, on every backend."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import reference_similarity

import wedgecore as wc

SEED_A = np.asarray([[1, 2], [3, 4]], dtype=np.float64)
SEED_B = np.asarray([[3, 1], [4, 9]], dtype=np.float64)
GOLDEN = {
    "direct": 0.75,
    "overlap": 0.25,
    "multiply": 0.25,
    "multiply_l2": 0.25,
    "rectify": 0.9947916666666666,
}


def test_methods_and_defaults_are_the_design_ones():
    assert wc.METHODS == ("direct", "overlap", "multiply", "multiply_l2", "rectify")
    assert dict(wc.DEFAULT_THRESHOLDS) == {"direct": 0.5, "multiply": 0.65, "multiply_l2": 0.65}
    with pytest.raises(TypeError):
        wc.DEFAULT_THRESHOLDS["overlap"] = 0.5


@pytest.mark.parametrize("method", wc.METHODS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_seed_example_golden_values(backend, method, dtype):
    score = backend.run(wc.similarity, SEED_A.astype(dtype), SEED_B.astype(dtype), method=method)
    assert score.shape == ()
    assert score == pytest.approx(GOLDEN[method], rel=1e-6 if dtype == np.float32 else 1e-15)


def test_reference_reproduces_the_seed_example():
    for method, value in GOLDEN.items():
        assert reference_similarity(SEED_A, SEED_B, method) == value


@pytest.mark.parametrize("method", wc.METHODS)
def test_batched_axes_match_one_pair_at_a_time(backend, method):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 4, 5, 3, 6))
    scores = backend.run(wc.similarity, a, b, method=method, axis=(1, 3))
    assert scores.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            expected = reference_similarity(a[i, :, j, :], b[i, :, j, :], method)
            assert scores[i, j] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("method", wc.METHODS)
def test_negative_axis_equals_positive_axis(backend, method):
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 3, 7))
    left = backend.run(wc.similarity, a, b, method=method, axis=-1)
    right = backend.run(wc.similarity, a, b, method=method, axis=1)
    np.testing.assert_array_equal(left, right)


@pytest.mark.parametrize("method", wc.METHODS)
def test_constant_maps_give_finite_scores(backend, method):
    const = np.full((3, 3), 2.5)
    zeros = np.zeros((3, 3))
    for a, b in [(const, zeros), (zeros, zeros), (const, SEED_A[:1, :1] * np.ones((3, 3)))]:
        score = backend.run(wc.similarity, a, b, method=method)
        assert np.isfinite(score)
        assert score == pytest.approx(reference_similarity(a, b, method), abs=1e-12)


@pytest.mark.parametrize("method", wc.METHODS)
def test_nan_makes_its_map_compare_false(backend, method):
    a = SEED_A.copy()
    a[0, 0] = np.nan
    score = backend.run(wc.similarity, a, SEED_B, method=method)
    expected = reference_similarity(a, SEED_B, method)
    np.testing.assert_array_equal(score, expected)


@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    method=st.sampled_from(wc.METHODS),
    seed=st.integers(0, 2**32 - 1),
)
def test_scores_lie_in_unit_interval_and_match_reference(shape, method, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(2, *shape))
    score = float(wc.similarity(a, b, method))
    assert 0 <= score <= 1
    assert score == pytest.approx(reference_similarity(a, b, method), abs=1e-12)


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.complex128])
def test_non_floating_maps_are_rejected(dtype):
    with pytest.raises(TypeError, match="real floating dtype"):
        wc.similarity(SEED_A.astype(dtype), SEED_B, "direct")


def test_bad_similarity_arguments_are_named():
    with pytest.raises(ValueError, match=r"same shape.*\(2, 2\).*\(4,\)"):
        wc.similarity(SEED_A, SEED_B.ravel())
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        wc.similarity(SEED_A, SEED_B, axis=2)
    with pytest.raises(ValueError, match="repeats"):
        wc.similarity(SEED_A, SEED_B, axis=(0, -2))
    with pytest.raises(TypeError, match="axis must be"):
        wc.similarity(SEED_A, SEED_B, axis=1.0)
    with pytest.raises(ValueError, match=r"unknown method 'cosine'.*direct, overlap"):
        wc.similarity(SEED_A, SEED_B, "cosine")
    with pytest.raises(ValueError, match="at least one cell"):
        wc.similarity(np.zeros((2, 0)), np.zeros((2, 0)), axis=1)


@pytest.mark.parametrize("method", wc.METHODS)
@pytest.mark.parametrize("channel_axis", [1, -1, 2])
def test_similarity_matrix_scores_every_pair(backend, method, channel_axis):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 5, 4, 2))
    matrix = backend.run(wc.similarity_matrix, x, method=method, channel_axis=channel_axis)
    maps = np.moveaxis(x, channel_axis, 1)
    c = maps.shape[1]
    assert matrix.shape == (3, c, c)
    for n in range(3):
        for i in range(c):
            for j in range(c):
                expected = reference_similarity(maps[n, i], maps[n, j], method)
                assert matrix[n, i, j] == pytest.approx(expected, abs=1e-12)


def test_similarity_matrix_works_through_blocks_of_channels():
    n, c, s = 16, 1280, 49
    x = np.random.default_rng(6).normal(size=(n, c, s)).astype(np.float32)
    tracemalloc.start()
    try:
        matrix = wc.similarity_matrix(x, method="direct")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert matrix.shape == (n, c, c)
    full_intermediate = n * c * c * s * 4
    assert peak < 2**30 < full_intermediate
    np.testing.assert_array_equal(
        matrix[:, 7, 11], wc.similarity(x[:, 7], x[:, 11], "direct", axis=1)
    )
