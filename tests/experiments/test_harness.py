"""The harness end to end on a tiny budget: pairing, determinism, the command line, the report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from experiments import cli, config, report, summary
from experiments.arms import Arm, NoDropout, all_arms
from experiments.data import load
from experiments.stats import Paired
from experiments.training import _step_ratio, build, train

ROOT = Path(__file__).parents[2]
SMOKE = config.MODES["smoke"]
BUDGET = SMOKE.budgets["2d"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """The CI command: every task and arm, two seeds, tiny models, two runs at a time."""
    out = tmp_path_factory.mktemp("smoke")
    command = [sys.executable, "-m", "experiments", "--mode", "smoke", "--jobs", "2"]
    result = subprocess.run(
        [*command, "--no-progress", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, out


def test_every_arm_of_a_seed_starts_from_the_same_weights():
    data = load("2d", 0)
    states = [build(arm, data, BUDGET, 0).state_dict() for arm in all_arms()]
    for state in states[1:]:
        assert state.keys() == states[0].keys()
        assert all(torch.equal(state[k], states[0][k]) for k in state)
    other = build(all_arms()[0], data, BUDGET, 1).state_dict()
    assert not torch.equal(other["head.weight"], states[0]["head.weight"])


def test_an_arm_that_drops_nothing_trains_exactly_like_no_dropout():
    # Same initial weights, same data order, and dropout draws that touch neither.
    none = train("2d", Arm("none", "none"), 0, BUDGET)
    idle = train("2d", Arm("wedge-rate-0", "wedge", {"rate": 0.0}), 0, BUDGET)
    assert (idle.drop == 0).all()
    assert idle.accuracy == none.accuracy
    np.testing.assert_array_equal(idle.similarity, none.similarity)


def test_a_run_is_reproducible_and_measures_what_it_says():
    arm = config.arms_named(("wedge-rate-0.25",))[0]
    first, second = (train("1d", arm, 1, SMOKE.budgets["1d"]) for _ in range(2))
    assert first.accuracy == second.accuracy
    np.testing.assert_array_equal(first.drop, second.drop)
    np.testing.assert_array_equal(first.channel_epoch, second.channel_epoch)
    steps = (3750 // 64) * SMOKE.budgets["1d"].epochs
    channels = SMOKE.budgets["1d"].widths[-1]
    assert first.drop.shape == first.step_seconds.shape == (steps,)
    np.testing.assert_array_equal(first.drop, np.full(steps, 0.25))  # 1 of 4 pairs
    assert first.channel_epoch.shape == (SMOKE.budgets["1d"].epochs, channels)
    # Read off the output, a dropped map that was already all zero counts as kept: at most 0.25.
    assert 0.24 < first.channel_epoch.mean() <= 0.25 + 1e-6
    assert first.similarity.shape == (channels, channels)
    assert ((first.similarity >= 0) & (first.similarity <= 1)).all()
    assert (first.step_seconds > 0).all()


def test_the_command_prints_the_table_and_the_reports_path(smoke_run):
    stdout, out = smoke_run
    lines = stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["task", "arm", "accuracy"]
    rows = [line.split()[:2] for line in lines[2:] if line and not line.startswith(" ")]
    expected = [[t, a] for t in SMOKE.tasks for a in SMOKE.arms]
    assert rows[: len(expected)] == expected
    assert re.fullmatch(
        rf"48 runs in \d+ s; report: {re.escape(str(out / 'report.md'))}", lines[-1]
    )


def test_the_report_links_every_figure_and_the_figures_are_pngs(smoke_run):
    _, out = smoke_run
    text = (out / "report.md").read_text()
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    expected = {"accuracy_deltas.png", "drop_rates.png"}
    expected |= {f"{kind}_{t}.png" for kind in ("channels", "similarity") for t in SMOKE.tasks}
    assert set(figures) == expected
    for name in figures:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "python -m experiments --mode smoke --jobs 2" in text
    assert "## Findings" in text


def test_parallel_runs_give_the_results_of_serial_ones(smoke_run):
    _, out = smoke_run
    runs = json.loads((out / "runs.json").read_text())
    assert len(runs) == len(SMOKE.tasks) * len(SMOKE.arms) * SMOKE.seeds
    assert {(r["task"], r["arm"], r["seed"]) for r in runs} == set(SMOKE.runs())
    torch.set_num_threads(1)
    for task, arm in [("2d", "wedge-direct"), ("3d", "spatial-0.25")]:
        (logged,) = [r for r in runs if (r["task"], r["arm"], r["seed"]) == (task, arm, 1)]
        again = train(task, config.arms_named((arm,))[0], 1, SMOKE.budgets[task])
        assert again.accuracy == logged["accuracy"]
        assert float(again.drop.mean()) == logged["drop_mean"]


def test_the_summary_pairs_every_arm_with_no_dropout():
    plan = config.Plan(("2d",), ("none", "wedge-rate-0.25"), 2, SMOKE.budgets)
    results = cli.run_all(plan, jobs=1)
    rows = summary.summarise(results, plan.tasks, plan.arms)
    assert [(r.task, r.arm) for r in rows] == [("2d", "none"), ("2d", "wedge-rate-0.25")]
    control, arm = rows
    assert control.delta is None and control.drop == 0
    assert arm.delta.n == 2 and arm.step_ratio > 0 and arm.drop == 0.25
    accuracy = {r.arm: [x.accuracy for x in summary.by_seed(results, "2d", r.arm)] for r in rows}
    differences = np.subtract(accuracy["wedge-rate-0.25"], accuracy["none"])
    assert arm.delta.mean == pytest.approx(differences.mean())


class _Slow(NoDropout):
    """The identity, 20 ms late."""

    def forward(self, x):
        time.sleep(0.02)
        return super().forward(x)


def test_the_step_time_ratio_sees_a_slow_layer():
    data = load("2d", 0)
    model = build(all_arms()[0], data, BUDGET, 0)
    model.under_test = _Slow()
    x, y = torch.from_numpy(data.x_train[:64]), torch.from_numpy(data.y_train[:64])
    assert _step_ratio(model, x, y, steps=5) > 2
    assert isinstance(model.under_test, _Slow)


def _row(arm, delta):
    return summary.Row("2d", arm, 20, 0.9, 0.01, delta, 0.1, 0.0, 0.2, 1.0)


def test_findings_state_an_effect_only_where_the_statistics_show_one():
    flat = [_row("none", None), _row("a", Paired(0.001, -0.002, 0.004, 0.6, 20))]
    assert report.findings(flat)[0].startswith("No arm's 95 % interval excludes zero")
    shifted = [*flat, _row("b", Paired(-0.01, -0.015, -0.005, 0.001, 20))]
    (line,) = [f for f in report.findings(shifted) if f.startswith("2d / b")]
    assert "lower than none by 1.00 pp" in line and "p = 0.001" in line
    assert not any(f.startswith("2d / a") for f in report.findings(shifted))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--arms", "none,dropblock"], "unknown arms"),
        (["--tasks", "4d"], "unknown tasks"),
        (["--seeds", "0"], "--seeds must be at least 1"),
        (["--jobs", "0"], "--jobs must be at least 1"),
    ],
)
def test_bad_arguments_stop_before_any_training(argv, message):
    with pytest.raises(SystemExit, match=message):
        cli.main(["--mode", "smoke", *argv])
