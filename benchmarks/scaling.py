"""Scaling suite: time and traced-graph size of `wedge_dropout` against the channel count C.

At a fixed number of elements per channel (N * S), the kernel's time must grow
linearly in C (time / C constant) and its traced graph must not grow at all.
Run: ``python -m benchmarks.scaling [--quick]``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

import wedgecore as wc
from benchmarks.cli import suite_main
from benchmarks.tables import markdown_table
from benchmarks.timing import compare

CHANNELS = (64, 128, 256, 512, 1024, 2048)
QUICK_CHANNELS = (8, 16)
BATCH, SIDE = 16, 7


def _jaxpr_equations(channels: int) -> int:
    import jax

    x = np.zeros((BATCH, channels, SIDE, SIDE), dtype=np.float32)
    perm = np.arange(channels, dtype=np.int32)
    jaxpr = jax.make_jaxpr(functools.partial(wc.wedge_dropout, method="multiply"))(x, perm)
    return len(jaxpr.jaxpr.eqns)


def _torch_graph_nodes(channels: int) -> int:
    import array_api_compat.torch as xp
    import torch

    nodes: list[int] = []

    def count(graph_module: Any, example_inputs: Any) -> Any:
        nodes.append(len(graph_module.graph.nodes))
        return graph_module.forward

    torch._dynamo.reset()
    compiled = torch.compile(
        functools.partial(wc.wedge_dropout, xp=xp), backend=count, fullgraph=True
    )
    compiled(torch.randn(BATCH, channels, SIDE, SIDE), torch.randperm(channels))
    return nodes[0]


def _wedge_step(x: Any, xp: Any) -> Any:
    import torch

    return wc.wedge_dropout(x, torch.randperm(x.shape[1]), xp=xp)


def run(quick: bool) -> list[dict[str, Any]]:
    """Per C: torch time per channel relative to the smallest C, and both graph sizes."""
    import array_api_compat.torch as xp
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(2)
    channels_list = QUICK_CHANNELS if quick else CHANNELS
    timing = {"rounds": 3, "round_seconds": 0.005} if quick else {}
    rows = []
    for channels in channels_list:
        x = torch.randn(BATCH, channels, SIDE, SIDE)
        result = compare(
            functools.partial(_wedge_step, x, xp),
            functools.partial(F.dropout2d, x, 0.1, training=True),
            **timing,
        )
        rows.append(
            {
                "channels": channels,
                "wedge_ms": result.candidate_median * 1e3,
                "ratio": result.ratio,
                "jaxpr_equations": _jaxpr_equations(channels),
                "torch_graph_nodes": _torch_graph_nodes(channels),
            }
        )
    first = rows[0]
    for row in rows:
        row["time_per_channel"] = (row["wedge_ms"] / row["channels"]) / (
            first["wedge_ms"] / first["channels"]
        )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table."""
    headers = ["C", "wedge ms (torch eager)", "time per channel vs smallest C"]
    cells = [
        [
            row["channels"],
            f"{row['wedge_ms']:.3f}",
            f"{row['time_per_channel']:.2f}",
            f"{row['ratio']:.2f}",
            row["jaxpr_equations"],
            row["torch_graph_nodes"],
        ]
        for row in rows
    ]
    return markdown_table([*headers, "wedge / dropout2d", "jaxpr equations", "FX nodes"], cells)


def main() -> None:
    suite_main(__doc__, run, markdown)


if __name__ == "__main__":
    main()
