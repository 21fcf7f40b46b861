"""Every bad argument raises the named exception, naming the value, before any work."""

from __future__ import annotations

import numpy as np
import pytest

import wedgecore as wc
from wedgecore._checks import check_keywords

X = np.random.default_rng(0).normal(size=(4, 6, 3, 3))
PERM = np.arange(6)

BAD_CALLS = [
    ({"x": np.zeros((4, 6))}, ValueError, r"at least 3 dimensions.*\(4, 6\).*ndim 2"),
    ({"channel_axis": 4}, ValueError, r"channel_axis 4 is out of range.*ndim 4"),
    ({"channel_axis": -5}, ValueError, r"channel_axis -5 is out of range"),
    ({"channel_axis": 0}, ValueError, r"channel_axis 0 is the batch axis"),
    ({"channel_axis": -4}, ValueError, r"channel_axis -4 is the batch axis"),
    ({"channel_axis": 1.0}, TypeError, r"channel_axis must be an integer, got 1.0"),
    ({"x": np.zeros((4, 1, 3)), "perm": np.arange(1)}, ValueError, r"at least 2 channels.*C = 1"),
    ({"x": np.zeros((4, 6, 0))}, ValueError, r"no cells"),
    ({"num_pairs": 0}, ValueError, r"num_pairs 0 is out of range.*C // 2 = 3"),
    ({"num_pairs": 4}, ValueError, r"num_pairs 4 is out of range.*C // 2 = 3 for C = 6"),
    ({"num_pairs": True}, TypeError, r"num_pairs must be an integer, got the bool True"),
    ({"num_pairs": 1.5}, TypeError, r"num_pairs must be an integer, got 1.5"),
    ({"perm": np.arange(5)}, ValueError, r"shape \(6,\), got shape \(5,\)"),
    ({"perm": np.zeros((6, 1), dtype=int)}, ValueError, r"got shape \(6, 1\)"),
    ({"perm": np.arange(6.0)}, TypeError, r"perm must have an integer dtype, got \S*float64"),
    ({"threshold": 1.5}, ValueError, r"threshold must be in \[0, 1\], got 1.5"),
    ({"threshold": -0.1}, ValueError, r"threshold must be in \[0, 1\], got -0.1"),
    ({"threshold": float("nan")}, ValueError, r"threshold must be in \[0, 1\], got nan"),
    ({"threshold": "0.5"}, TypeError, r"threshold must be a real number in \[0, 1\], got '0.5'"),
    ({"rate": 2}, ValueError, r"rate must be in \[0, 1\], got 2"),
    ({"rate": True}, TypeError, r"rate must be a real number"),
    ({"threshold": 0.5, "rate": 0.1}, ValueError, r"not both.*threshold=0.5, rate=0.1"),
    ({"method": "cosine"}, ValueError, r"unknown method 'cosine'; expected one of direct, overlap"),
    ({"method": "overlap"}, ValueError, r"method 'overlap' has no default threshold"),
    ({"method": "rectify"}, ValueError, r"method 'rectify' has no default threshold"),
    ({"batchwise": 1}, TypeError, r"batchwise must be True or False, got 1"),
    ({"rescale": "yes"}, TypeError, r"rescale must be True or False, got 'yes'"),
    ({"x": X.astype(np.int32)}, TypeError, r"real floating dtype.*got \S*int32"),
    ({"x": X > 0}, TypeError, r"real floating dtype.*got \S*bool"),
]


@pytest.mark.parametrize(("change", "error", "message"), BAD_CALLS)
@pytest.mark.parametrize("kernel", [wc.wedge_mask, wc.wedge_dropout])
def test_bad_arguments_raise_with_the_value_named(backend, kernel, change, error, message):
    arguments = {"x": X, "perm": PERM, **change}
    x = backend.asarray(arguments.pop("x"))
    perm = backend.asarray(arguments.pop("perm"))
    with pytest.raises(error, match=message):
        kernel(x, perm, **arguments)


PAIR_SCORES_CALLS = [
    call
    for call in BAD_CALLS
    if set(call[0]) <= {"x", "perm", "channel_axis", "num_pairs", "method"}
    and "default threshold" not in call[2]
]


@pytest.mark.parametrize(("change", "error", "message"), PAIR_SCORES_CALLS)
def test_pair_scores_checks_its_own_arguments(change, error, message):
    arguments = {"x": X, "perm": PERM, **change}
    with pytest.raises(error, match=message):
        wc.pair_scores(arguments.pop("x"), arguments.pop("perm"), **arguments)


def test_methods_without_default_accept_an_explicit_threshold_or_rate():
    for method in ("overlap", "rectify"):
        assert wc.wedge_mask(X, PERM, method=method, threshold=0.5).shape == (4, 6, 1, 1)
        assert wc.wedge_mask(X, PERM, method=method, rate=0.5).shape == (4, 6, 1, 1)


def test_similarity_matrix_checks_layout_and_method():
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        wc.similarity_matrix(np.zeros((4, 6)))
    with pytest.raises(ValueError, match="unknown method 'l1'"):
        wc.similarity_matrix(X, method="l1")


def test_drop_fraction_of_a_float64_mask_is_float64():
    assert wc.drop_fraction(np.ones((2, 3, 1))).dtype == np.float64
    assert wc.drop_fraction(np.ones((2, 3, 1), dtype=np.float16)).dtype == np.float32


KEYWORD_CALLS = [
    call
    for call in BAD_CALLS
    if set(call[0]) <= {"method", "threshold", "rate", "batchwise", "rescale"}
    or call[0] in ({"num_pairs": True}, {"num_pairs": 1.5})
]


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [*KEYWORD_CALLS, ({"num_pairs": 0}, ValueError, r"num_pairs 0 is out of range.*>= 1")],
)
def test_check_keywords_raises_what_the_kernels_raise_without_an_input(change, error, message):
    with pytest.raises(error, match=message):
        check_keywords(**change)


def test_check_keywords_accepts_what_the_kernels_accept():
    check_keywords()
    check_keywords(method="rectify", rate=0.5, batchwise=False, num_pairs=10**6, rescale=True)
    check_keywords(method="overlap", threshold=0.3, num_pairs=1)
