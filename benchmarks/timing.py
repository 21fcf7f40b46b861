"""Side-by-side timing: two callables measured interleaved in one process.

A ratio of medians measured this way is robust to the machine's load drifting
during the run, which lone absolute times are not.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Comparison:
    """Per-call times (seconds) of a candidate and a baseline, round by round."""

    candidate: list[float]
    baseline: list[float]

    @property
    def ratios(self) -> list[float]:
        return [c / b for c, b in zip(self.candidate, self.baseline, strict=True)]

    @property
    def ratio(self) -> float:
        """Median over rounds of candidate time / baseline time."""
        return statistics.median(self.ratios)

    @property
    def spread(self) -> tuple[float, float]:
        """The 25th and 75th percentiles of the per-round ratios."""
        quartiles = statistics.quantiles(self.ratios, n=4)
        return quartiles[0], quartiles[2]

    @property
    def candidate_median(self) -> float:
        return statistics.median(self.candidate)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline)


def _per_call(run: Callable[[], Any], sync: Callable[[Any], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        result = run()
    sync(result)
    return (time.perf_counter() - start) / calls


def compare(
    candidate: Callable[[], Any],
    baseline: Callable[[], Any],
    *,
    sync: Callable[[Any], Any] = lambda result: result,
    rounds: int = 15,
    round_seconds: float = 0.05,
    warmup: int = 3,
) -> Comparison:
    """Time ``candidate`` against ``baseline``, alternating them round by round.

    ``sync`` waits for a result (``block_until_ready`` for JAX). Each round runs
    enough calls of each to last about ``round_seconds``.
    """
    for _ in range(warmup):
        sync(candidate())
        sync(baseline())
    calls = {
        "candidate": max(1, round(round_seconds / max(_per_call(candidate, sync, 1), 1e-7))),
        "baseline": max(1, round(round_seconds / max(_per_call(baseline, sync, 1), 1e-7))),
    }
    times: dict[str, list[float]] = {"candidate": [], "baseline": []}
    for index in range(rounds):
        order = ("candidate", "baseline") if index % 2 == 0 else ("baseline", "candidate")
        for name in order:
            run = candidate if name == "candidate" else baseline
            times[name].append(_per_call(run, sync, calls[name]))
    return Comparison(times["candidate"], times["baseline"])


def first_call_seconds(run: Callable[[], Any], sync: Callable[[Any], Any]) -> float:
    """Wall time of one call, including any tracing or compilation it triggers."""
    start = time.perf_counter()
    sync(run())
    return time.perf_counter() - start
