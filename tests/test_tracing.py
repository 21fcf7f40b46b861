"""The kernels trace into graphs whose size does not depend on the channel count."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import wedgecore as wc

MODES = [
    {"method": "multiply"},
    {"method": "direct", "batchwise": False},
    {"method": "rectify", "rate": 0.25},
    {"method": "overlap", "rate": 0.5, "batchwise": False, "rescale": True},
]


def _count_equations(jaxpr) -> int:
    count = 0
    for equation in jaxpr.eqns:
        count += 1
        for param in equation.params.values():
            inner = getattr(param, "jaxpr", None)
            if inner is not None:
                count += _count_equations(getattr(inner, "jaxpr", inner))
    return count


@pytest.mark.backend("jax")
@pytest.mark.parametrize("keywords", MODES)
def test_jaxpr_size_does_not_grow_with_channels(keywords):
    import jax

    sizes = []
    for channels in (8, 1024):
        x = np.zeros((4, channels, 7, 7), dtype=np.float32)
        perm = np.arange(channels, dtype=np.int32)
        traced = jax.make_jaxpr(functools.partial(wc.wedge_mask, **keywords))(x, perm)
        sizes.append(_count_equations(traced.jaxpr))
    assert sizes[0] == sizes[1]
    assert sizes[0] > 10


@pytest.mark.backend("torch")
@pytest.mark.parametrize("keywords", MODES)
def test_torch_compile_fullgraph_matches_eager(keywords):
    import torch

    torch._dynamo.reset()
    compiled = torch.compile(functools.partial(wc.wedge_dropout, **keywords), fullgraph=True)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = torch.from_numpy(rng.normal(size=(8, 16, 5, 5)).astype(np.float32))
        perm = torch.randperm(16)
        np.testing.assert_array_equal(
            compiled(x, perm).numpy(), wc.wedge_dropout(x, perm, **keywords).numpy()
        )


@pytest.mark.backend("torch")
@pytest.mark.parametrize("keywords", MODES)
def test_torch_compile_with_dynamic_shapes_matches_eager(keywords):
    import torch

    torch._dynamo.reset()
    compiled = torch.compile(
        functools.partial(wc.wedge_dropout, **keywords), fullgraph=True, dynamic=True
    )
    for shape in [(8, 16, 5, 5), (6, 12, 4, 3)]:
        x = torch.randn(*shape)
        perm = torch.randperm(shape[1])
        torch.testing.assert_close(
            compiled(x, perm), wc.wedge_dropout(x, perm, **keywords), rtol=0, atol=0
        )


@pytest.mark.backend("torch")
def test_torch_compile_does_not_recompile_for_new_permutations():
    import torch
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(wc.wedge_dropout, fullgraph=True)
    x = torch.randn(8, 16, 5, 5)
    for _ in range(4):
        compiled(x, torch.randperm(16))
    assert counters["stats"]["unique_graphs"] == 1
