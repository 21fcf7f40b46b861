"""Aggregate the runs of each (task, arm) over seeds into one row of the results table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .stats import Paired, paired
from .training import RunResult

__all__ = ["CONTROL", "Row", "by_seed", "summarise"]

CONTROL = "none"
"""The arm every other arm is compared with."""


@dataclass(frozen=True)
class Row:
    """One arm on one task, over all seeds.

    Attributes
    ----------
    task, arm : str
        What was run.
    seeds : int
        How many seeds.
    accuracy, accuracy_sd : float
        Mean and standard deviation over seeds of the test accuracy.
    delta : Paired or None
        The paired difference in accuracy with `CONTROL` (None for the control itself).
    drop, drop_sd : float
        Mean and standard deviation of the per-step drop fraction, over all steps of all seeds.
    similarity : float
        Mean over seeds of the mean pairwise similarity of the head's maps at the end.
    step_ratio : float
        Median over seeds of `RunResult.step_ratio`: a step's time with the layer under test
        over its time with the identity (about 1 for the control itself: the timing's noise).
    """

    task: str
    arm: str
    seeds: int
    accuracy: float
    accuracy_sd: float
    delta: Paired | None
    drop: float
    drop_sd: float
    similarity: float
    step_ratio: float


def by_seed(results: Sequence[RunResult], task: str, arm: str) -> list[RunResult]:
    """The runs of ``arm`` on ``task``, in seed order."""
    return sorted((r for r in results if r.task == task and r.arm == arm), key=lambda r: r.seed)


def _row(task: str, arm: str, runs: list[RunResult], control: list[RunResult]) -> Row:
    accuracy = np.array([r.accuracy for r in runs])
    steps = np.concatenate([r.drop for r in runs])
    delta = None
    if arm != CONTROL and control:
        if [r.seed for r in runs] != [r.seed for r in control]:
            raise ValueError(f"{task}/{arm} and {task}/{CONTROL} were not run on the same seeds")
        delta = paired(accuracy, np.array([r.accuracy for r in control]))
    return Row(
        task=task,
        arm=arm,
        seeds=len(runs),
        accuracy=float(accuracy.mean()),
        accuracy_sd=float(accuracy.std(ddof=1)) if len(runs) > 1 else 0.0,
        delta=delta,
        drop=float(steps.mean()),
        drop_sd=float(steps.std()),
        similarity=float(np.mean([r.mean_similarity for r in runs])),
        step_ratio=float(np.median([r.step_ratio for r in runs])),
    )


def summarise(results: Sequence[RunResult], tasks: Sequence[str], arms: Sequence[str]) -> list[Row]:
    """One `Row` per task and arm, in the given orders; arms with no runs are left out."""
    rows = []
    for task in tasks:
        control = by_seed(results, task, CONTROL)
        for arm in arms:
            runs = by_seed(results, task, arm)
            if runs:
                rows.append(_row(task, arm, runs, control))
    return rows
