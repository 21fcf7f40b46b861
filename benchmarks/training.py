"""Training-step suite: a full training step with and without a dropout before the pooling.

Keras (run once per backend, ``KERAS_BACKEND`` set before Keras is imported):
``keras.applications.EfficientNetB0(weights=None, input_shape=(128, 128, 3))`` without its
top, then [nothing | ``WedgeDropout2D`` | ``SpatialDropout2D``], GlobalAveragePooling2D and
Dense, batch 16. PyTorch: a small Conv-BN-ReLU CNN with [nothing | ``WedgeDropout2d`` |
``nn.Dropout2d``] before ``AdaptiveAvgPool2d``. Reported: the step-time ratio against the
model without the layer, and the first-step (trace/compile) ratio. Before a first step is
timed, every variant of the tiny smoke model takes one step, so that the process's one-time
start-up costs are not charged to the model traced first. Keras first steps are, besides, each
timed in a fresh process, three rounds of the variants interleaved, so that no variant profits
from what another one compiled; torch first steps are timed in one process, in the order
none, wedge, spatial.

Run: ``KERAS_BACKEND=jax python -m benchmarks.training keras [--quick]`` and
``python -m benchmarks.training torch [--quick]``; one Keras first step alone:
``KERAS_BACKEND=jax python -m benchmarks.training keras --first-step wedge``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.tables import markdown_table, ratio_with_spread
from benchmarks.timing import compare

BATCH = 16
VARIANTS = ("none", "wedge", "spatial")
FIRST_STEP_ROUNDS = 3
"""Fresh processes per Keras variant whose first steps are timed (the median is reported)."""


def _first_steps(
    steps: dict[str, Callable[[], Any]], sync: Callable[[Any], Any]
) -> dict[str, float]:
    """Seconds of each variant's first step, tracing and compilation included."""
    first = {}
    for name, step in steps.items():
        start = time.perf_counter()
        sync(step())
        first[name] = time.perf_counter() - start
    return first


def _step_rows(
    steps: dict[str, Callable[[], Any]],
    sync: Callable[[Any], Any],
    first: dict[str, float],
    quick: bool,
) -> list[dict[str, Any]]:
    """Each variant's steady step against ``none``, with the first-step seconds ``first``."""
    timing = {"rounds": 3, "round_seconds": 0.0, "warmup": 1} if quick else {"rounds": 11}
    rows = []
    for name in ("wedge", "spatial"):
        result = compare(steps[name], steps["none"], sync=sync, **timing)
        rows.append(
            {
                "variant": name,
                "step_ratio": result.ratio,
                "spread": result.spread,
                "step_ms": result.candidate_median * 1e3,
                "baseline_step_ms": result.baseline_median * 1e3,
                "first_ratio": first[name] / first["none"],
                "first_s": first[name],
                "baseline_first_s": first["none"],
            }
        )
    return rows


def _warm_up(steps: dict[str, Callable[[], Any]], sync: Callable[[Any], Any]) -> None:
    """Take one step of every variant, paying the process's one-time costs up front."""
    _first_steps(steps, sync)


def keras_step(variant: str, quick: bool) -> Callable[[], Any]:
    """A ``train_on_batch`` closure for one variant of the EfficientNetB0 head."""
    import keras

    from wedgecore.adapters.keras import WedgeDropout2D

    side = 32 if quick else 128
    rng = np.random.default_rng(0)
    images = rng.normal(size=(BATCH, side, side, 3)).astype("float32")
    labels = rng.integers(0, 10, size=(BATCH,))
    inputs = keras.Input((side, side, 3))
    if quick:
        features = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    else:
        backbone = keras.applications.EfficientNetB0(
            weights=None, include_top=False, input_shape=(side, side, 3)
        )
        features = backbone(inputs)
    if variant == "wedge":
        features = WedgeDropout2D(seed=0)(features)
    elif variant == "spatial":
        features = keras.layers.SpatialDropout2D(0.1, seed=0)(features)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    model = keras.Model(inputs, keras.layers.Dense(10)(pooled))
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=keras.backend.backend() != "torch",
    )
    return lambda: model.train_on_batch(images, labels)


def keras_steps(quick: bool) -> dict[str, Callable[[], Any]]:
    """One ``train_on_batch`` closure per variant."""
    return {variant: keras_step(variant, quick) for variant in VARIANTS}


def keras_first_step(variant: str, quick: bool) -> float:
    """Seconds of one variant's first step in this process, after the warm-up."""
    _warm_up(keras_steps(quick=True), lambda result: result)
    return _first_steps({variant: keras_step(variant, quick)}, lambda result: result)[variant]


def _keras_first_steps_in_fresh_processes(quick: bool) -> dict[str, float]:
    """Median `keras_first_step` of every variant, each run in a new process, rounds interleaved."""
    seconds: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for _ in range(1 if quick else FIRST_STEP_ROUNDS):
        for variant in VARIANTS:
            command = [sys.executable, "-m", "benchmarks.training", "keras"]
            command += ["--first-step", variant, *(["--quick"] if quick else [])]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            seconds[variant].append(float(output.strip().splitlines()[-1]))
    return {variant: statistics.median(times) for variant, times in seconds.items()}


def torch_steps(quick: bool, compiled: bool) -> dict[str, Callable[[], Any]]:
    """One optimiser-step closure per variant of a small CNN, eager or ``torch.compile``-d."""
    import torch
    from torch import nn

    from wedgecore.adapters.torch import WedgeDropout2d

    torch.set_num_threads(2)
    # a first step must compile, not load what an earlier run left in the on-disk caches
    torch._inductor.config.fx_graph_cache = False
    torch._functorch.config.enable_autograd_cache = False
    channels, side = (8, 8) if quick else (256, 16)
    images = torch.randn(BATCH * 4, 3, side * 2, side * 2)
    labels = torch.randint(0, 10, (BATCH * 4,))

    def build(variant: str) -> Callable[[], Any]:
        torch.manual_seed(0)
        layer = {"none": nn.Identity(), "wedge": WedgeDropout2d(), "spatial": nn.Dropout2d(0.1)}
        model = nn.Sequential(
            nn.Conv2d(3, channels // 2, 3, padding=1),
            nn.BatchNorm2d(channels // 2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(channels // 2, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            layer[variant],
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(channels, 10),
        )
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        forward = torch.compile(model) if compiled else model

        def step() -> Any:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(forward(images), labels)
            loss.backward()
            optimizer.step()
            return loss

        return step

    return {variant: build(variant) for variant in VARIANTS}


def _loss_value(loss: Any) -> float:
    """Wait for a torch step by reading its loss."""
    return float(loss.item())


def markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table."""
    headers = ["suite", "layer", "step time / no layer (IQR)", "step ms"]
    cells = [
        [
            row["suite"],
            row["variant"],
            ratio_with_spread(row["step_ratio"], row["spread"], digits=3),
            f"{row['step_ms']:.1f}",
            f"{row['first_ratio']:.3f}",
            f"{row['first_s']:.2f}",
        ]
        for row in rows
    ]
    return markdown_table([*headers, "first step / no layer", "first step s"], cells)


def run(framework: str, quick: bool) -> list[dict[str, Any]]:
    """Rows for one framework: ``keras`` (on the current Keras backend) or ``torch``."""
    if framework == "keras":
        import keras

        model = "tiny Conv2D" if quick else "EfficientNetB0"
        suite = f"keras-{keras.backend.backend()} {model}"
        first = _keras_first_steps_in_fresh_processes(quick)
        rows = _step_rows(keras_steps(quick), lambda result: result, first, quick)
        return [{"suite": suite, **row} for row in rows]
    import torch

    rows = []
    for compiled in (False, True):
        suite = f"torch small CNN, {'torch.compile' if compiled else 'eager'}"
        _warm_up(torch_steps(quick=True, compiled=compiled), _loss_value)
        torch._dynamo.reset()  # else the warm-up's other shapes make the models compile dynamic
        steps = torch_steps(quick, compiled)
        first = _first_steps(steps, _loss_value)
        timed = _step_rows(steps, _loss_value, first, quick)
        rows.extend({"suite": suite, **row} for row in timed)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("framework", choices=["keras", "torch"])
    parser.add_argument("--quick", action="store_true", help="tiny models (CI smoke)")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON line")
    parser.add_argument(
        "--first-step", choices=VARIANTS, help="time only this variant's first step (keras)"
    )
    arguments = parser.parse_args()
    if arguments.first_step:
        print(keras_first_step(arguments.first_step, arguments.quick))
        return
    rows = run(arguments.framework, arguments.quick)
    print(json.dumps(rows) if arguments.json else markdown(rows))


if __name__ == "__main__":
    main()
