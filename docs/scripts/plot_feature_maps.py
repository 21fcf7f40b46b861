"""Draw docs/images/feature-maps.png: two pairs of feature maps and their five scores.

Run from the repository root, with wedgecore and matplotlib installed::

    python docs/scripts/plot_feature_maps.py [OUTPUT]

The maps are made, not learned: hills on a faint noisy background, the shape CNN feature maps
tend to have. The scores are computed by `wedgecore.similarity`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

import wedgecore as wc

OUTPUT = Path(__file__).parents[1] / "images" / "feature-maps.png"
SIZE = 14


def _hill(row: float, column: float, width: float = 2.0) -> np.ndarray:
    rows, columns = np.mgrid[0:SIZE, 0:SIZE]
    return np.exp(-((rows - row) ** 2 + (columns - column) ** 2) / (2 * width**2))


def _pairs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Two pairs of maps: hills in the same places, and hills in different places."""
    background = 0.05 * np.random.default_rng(1).random((3, SIZE, SIZE))
    a = _hill(4, 4) + 0.6 * _hill(10, 9) + background[0]
    same = _hill(5, 4) + 0.5 * _hill(10, 10) + background[1]
    other = _hill(3, 10) + background[2]
    return {"hills in the same places": (a, same), "hills in different places": (a, other)}


def _draw_map(axes: Axes, cells: np.ndarray, title: str) -> None:
    axes.imshow(cells, cmap="viridis")
    axes.contour(cells, levels=[cells.mean()], colors="white", linewidths=1.2, linestyles="--")
    axes.set_title(title, fontsize=10)
    axes.set_xticks([])
    axes.set_yticks([])


def _draw_scores(axes: Axes, a: np.ndarray, b: np.ndarray) -> None:
    scores = [float(wc.similarity(a, b, method)) for method in wc.METHODS]
    positions = np.arange(len(wc.METHODS))
    bars = axes.bar(positions, scores, color="#4c72b0")
    axes.bar_label(bars, labels=[f"{score:.2f}" for score in scores], fontsize=8)
    for position, method in enumerate(wc.METHODS):
        if method in wc.DEFAULT_THRESHOLDS:
            threshold = wc.DEFAULT_THRESHOLDS[method]
            axes.hlines(threshold, position - 0.4, position + 0.4, colors="#c44e52", linewidth=2)
    axes.set_xticks(positions, wc.METHODS, rotation=30, ha="right", fontsize=9)
    axes.set_ylim(0, 1.12)
    axes.set_ylabel("score")
    axes.set_title("scores (red: default threshold)", fontsize=10)


def main(output: Path) -> None:
    """Draw the figure into ``output``."""
    figure, grid = plt.subplots(2, 3, figsize=(10, 6.4), width_ratios=[1, 1, 1.6])
    for row, (name, (a, b)) in enumerate(_pairs().items()):
        _draw_map(grid[row, 0], a, "map a")
        _draw_map(grid[row, 1], b, f"map b: {name}")
        _draw_scores(grid[row, 2], a, b)
    figure.suptitle("Dashed: where each map crosses its mean", fontsize=10)
    figure.tight_layout()
    figure.savefig(output, dpi=110)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT)
