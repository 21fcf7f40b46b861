"""The arms: which channels each layer under test drops, and what it reports."""

from __future__ import annotations

import pytest
import torch

import wedgecore as wc
from experiments import arms

C = 32


def _x(rank, n=16, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand((n, C, *[6] * rank), generator=generator) + 0.1


def test_the_arms_are_the_issues():
    names = [arm.name for arm in arms.all_arms()]
    assert names == [
        "none",
        *(f"wedge-{method}" for method in wc.DEFAULT_THRESHOLDS),
        "wedge-rate-0.1",
        "wedge-rate-0.25",
        "spatial-0.25",
        "random-pairs-0.25",
    ]
    threshold_arms = [a for a in arms.all_arms() if a.kind == "wedge" and "rate" not in a.options]
    assert [a.options["method"] for a in threshold_arms] == list(wc.DEFAULT_THRESHOLDS)


def test_matched_channel_rate_is_wedges_rate_mode():
    assert arms.matched_channel_rate(0.25, 32) == 0.25
    assert arms.matched_channel_rate(0.1, 32) == 4 / 32  # round(1.6) = 2 pairs
    assert arms.matched_channel_rate(0.25, 9) == 2 / 9  # round(1.0) = 1 pair of the 4


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("arm", arms.all_arms(), ids=lambda arm: arm.name)
def test_every_arm_is_the_identity_in_eval_and_keeps_shape_in_training(arm, rank):
    layer = arm.build(rank, C, torch.Generator().manual_seed(0))
    x = _x(rank)
    out = layer.train()(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    dropped = layer.dropped()
    assert dropped.shape == (x.shape[0], C) and dropped.dtype == torch.bool
    zeroed = (out == 0).flatten(2).all(2)
    assert torch.equal(dropped, zeroed)
    assert layer.eval()(x) is x


def test_random_pairs_drop_the_first_pairs_of_the_permutation_in_every_sample():
    layer = arms.RandomPairDropout(2, 0.25, torch.Generator().manual_seed(3))
    x = _x(2)
    out = layer.train()(x)
    perm = torch.randperm(C, generator=torch.Generator().manual_seed(3))
    expected = torch.zeros(C, dtype=torch.bool)
    expected[perm[:8]] = True
    assert torch.equal(layer.dropped(), expected.expand(x.shape[0], C))
    assert torch.equal(out[:, ~expected], x[:, ~expected])
    assert layer.drop_fraction() == 0.25


def test_random_pairs_reach_every_channel_equally_often():
    layer = arms.RandomPairDropout(1, 0.25, torch.Generator().manual_seed(4)).train()
    x = _x(1, n=2)
    counts = torch.zeros(C)
    for _ in range(800):
        layer(x)
        counts += layer.channel_drops()
    assert torch.allclose(counts / 800, torch.full((C,), 0.25), atol=0.06)


def test_spatial_dropout_is_torchs_layer_with_its_mask_in_hand():
    x = _x(2)
    layer = arms.SpatialDropout(2, 0.25).train()
    torch.manual_seed(11)
    out = layer(x)
    torch.manual_seed(11)
    expected = torch.nn.Dropout2d(0.25)(x)
    assert torch.equal(out, expected)
    kept = ~layer.dropped()
    assert torch.allclose(out[kept], x[kept] / 0.75)
    assert (out[~kept] == 0).all()


def test_spatial_dropout_drops_at_its_rate_per_sample():
    layer = arms.SpatialDropout(3, 0.25).train()
    x = _x(3, n=64)
    torch.manual_seed(0)
    rates = []
    for _ in range(50):
        layer(x)
        rates.append(layer.drop_fraction())
    assert sum(rates) / len(rates) == pytest.approx(0.25, abs=0.01)
    assert not (layer.dropped() == layer.dropped()[0]).all()  # samples differ


@pytest.mark.parametrize("keywords", [{"method": "direct"}, {"rate": 0.25}])
def test_wedge_probe_reads_the_adapters_mask_off_its_output(keywords):
    x = _x(2)
    layer = arms.WedgeProbe(2, generator=torch.Generator().manual_seed(9), **keywords).train()
    out = layer(x)
    perm = torch.randperm(C, generator=torch.Generator().manual_seed(9))
    keep = wc.wedge_mask(x, perm, **keywords)
    assert torch.equal(out, x * keep)
    assert torch.equal(layer.dropped(), (keep == 0).reshape(x.shape[0], C))
    assert layer.drop_fraction() == pytest.approx(float(wc.drop_fraction(keep)))
    assert layer.drop_fraction() > 0


def test_wedge_probe_counts_an_all_zero_map_as_kept_but_reports_the_adapters_fraction():
    x = _x(2)
    perm = torch.randperm(C, generator=torch.Generator().manual_seed(2))
    x[:, perm[:2]] = 0  # the first pair: two all-zero maps, which "direct" scores 1, the maximum
    layer = arms.WedgeProbe(
        2, method="direct", rate=1 / 16, generator=torch.Generator().manual_seed(2)
    ).train()
    layer(x)
    assert layer.drop_fraction() == pytest.approx(2 / C)
    assert not layer.dropped().any()


def test_a_layer_asked_before_training_says_so():
    layer = arms.RandomPairDropout(2, 0.25)
    with pytest.raises(RuntimeError, match="not been called in training"):
        layer.dropped()


def test_an_unknown_arm_kind_is_an_error():
    with pytest.raises(ValueError, match="unknown arm kind"):
        arms.Arm("x", "dropblock").build(2, C, torch.Generator())
