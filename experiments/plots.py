"""The report's figures, drawn with matplotlib's Agg backend into PNG files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from .summary import CONTROL, Row, by_seed
from .training import RunResult

__all__ = ["accuracy_deltas", "channel_heatmaps", "drop_rates", "similarity_matrices"]

_DPI = 110


def _save(figure: plt.Figure, path: Path) -> Path:
    figure.savefig(path, dpi=_DPI, bbox_inches="tight")
    plt.close(figure)
    return path


def _grid(panels: int, width: float, height: float) -> tuple[plt.Figure, list[plt.Axes]]:
    columns = min(panels, 4)
    rows = -(-panels // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(width * columns, height * rows), squeeze=False, layout="constrained"
    )
    for axis in axes.flat[panels:]:
        axis.set_visible(False)
    return figure, list(axes.flat)[:panels]


def accuracy_deltas(rows: Sequence[Row], tasks: Sequence[str], path: Path) -> Path:
    """Per task, each arm's mean paired accuracy change against no dropout, with its 95 % CI."""
    figure, axes = _grid(len(tasks), 4.6, 3.2)
    for axis, task in zip(axes, tasks, strict=True):
        compared = [r for r in rows if r.task == task and r.delta is not None]
        y = np.arange(len(compared))
        mean = np.array([100 * r.delta.mean for r in compared])
        low = np.array([100 * r.delta.low for r in compared])
        high = np.array([100 * r.delta.high for r in compared])
        axis.errorbar(mean, y, xerr=[mean - low, high - mean], fmt="o", capsize=3)
        axis.axvline(0, color="grey", lw=1)
        axis.set_yticks(y, [r.arm for r in compared])
        axis.invert_yaxis()
        axis.set_xlabel(f"test accuracy - {CONTROL} (percentage points)")
        axis.set_title(f"{task}: paired change, 95 % bootstrap CI")
    return _save(figure, path)


def drop_rates(
    results: Sequence[RunResult], tasks: Sequence[str], arms: Sequence[str], path: Path
) -> Path:
    """Per task, each arm's drop fraction at every training step: mean over seeds, +- 1 sd."""
    figure, axes = _grid(len(tasks), 4.6, 3.2)
    for axis, task in zip(axes, tasks, strict=True):
        for arm in arms:
            runs = by_seed(results, task, arm)
            if arm == CONTROL or not runs:
                continue
            drops = np.stack([r.drop for r in runs])
            mean, sd = drops.mean(0), drops.std(0)
            steps = np.arange(1, drops.shape[1] + 1)
            (line,) = axis.plot(steps, mean, lw=1, label=arm)
            axis.fill_between(steps, mean - sd, mean + sd, color=line.get_color(), alpha=0.2)
        axis.set_ylim(-0.02, 1.02)
        axis.set_xlabel("training step")
        axis.set_ylabel("fraction of channels dropped")
        axis.set_title(f"{task}: realised drop rate")
        axis.legend(fontsize=6, loc="center right")
    return _save(figure, path)


def channel_heatmaps(
    results: Sequence[RunResult], task: str, arms: Sequence[str], path: Path
) -> Path:
    """For the first seed, how often each channel was dropped in each epoch, per arm."""
    shown = [a for a in arms if a != CONTROL and by_seed(results, task, a)]
    figure, axes = _grid(len(shown), 3.4, 3.0)
    for axis, arm in zip(axes, shown, strict=True):
        run = by_seed(results, task, arm)[0]
        epochs, channels = run.channel_epoch.shape
        image = axis.imshow(
            run.channel_epoch.T,
            aspect="auto",
            vmin=0,
            vmax=1,
            cmap="magma",
            interpolation="none",
            extent=(0.5, epochs + 0.5, channels - 0.5, -0.5),
        )
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlabel("epoch")
        axis.set_ylabel("channel")
        axis.set_title(f"{arm} (seed {run.seed})", fontsize=8)
    figure.colorbar(image, ax=axes, label="fraction of steps dropped")
    figure.suptitle(f"{task}: how often each channel was dropped")
    return _save(figure, path)


def similarity_matrices(
    results: Sequence[RunResult], task: str, arms: Sequence[str], method: str, path: Path
) -> Path:
    """For the first seed, the head's channel-by-channel similarity at the end, per arm."""
    shown = [a for a in arms if by_seed(results, task, a)]
    runs = [by_seed(results, task, a)[0] for a in shown]
    high = max(float(r.similarity.max()) for r in runs)
    figure, axes = _grid(len(shown), 3.2, 3.0)
    for axis, run in zip(axes, runs, strict=True):
        image = axis.imshow(run.similarity, vmin=0, vmax=high, cmap="viridis")
        axis.set_title(f"{run.arm}: mean {run.mean_similarity:.3f}", fontsize=8)
        axis.set_xlabel("channel")
        axis.set_ylabel("channel")
    figure.colorbar(image, ax=axes, label=f"{method} score")
    figure.suptitle(f"{task}: similarity of the head's maps after training (test samples)")
    return _save(figure, path)
