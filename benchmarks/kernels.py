"""Kernel suite: `wedge_dropout` against the framework's spatial dropout on the same tensor.

Run: ``python -m benchmarks.kernels [--quick]`` (float32, CPU, 2 threads).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

import wedgecore as wc
from benchmarks.cli import suite_main
from benchmarks.tables import markdown_table, ratio_with_spread
from benchmarks.timing import compare

SHAPES = [
    (32, 1280, 7, 7),
    (64, 64, 32, 32),
    (16, 256, 16, 16),
    (64, 128, 500),
    (4, 64, 16, 16, 16),
]
QUICK_SHAPES = [(4, 16, 5, 5), (4, 8, 20)]
RATE = 0.1
"""The drop rate of the spatial-dropout baseline."""


def method_keywords(method: str) -> dict[str, Any]:
    """The method at its default threshold; 0.5 for the methods that have none."""
    return {"method": method, "threshold": wc.DEFAULT_THRESHOLDS.get(method, 0.5)}


def torch_spatial_dropout(x: Any) -> Any:
    """The torch baseline: ``F.dropout1d/2d/3d`` at `RATE`, in training mode."""
    import torch.nn.functional as F

    spatial = {3: F.dropout1d, 4: F.dropout2d, 5: F.dropout3d}[x.ndim]
    return spatial(x, RATE, training=True)


def jax_channel_dropout(x: Any, key: Any) -> Any:
    """The jax baseline: ``x`` times a Bernoulli keep mask per (sample, channel) at `RATE`."""
    import jax

    mask_shape = (x.shape[0], x.shape[1]) + (1,) * (x.ndim - 2)
    return x * jax.random.bernoulli(key, 1 - RATE, mask_shape).astype(x.dtype)


@dataclass(frozen=True)
class Case:
    """One timed pair: a Wedge Dropout call and its spatial-dropout baseline."""

    framework: str
    mode: str
    candidate: Callable[[], Any]
    baseline: Callable[[], Any]
    sync: Callable[[Any], Any]


def torch_cases(x_np: np.ndarray, method: str) -> Iterator[Case]:
    """PyTorch eager and ``torch.compile``: against ``F.dropout1d/2d/3d``."""
    import array_api_compat.torch as xp
    import torch

    torch.set_num_threads(2)
    torch._dynamo.reset()  # each case compiles the same closures afresh, never a recompile
    x = torch.from_numpy(x_np)
    channels = x.shape[1]
    keywords = method_keywords(method)

    def wedge(x: Any) -> Any:
        return wc.wedge_dropout(x, torch.randperm(channels), xp=xp, **keywords)

    yield Case("torch", "eager", lambda: wedge(x), lambda: torch_spatial_dropout(x), lambda r: r)
    compiled_wedge = torch.compile(wedge, fullgraph=True)
    compiled_baseline = torch.compile(torch_spatial_dropout, fullgraph=True)
    yield Case(
        "torch", "compiled", lambda: compiled_wedge(x), lambda: compiled_baseline(x), lambda r: r
    )


def jax_cases(x_np: np.ndarray, method: str) -> Iterator[Case]:
    """JAX eager and ``jax.jit``: against a Bernoulli channel mask."""
    import jax
    import jax.numpy as jnp

    x = jnp.asarray(x_np)
    channels = x.shape[1]
    keywords = method_keywords(method)
    key = jax.random.key(0)

    def wedge(x: Any, key: Any) -> Any:
        return wc.wedge_dropout(x, jax.random.permutation(key, channels), **keywords)

    baseline = jax_channel_dropout

    def sync(result: Any) -> Any:
        return result.block_until_ready()

    yield Case("jax", "eager", lambda: wedge(x, key), lambda: baseline(x, key), sync)
    jit_wedge, jit_baseline = jax.jit(wedge), jax.jit(baseline)
    yield Case("jax", "jit", lambda: jit_wedge(x, key), lambda: jit_baseline(x, key), sync)


def jax_bytes_accessed(x_np: np.ndarray, method: str) -> float:
    """XLA's count of bytes the jitted kernel reads and writes, over one read and write of x."""
    import jax
    import jax.numpy as jnp

    x = jnp.asarray(x_np)
    kernel = jax.jit(functools.partial(wc.wedge_dropout, **method_keywords(method)))
    analysis = kernel.lower(x, jnp.arange(x.shape[1])).compile().cost_analysis()
    if isinstance(analysis, list):
        analysis = analysis[0]
    return float(analysis["bytes accessed"]) / (2 * x_np.nbytes)


def run(quick: bool) -> list[dict[str, Any]]:
    """Time every shape, method, framework and mode; one row per comparison."""
    shapes = QUICK_SHAPES if quick else SHAPES
    methods = ("multiply",) if quick else wc.METHODS
    timing = {"rounds": 3, "round_seconds": 0.005} if quick else {}
    rows = []
    for shape in shapes:
        x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
        for method in methods:
            for case in [*torch_cases(x, method), *jax_cases(x, method)]:
                result = compare(case.candidate, case.baseline, sync=case.sync, **timing)
                rows.append(
                    {
                        "shape": shape,
                        "method": method,
                        "framework": case.framework,
                        "mode": case.mode,
                        "ratio": result.ratio,
                        "spread": result.spread,
                        "wedge_ms": result.candidate_median * 1e3,
                        "baseline_ms": result.baseline_median * 1e3,
                    }
                )
            if method == "multiply":
                rows[-1]["bytes_over_floor"] = jax_bytes_accessed(x, method)
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table."""
    headers = ["shape", "method", "framework", "mode", "wedge / spatial dropout (IQR)"]
    cells = [
        [
            row["shape"],
            row["method"],
            row["framework"],
            row["mode"],
            ratio_with_spread(row["ratio"], row["spread"]),
            f"{row['wedge_ms']:.3f}",
            f"{row['baseline_ms']:.3f}",
        ]
        for row in rows
    ]
    return markdown_table([*headers, "wedge ms", "baseline ms"], cells)


def main() -> None:
    suite_main(__doc__, run, markdown)


if __name__ == "__main__":
    main()
