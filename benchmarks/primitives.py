"""Primitive suite: each array-API operation eager `multiply` runs, against a spatial dropout.

Op by op, every operation of the kernel is its own pass over x-sized data, so the
eager kernel costs at least the sum of its operations. Timing each one against
the spatial dropout on the same tensor shows that floor, per backend, without
the kernel's bookkeeping on the small (N, C) arrays.
Run: ``python -m benchmarks.primitives [--quick]`` (float32, CPU, 2 threads).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from benchmarks.cli import suite_main
from benchmarks.kernels import QUICK_SHAPES, SHAPES, jax_channel_dropout, torch_spatial_dropout
from benchmarks.tables import markdown_table
from benchmarks.timing import compare

Operations = dict[str, Callable[[], Any]]


def _operations(x3: Any, perm: Any, xp: Any) -> Operations:
    """The x-sized passes of eager `multiply` on ``x3`` of shape (N, C, S), in kernel order."""
    pairs = x3.shape[1] // 2
    paired = perm[: 2 * pairs]
    minimum = xp.take(xp.min(x3, axis=2, keepdims=True), paired, axis=1)
    gathered = xp.take(x3, paired, axis=1)
    shifted = xp.reshape(gathered - minimum, (-1, pairs, 2, x3.shape[2]))
    product = shifted[:, :, 0, :] * shifted[:, :, 1, :]
    level = xp.mean(product, axis=2, keepdims=True)
    above = product > level
    counted = xp.astype(above, x3.dtype)
    keep = xp.ones_like(x3[:, :, :1])
    return {
        "min over cells": lambda: xp.min(x3, axis=2, keepdims=True),
        "gather channels": lambda: xp.take(x3, paired, axis=1),
        "subtract minimum": lambda: gathered - minimum,
        "pair product": lambda: shifted[:, :, 0, :] * shifted[:, :, 1, :],
        "mean over cells": lambda: xp.mean(product, axis=2, keepdims=True),
        "compare with mean": lambda: product > level,
        "bool to float": lambda: xp.astype(above, x3.dtype),
        "fraction above": lambda: xp.mean(counted, axis=2),
        "multiply by mask": lambda: x3 * keep,
    }


def _torch(x_np: np.ndarray) -> tuple[Operations, Callable[[], Any], Callable[[Any], Any]]:
    import array_api_compat.torch as xp
    import torch

    torch.set_num_threads(2)
    x = torch.from_numpy(x_np)
    x3 = xp.reshape(x, (x.shape[0], x.shape[1], -1))
    operations = _operations(x3, torch.randperm(x.shape[1]), xp)
    return operations, lambda: torch_spatial_dropout(x), lambda result: result


def _jax(x_np: np.ndarray) -> tuple[Operations, Callable[[], Any], Callable[[Any], Any]]:
    import jax
    import jax.numpy as jnp

    x = jnp.asarray(x_np)
    key = jax.random.key(0)
    x3 = jnp.reshape(x, (x.shape[0], x.shape[1], -1))
    operations = _operations(x3, jax.random.permutation(key, x.shape[1]), jnp)
    return (
        operations,
        lambda: jax_channel_dropout(x, key),
        lambda result: result.block_until_ready(),
    )


def _cases(x: np.ndarray) -> Iterator[tuple[str, str, Callable[[], Any], Callable[[], Any], Any]]:
    for framework, setup in (("torch", _torch), ("jax", _jax)):
        operations, baseline, sync = setup(x)
        for name, operation in operations.items():
            yield framework, name, operation, baseline, sync


def run(quick: bool) -> list[dict[str, Any]]:
    """One row per shape, framework and operation: its time over the spatial dropout's."""
    shapes = QUICK_SHAPES if quick else SHAPES
    timing = {"rounds": 3, "round_seconds": 0.005} if quick else {"rounds": 9}
    rows = []
    for shape in shapes:
        x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
        for framework, name, operation, baseline, sync in _cases(x):
            result = compare(operation, baseline, sync=sync, **timing)
            rows.append(
                {"shape": shape, "framework": framework, "operation": name, "ratio": result.ratio}
            )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """One column per operation, one row per shape and framework, and the row's sum."""
    operations = list(dict.fromkeys(row["operation"] for row in rows))
    keys = list(dict.fromkeys((row["shape"], row["framework"]) for row in rows))
    ratio = {(row["shape"], row["framework"], row["operation"]): row["ratio"] for row in rows}
    cells = []
    for shape, framework in keys:
        ratios = [ratio[shape, framework, name] for name in operations]
        cells.append([shape, framework, *(f"{r:.2f}" for r in ratios), f"**{sum(ratios):.2f}**"])
    return markdown_table(["shape", "framework", *operations, "sum"], cells)


def main() -> None:
    suite_main(__doc__, run, markdown)


if __name__ == "__main__":
    main()
