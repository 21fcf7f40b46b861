"""The command line: pick a mode, run every (task, arm, seed), print the table, write the report."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shlex
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import torch
from tqdm import tqdm

from . import report
from .arms import all_arms
from .config import MODES, Plan, arms_named
from .data import TASKS
from .training import RunResult, train

__all__ = ["main", "run_all"]

SIMILARITY_METHOD = "multiply"
"""The method of the final similarity matrices: the library's default."""


def _init_worker() -> None:
    torch.set_num_threads(1)


def _run(job: tuple[str, str, int, Plan]) -> RunResult:
    task, arm, seed, plan = job
    return train(task, arms_named((arm,))[0], seed, plan.budgets[task], SIMILARITY_METHOD)


def _results(plan: Plan, jobs: int) -> Iterator[RunResult]:
    work = [(task, arm, seed, plan) for task, arm, seed in plan.runs()]
    if jobs == 1:
        _init_worker()
        yield from map(_run, work)
        return
    with multiprocessing.get_context("spawn").Pool(jobs, initializer=_init_worker) as pool:
        yield from pool.imap(_run, work)


def run_all(plan: Plan, jobs: int = 1, progress: bool = False) -> list[RunResult]:
    """Train every run of ``plan``, ``jobs`` at a time, each on one thread.

    The results do not depend on ``jobs``: every run fixes its own seeds and threads.
    """
    arms_named(plan.arms)
    total = len(plan.runs())
    bar = tqdm(_results(plan, jobs), total=total, unit="run", disable=not progress, file=sys.stderr)
    return list(bar)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m experiments",
        description="Train small CNNs with and without Wedge Dropout and compare them.",
    )
    parser.add_argument(
        "--mode",
        choices=tuple(MODES),
        default="quick",
        help="quick: the demo (2d, 3 seeds, 6 arms); full: every task and arm, 20 seeds; "
        "smoke: a tiny CI check (default: %(default)s)",
    )
    parser.add_argument("--tasks", help=f"comma-separated subset of {', '.join(TASKS)}")
    parser.add_argument(
        "--arms",
        help="comma-separated subset of "
        f"{', '.join(arm.name for arm in all_arms())} (default: the mode's)",
    )
    parser.add_argument("--seeds", type=int, help="number of paired seeds (default: the mode's)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="runs in parallel, one thread each (default: the CPU count, %(default)s)",
    )
    parser.add_argument("--out", type=Path, help="report folder (default: build/experiments/MODE)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _plan(args: argparse.Namespace) -> Plan:
    plan = MODES[args.mode]
    if args.tasks:
        tasks = tuple(t.strip() for t in args.tasks.split(","))
        unknown = [t for t in tasks if t not in TASKS]
        if unknown:
            raise SystemExit(f"unknown tasks {unknown}; known: {', '.join(TASKS)}")
        plan = replace(plan, tasks=tasks)
    if args.arms:
        arms = tuple(a.strip() for a in args.arms.split(","))
        try:
            arms_named(arms)
        except ValueError as error:
            raise SystemExit(str(error)) from None
        plan = replace(plan, arms=arms)
    if args.seeds is not None:
        if args.seeds < 1:
            raise SystemExit(f"--seeds must be at least 1, got {args.seeds}")
        plan = replace(plan, seeds=args.seeds)
    if args.jobs < 1:
        raise SystemExit(f"--jobs must be at least 1, got {args.jobs}")
    return plan


def main(argv: Sequence[str] | None = None) -> int:
    """Run the harness from the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    plan = _plan(args)
    out = args.out or Path("build", "experiments", args.mode)
    start = time.perf_counter()
    results = run_all(plan, args.jobs, progress=not args.no_progress)
    meta = report.Meta(
        command=shlex.join(["python", "-m", "experiments", *argv]),
        wall_seconds=time.perf_counter() - start,
        jobs=args.jobs,
        torch_version=torch.__version__,
        cpus=os.cpu_count() or 1,
        similarity_method=SIMILARITY_METHOD,
    )
    text, path = report.write(results, plan, meta, out)
    print(text)
    print(f"\n{len(results)} runs in {meta.wall_seconds:.0f} s; report: {path}")
    return 0
