"""The results table (stdout and markdown), the findings, and the report folder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import plots
from .config import Plan
from .summary import CONTROL, Row, summarise
from .training import RunResult

__all__ = ["COLUMNS", "Meta", "cells", "findings", "markdown", "table", "write"]

COLUMNS = (
    "task",
    "arm",
    "accuracy %",
    f"delta vs {CONTROL} (pp) [95% CI]",
    "p",
    "drop rate (sd)",
    "similarity",
    "step time x",
)
"""The table's columns, in order."""


@dataclass(frozen=True)
class Meta:
    """How the runs were made, for the report's header."""

    command: str
    wall_seconds: float
    jobs: int
    torch_version: str
    cpus: int
    similarity_method: str


def cells(row: Row) -> list[str]:
    """The table cells of one row, as text."""
    if row.delta is None:
        delta = p = "-"
    else:
        d = row.delta
        delta = f"{100 * d.mean:+.2f} [{100 * d.low:+.2f}, {100 * d.high:+.2f}]"
        p = f"{d.p:.3f}"
    return [
        row.task,
        row.arm,
        f"{100 * row.accuracy:.2f} +- {100 * row.accuracy_sd:.2f}",
        delta,
        p,
        f"{row.drop:.3f} ({row.drop_sd:.3f})",
        f"{row.similarity:.3f}",
        f"{row.step_ratio:.2f}",
    ]


def table(rows: Sequence[Row]) -> str:
    """The results as an aligned plain-text table."""
    body = [list(COLUMNS), *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in body) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in body
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _markdown_table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def findings(rows: Sequence[Row]) -> list[str]:
    """Plain statements of what the table shows, one per line, with no judgement added."""
    compared = [r for r in rows if r.delta is not None]
    if not compared:
        return [f"No arm was compared with {CONTROL}."]
    lines = []
    for row in compared:
        d = row.delta
        if d.low > 0 or d.high < 0 or d.p < 0.05:
            direction = "higher" if d.mean > 0 else "lower"
            lines.append(
                f"{row.task} / {row.arm}: accuracy {direction} than {CONTROL} by "
                f"{100 * abs(d.mean):.2f} pp (95 % CI [{100 * d.low:+.2f}, {100 * d.high:+.2f}], "
                f"p = {d.p:.3f}, {d.n} seeds)."
            )
    if not lines:
        lines.append(
            f"No arm's 95 % interval excludes zero and no p-value is below 0.05: no detectable "
            f"effect on accuracy at {compared[0].delta.n} seeds."
        )
    lines.append(
        f"{len(compared)} comparisons, not corrected for multiplicity: at a 5 % level about "
        f"{0.05 * len(compared):.1f} of them would fall below p = 0.05 by chance alone."
    )
    for task in dict.fromkeys(r.task for r in compared):
        rates = ", ".join(f"{r.arm} {r.drop:.3f}" for r in compared if r.task == task)
        lines.append(f"{task}: mean fraction of channels dropped per step: {rates}.")
    return lines


_COLUMN_NOTES = """\
- *accuracy %*: mean +- sd over seeds of the final test accuracy.
- *delta*: mean over seeds of (arm - {control}) on the same seed, in percentage points, with a 95 %
  percentile bootstrap interval over seeds; *p*: two-sided sign-flip permutation p-value. With few
  seeds the bootstrap interval is narrower than its nominal 95 %, and the smallest possible p is
  2 / 2^seeds (0.25 with 3 seeds): read the two together.
- *drop rate*: fraction of (sample, channel) entries the layer zeroed per training step, mean (and
  sd) over all steps of all seeds. Spatial dropout scales the kept channels by 1 / (1 - p); the
  Wedge and random-pair arms do not (the library's default, `rescale=False`).
- *similarity*: mean over distinct channel pairs of the `{method}` score of the head's maps on test
  samples after training (`wedgecore.similarity_matrix`), mean over seeds.
- *step time x*: a training step's time with the layer under test over its time with the identity
  in its place, timed alternately in one process after training ({steps} steps each, medians),
  median over seeds; {control}'s own value shows the timing's noise."""


def _setup(plan: Plan, meta: Meta, run_seconds: dict[str, float]) -> list[str]:
    lines = [
        f"- Tasks: {', '.join(plan.tasks)}; seeds 0-{plan.seeds - 1}. A seed fixes the data "
        "split, the initial weights, the data order and the dropout draws; every arm of a seed "
        "shares the first three.",
        f"- Arms: {', '.join(plan.arms)}.",
        "- Models: Conv-BN-ReLU blocks, the layer under test, global average pooling, a linear "
        "head; Adam on a cosine schedule.",
    ]
    for task in plan.tasks:
        b = plan.budgets[task]
        lines.append(
            f"- `{task}`: blocks {b.widths}, strides {b.strides}, epochs {b.epochs}, batch "
            f"{b.batch_size}, lr {b.lr:g}; {run_seconds[task]:.1f} s per run on average."
        )
    lines.append(
        f"- {meta.jobs} runs at a time, one thread each, on {meta.cpus} CPUs; torch "
        f"{meta.torch_version}; {meta.wall_seconds:.0f} s in all."
    )
    return lines


def markdown(
    rows: Sequence[Row],
    plan: Plan,
    meta: Meta,
    figures: Sequence[Path],
    run_seconds: dict[str, float],
) -> str:
    """The report, as markdown that links the figures by file name.

    ``run_seconds`` is the mean wall time of one run of each task.
    """
    notes = _COLUMN_NOTES.format(
        control=CONTROL,
        method=meta.similarity_method,
        steps=plan.budgets[plan.tasks[0]].timing_steps,
    )
    sections = [
        "# Wedge Dropout: evaluation report",
        f"Regenerate with `{meta.command}` (from the repository root).",
        "## Setup",
        "\n".join(_setup(plan, meta, run_seconds)),
        "## Results",
        _markdown_table(rows),
        notes,
        "## Findings",
        "\n".join(f"- {line}" for line in findings(rows)),
        "## Figures",
        *(f"![{p.stem}]({p.name})" for p in figures),
    ]
    return "\n\n".join(sections) + "\n"


def _run_record(run: RunResult) -> dict[str, object]:
    return {
        "task": run.task,
        "arm": run.arm,
        "seed": run.seed,
        "accuracy": run.accuracy,
        "drop_mean": float(run.drop.mean()),
        "drop_sd": float(run.drop.std()),
        "mean_similarity": run.mean_similarity,
        "median_step_seconds": float(np.median(run.step_seconds)),
        "step_ratio": run.step_ratio,
        "wall_seconds": run.wall_seconds,
    }


def write(results: Sequence[RunResult], plan: Plan, meta: Meta, out: Path) -> tuple[str, Path]:
    """Write ``report.md``, its figures and ``runs.json`` into ``out``.

    Returns the plain-text table and the report's path.
    """
    out.mkdir(parents=True, exist_ok=True)
    rows = summarise(results, plan.tasks, plan.arms)
    figures = [
        plots.accuracy_deltas(rows, plan.tasks, out / "accuracy_deltas.png"),
        plots.drop_rates(results, plan.tasks, plan.arms, out / "drop_rates.png"),
    ]
    for task in plan.tasks:
        figures.append(
            plots.channel_heatmaps(results, task, plan.arms, out / f"channels_{task}.png")
        )
        figures.append(
            plots.similarity_matrices(
                results, task, plan.arms, meta.similarity_method, out / f"similarity_{task}.png"
            )
        )
    (out / "runs.json").write_text(json.dumps([_run_record(r) for r in results], indent=1))
    run_seconds = {
        task: float(np.mean([r.wall_seconds for r in results if r.task == task]))
        for task in plan.tasks
    }
    path = out / "report.md"
    path.write_text(markdown(rows, plan, meta, figures, run_seconds))
    return table(rows), path
