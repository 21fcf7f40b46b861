"""`pair_scores`, `wedge_mask`, `wedge_dropout` and `drop_fraction` against the loop reference."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import reference_mask, reference_scores

import wedgecore as wc
from wedgecore._arrays import is_jax


def random_case(seed: int, shape: tuple[int, ...], channel_axis: int = 1):
    """Normal feature maps of ``shape`` and a permutation of their channels."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    return x, rng.permutation(shape[channel_axis])


@st.composite
def mask_cases(draw):
    spatial = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    n = draw(st.integers(1, 33))
    c = draw(st.integers(2, 9))
    channel_axis = draw(st.sampled_from([1, -1]))
    shape = [n, *spatial]
    shape.insert(1 if channel_axis == 1 else len(shape), c)
    method = draw(st.sampled_from(wc.METHODS))
    keywords = {
        "method": method,
        "batchwise": draw(st.booleans()),
        "num_pairs": draw(st.none() | st.integers(1, c // 2)),
        "channel_axis": channel_axis,
        "rescale": draw(st.booleans()),
    }
    if draw(st.booleans()):
        keywords["rate"] = draw(st.floats(0, 1, allow_subnormal=False))
    elif method not in wc.DEFAULT_THRESHOLDS or draw(st.booleans()):
        keywords["threshold"] = draw(st.floats(0, 1, allow_subnormal=False))
    return draw(st.integers(0, 2**32 - 1)), tuple(shape), keywords


@given(case=mask_cases())
def test_mask_equals_the_loop_reference(backend, case):
    seed, shape, keywords = case
    x, perm = random_case(seed, shape, keywords["channel_axis"])
    keep = backend.run(wc.wedge_mask, x, perm, **keywords)
    expected = reference_mask(x, perm, **keywords)
    assert keep.shape == expected.shape
    assert keep.dtype == x.dtype
    np.testing.assert_allclose(keep, expected, rtol=1e-12)


@given(case=mask_cases())
def test_pair_scores_equal_the_loop_reference(backend, case):
    seed, shape, keywords = case
    x, perm = random_case(seed, shape, keywords["channel_axis"])
    names = ("method", "num_pairs", "channel_axis")
    picked = {name: keywords[name] for name in names}
    scores = backend.run(wc.pair_scores, x, perm, **picked)
    np.testing.assert_allclose(scores, reference_scores(x, perm, **picked), atol=1e-12)


@given(case=mask_cases())
def test_both_orders_of_the_steps_give_the_same_scores(backend, case):
    """Summarising channels before or after gathering the pairs (chosen per backend) agree."""
    seed, shape, keywords = case
    x, perm = random_case(seed, shape, keywords["channel_axis"])
    picked = {name: keywords[name] for name in ("method", "num_pairs", "channel_axis")}
    scores = backend.run(wc.pair_scores, x, perm, **picked)
    with mock.patch("wedgecore._mask.is_jax", lambda a: not is_jax(a)):
        swapped = backend.run(wc.pair_scores, x, perm, **picked)
    np.testing.assert_allclose(swapped, scores, atol=1e-12)


@given(case=mask_cases())
def test_dropout_is_input_times_mask(backend, case):
    seed, shape, keywords = case
    x, perm = random_case(seed, shape, keywords["channel_axis"])
    out = backend.run(wc.wedge_dropout, x, perm, **keywords)
    np.testing.assert_allclose(out, x * reference_mask(x, perm, **keywords), rtol=1e-12)


def _vote_case(similar_samples: int, n: int = 32):
    """One pair, similar (identical maps) in the first samples, opposite maps in the rest."""
    a = np.random.default_rng(0).normal(size=(n, 1, 3, 3))
    b = np.concatenate([a[:similar_samples], -a[similar_samples:]])
    return np.concatenate([a, b], axis=1), np.asarray([0, 1])


@pytest.mark.parametrize(("similar", "dropped"), [(16, True), (15, False), (17, True)])
def test_batchwise_vote_drops_at_exactly_half(backend, similar, dropped):
    x, perm = _vote_case(similar)
    keep = backend.run(wc.wedge_mask, x, perm, method="direct")
    assert np.all(keep == (0 if dropped else 1))


def test_per_sample_mode_drops_only_where_similar(backend):
    x, perm = _vote_case(15)
    keep = backend.run(wc.wedge_mask, x, perm, method="direct", batchwise=False)
    np.testing.assert_array_equal(keep[:, 0, 0, 0], np.repeat([0.0, 1.0], [15, 17]))
    np.testing.assert_array_equal(keep[:, 0], keep[:, 1])


@given(
    seed=st.integers(0, 2**32 - 1),
    c=st.integers(2, 40),
    rate=st.floats(0, 1, allow_subnormal=False),
    batchwise=st.booleans(),
)
def test_rate_mode_drops_exactly_round_rate_times_pairs(backend, seed, c, rate, batchwise):
    x, perm = random_case(seed, (5, c, 4))
    keep = backend.run(wc.wedge_mask, x, perm, rate=rate, batchwise=batchwise, method="direct")
    dropped_channels = np.sum(keep[:, :, 0] == 0, axis=1)
    np.testing.assert_array_equal(dropped_channels, 2 * round(rate * (c // 2)))


def test_rate_mode_breaks_ties_by_pair_index(backend):
    x = np.zeros((2, 6, 3))
    keep = backend.run(wc.wedge_mask, x, np.arange(6), method="multiply", rate=0.34)
    np.testing.assert_array_equal(keep[0, :, 0], [0, 0, 1, 1, 1, 1])


def test_unpaired_channels_are_never_dropped(backend):
    x, perm = random_case(1, (4, 7, 5))
    keep = backend.run(wc.wedge_mask, x, perm, threshold=0.0, num_pairs=2)
    unpaired = perm[4:]
    assert np.all(keep[:, unpaired] == 1)
    assert np.all(keep[:, perm[:4]] == 0)


def test_rescale_keeps_the_sample_sum_of_the_mask(backend):
    x, perm = random_case(2, (6, 8, 5))
    keep = backend.run(wc.wedge_mask, x, perm, rate=0.5, rescale=True, batchwise=False)
    np.testing.assert_allclose(np.sum(keep, axis=1).ravel(), 8.0)
    everything = backend.run(wc.wedge_mask, x, perm, threshold=0.0, rescale=True)
    np.testing.assert_array_equal(everything, 0.0)


@pytest.mark.parametrize("method", wc.METHODS)
def test_constant_maps_give_no_nan(backend, method):
    x = np.concatenate([np.zeros((3, 2, 4, 4)), np.full((3, 2, 4, 4), 0.1)], axis=1)
    perm = np.asarray([0, 2, 1, 3])
    scores = backend.run(wc.pair_scores, x, perm, method=method)
    assert np.all(np.isfinite(scores))
    keep = backend.run(wc.wedge_mask, x, perm, method=method, threshold=0.5)
    np.testing.assert_array_equal(keep, reference_mask(x, perm, method=method, threshold=0.5))


@pytest.mark.parametrize("method", wc.METHODS)
def test_nan_stays_nan_and_nothing_raises(backend, method):
    x, perm = random_case(3, (4, 6, 3, 3))
    x[1, perm[0], 0, 0] = np.nan
    out = backend.run(wc.wedge_dropout, x, perm, method=method, rate=0.5, batchwise=False)
    assert np.isnan(out[1, perm[0], 0, 0])
    assert np.sum(np.isnan(out)) == 1
    expected = reference_mask(x, perm, method=method, rate=0.5, batchwise=False)
    np.testing.assert_array_equal(np.nan_to_num(out), np.nan_to_num(x * expected))


@pytest.mark.parametrize("method", wc.METHODS)
def test_half_precision_masks_equal_their_float32_upcast(half_backend, half_dtype, method):
    backend, xp = half_backend, half_backend.xp
    x, perm = random_case(4, (8, 10, 5, 5))
    half = xp.astype(backend.asarray(x.astype(np.float32)), getattr(xp, half_dtype))
    upcast = xp.astype(half, xp.float32)
    perm = backend.asarray(perm)
    keywords = {"method": method, "rate": 0.5, "batchwise": False}
    out = wc.wedge_dropout(half, perm, **keywords)
    assert out.dtype == half.dtype
    assert tuple(out.shape) == tuple(half.shape)
    mask = wc.wedge_mask(half, perm, **keywords)
    assert mask.dtype == half.dtype
    reference = wc.wedge_mask(upcast, perm, **keywords)
    np.testing.assert_array_equal(
        backend.to_numpy(xp.astype(mask, xp.float32)), backend.to_numpy(reference)
    )
    assert np.mean(backend.to_numpy(reference)) == pytest.approx(0.6)


@pytest.mark.parametrize("perm_dtype", [np.int32, np.int64, np.uint8])
def test_any_integer_perm_dtype_works(backend, perm_dtype):
    x, perm = random_case(5, (3, 6, 4))
    keep = backend.run(wc.wedge_mask, x, perm.astype(perm_dtype), threshold=0.3)
    np.testing.assert_array_equal(keep, reference_mask(x, perm, threshold=0.3))


def test_middle_channel_axis(backend):
    x, perm = random_case(6, (3, 4, 6, 5), channel_axis=2)
    keep = backend.run(wc.wedge_mask, x, perm, channel_axis=2, threshold=0.4, batchwise=False)
    assert keep.shape == (3, 1, 6, 1)
    np.testing.assert_array_equal(
        keep, reference_mask(x, perm, channel_axis=2, threshold=0.4, batchwise=False)
    )


def test_attention_heads_are_channels(backend):
    x, perm = random_case(7, (2, 8, 16, 4))
    keep = backend.run(wc.wedge_mask, x, perm, method="direct")
    np.testing.assert_array_equal(keep, reference_mask(x, perm, method="direct"))


def test_drop_fraction_counts_zero_entries(backend):
    keep = np.ones((4, 6, 1, 1))
    keep[0, :3] = 0
    keep[2, 5] = 0
    fraction = backend.run(wc.drop_fraction, keep)
    assert fraction.shape == ()
    assert fraction == pytest.approx(4 / 24)
    x, perm = random_case(8, (4, 6, 2, 2))
    rescaled = backend.run(wc.wedge_mask, x, perm, rate=0.34, rescale=True)
    assert backend.run(wc.drop_fraction, rescaled) == pytest.approx(2 / 6)


@pytest.mark.parametrize("batchwise", [True, False])
@pytest.mark.parametrize("mode", [{"threshold": 0.5}, {"rate": 0.4}])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_backends_give_the_numpy_mask(backend, batchwise, mode, dtype):
    for method in wc.METHODS:
        x, perm = random_case(9, (17, 12, 6, 6))
        keywords = {"method": method, "batchwise": batchwise, **mode}
        keep = backend.run(wc.wedge_mask, x.astype(dtype), perm, **keywords)
        np.testing.assert_array_equal(keep, wc.wedge_mask(x.astype(dtype), perm, **keywords))


@pytest.mark.backend("torch")
def test_torch_gradient_is_the_mask():
    import torch

    x, perm = random_case(10, (6, 8, 4, 4))
    xt = torch.tensor(x, requires_grad=True)
    out = wc.wedge_dropout(xt, torch.from_numpy(perm), method="direct", batchwise=False)
    out.backward(torch.ones_like(out))
    mask = wc.wedge_mask(x, perm, method="direct", batchwise=False)
    np.testing.assert_array_equal(xt.grad.numpy(), np.broadcast_to(mask, x.shape))
    assert 0 < np.mean(mask) < 1


@pytest.mark.backend("jax")
@pytest.mark.parametrize("method", wc.METHODS)
def test_jax_gradient_is_the_mask(method):
    import jax
    import jax.numpy as jnp

    x, perm = random_case(11, (6, 8, 4, 4))
    keywords = {"method": method, "rate": 0.5, "batchwise": False}

    def loss(x):
        return jnp.sum(wc.wedge_dropout(x, jnp.asarray(perm), **keywords) * 3.0)

    grad = jax.grad(loss)(jnp.asarray(x))
    mask = wc.wedge_mask(x, perm, **keywords)
    np.testing.assert_array_equal(np.asarray(grad), 3.0 * np.broadcast_to(mask, x.shape))
