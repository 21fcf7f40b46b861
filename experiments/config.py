"""The run modes: which tasks, arms and seeds, and how big each task's model and training are."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .arms import Arm, all_arms
from .training import Budget

__all__ = ["BUDGETS", "MODES", "Plan", "arms_named"]

BUDGETS: dict[str, Budget] = {
    "2d": Budget(widths=(32, 32), strides=(1, 1), epochs=30),
    "1d": Budget(widths=(32, 32, 32), strides=(1, 2, 1), epochs=15),
    "3d": Budget(widths=(16, 32, 32), strides=(2, 2, 1), epochs=15),
}
"""The full run's models and training, sized to fit 20+ seeds of every arm on two CPU cores.

Every task ends in 32 channels at the head: 16 pairs, so Wedge's rate mode at 0.25
drops exactly 4 pairs, a channel rate of 0.25.
"""


@dataclass(frozen=True)
class Plan:
    """What one invocation runs: every arm of ``arms`` on every task, for seeds ``0 .. seeds-1``."""

    tasks: tuple[str, ...]
    arms: tuple[str, ...]
    seeds: int
    budgets: dict[str, Budget]

    def runs(self) -> list[tuple[str, str, int]]:
        """``(task, arm, seed)`` triples, the arms of one seed and task next to each other."""
        return [(t, a, s) for s in range(self.seeds) for t in self.tasks for a in self.arms]


def arms_named(names: tuple[str, ...]) -> list[Arm]:
    """The arms of `all_arms` with these names, in this order."""
    known = {arm.name: arm for arm in all_arms()}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown arms {unknown}; known: {', '.join(known)}")
    return [known[name] for name in names]


_ALL = tuple(arm.name for arm in all_arms())

_SMOKE = {
    task: replace(budget, widths=(4,) * (len(budget.widths) - 1) + (8,), epochs=1)
    for task, budget in BUDGETS.items()
}

MODES: dict[str, Plan] = {
    "quick": Plan(
        tasks=("2d",),
        arms=(
            "none",
            "wedge-direct",
            "wedge-multiply",
            "wedge-rate-0.25",
            "spatial-0.25",
            "random-pairs-0.25",
        ),
        seeds=3,
        budgets=BUDGETS,
    ),
    "full": Plan(tasks=("2d", "1d", "3d"), arms=_ALL, seeds=20, budgets=BUDGETS),
    "smoke": Plan(tasks=("2d", "1d", "3d"), arms=_ALL, seeds=2, budgets=_SMOKE),
}
"""``quick``: the demo; ``full``: every task and arm; ``smoke``: the CI check, tiny models."""
