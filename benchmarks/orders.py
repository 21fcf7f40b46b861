"""Order suite: the kernel's two orders of the same steps, timed side by side, compiled.

`wedgecore._mask` scores pairs either by summarising every channel before
gathering the paired ones, or by gathering the pairs' channels first and
summarising each pair; it picks the order by the array type. This suite times
both orders of `multiply`'s scores (the rest of the kernel is the same in both)
under ``torch.compile`` and ``jax.jit``, to show each choice is the faster one.
Run: ``python -m benchmarks.orders [--quick]`` (float32, CPU, 2 threads).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.cli import suite_main
from benchmarks.kernels import QUICK_SHAPES, SHAPES
from benchmarks.tables import markdown_table, ratio_with_spread
from benchmarks.timing import compare
from wedgecore._mask import gather_then_summarise, summarise_then_gather
from wedgecore._methods import method_steps

ORDERS = {"gather first": gather_then_summarise, "summarise first": summarise_then_gather}
CHOSEN = {"torch": "gather first", "jax": "summarise first"}
"""The order `wedgecore._mask` takes on each framework's arrays."""

Scores = Callable[[Any, Any], Any]
Calls = tuple[dict[str, Callable[[], Any]], Callable[[Any], Any]]


def _scores(order: Callable[..., Any], xp: Any) -> Scores:
    """``multiply`` scores of channels-first ``x`` in the given order."""
    steps = method_steps("multiply")

    def scores(x: Any, perm: Any) -> Any:
        x3 = xp.reshape(x, (x.shape[0], x.shape[1], -1))
        return order(x3, perm, steps, 1, 2, xp)

    return scores


def _torch(x_np: np.ndarray) -> Calls:
    """Each order's compiled call on ``x``, and how to wait for it."""
    import array_api_compat.torch as xp
    import torch

    torch.set_num_threads(2)
    torch._dynamo.reset()
    x = torch.from_numpy(x_np)
    perm = torch.randperm(x.shape[1])
    compiled = {
        name: torch.compile(_scores(order, xp), fullgraph=True) for name, order in ORDERS.items()
    }
    return {name: (lambda f=f: f(x, perm)) for name, f in compiled.items()}, lambda r: r


def _jax(x_np: np.ndarray) -> Calls:
    """Each order's jitted call on ``x``, and how to wait for it."""
    import jax
    import jax.numpy as jnp

    x = jnp.asarray(x_np)
    perm = jax.random.permutation(jax.random.key(0), x.shape[1])
    jitted = {name: jax.jit(_scores(order, jnp)) for name, order in ORDERS.items()}
    calls = {name: (lambda f=f: f(x, perm)) for name, f in jitted.items()}
    return calls, lambda result: result.block_until_ready()


def run(quick: bool) -> list[dict[str, Any]]:
    """Per shape and framework: the other order's time over the chosen order's."""
    shapes = QUICK_SHAPES if quick else SHAPES
    timing = {"rounds": 3, "round_seconds": 0.005} if quick else {}
    rows = []
    for shape in shapes:
        x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
        for framework, setup in (("torch", _torch), ("jax", _jax)):
            calls, sync = setup(x)
            chosen = CHOSEN[framework]
            other = next(name for name in ORDERS if name != chosen)
            result = compare(calls[other], calls[chosen], sync=sync, **timing)
            rows.append(
                {
                    "shape": shape,
                    "framework": framework,
                    "chosen": chosen,
                    "ratio": result.ratio,
                    "spread": result.spread,
                }
            )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table."""
    headers = ["shape", "framework", "chosen order", "other order / chosen (IQR)"]
    cells = [
        [
            row["shape"],
            row["framework"],
            row["chosen"],
            ratio_with_spread(row["ratio"], row["spread"]),
        ]
        for row in rows
    ]
    return markdown_table(headers, cells)


def main() -> None:
    suite_main(__doc__, run, markdown)


if __name__ == "__main__":
    main()
