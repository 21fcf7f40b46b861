"""One training run: a task, an arm and a seed, trained and measured."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np
import torch

import wedgecore as wc

from .arms import Arm, NoDropout
from .data import Split, load
from .models import Net

__all__ = ["Budget", "RunResult", "build", "seeds_for", "train"]


@dataclass(frozen=True)
class Budget:
    """How a task's model is built and trained.

    Attributes
    ----------
    widths, strides : tuple of int
        The Conv-BN-ReLU blocks (see `Net`); ``widths[-1]`` channels reach the layer under test.
    epochs : int
        Passes over the training set.
    batch_size : int
        Samples per step; a last incomplete batch is dropped, so every batch-wise
        vote is over the same number of samples.
    lr : float
        Adam's initial learning rate, annealed to zero over the run on a cosine.
    similarity_samples : int
        Test samples whose final feature maps are scored by `wedgecore.similarity_matrix`.
    timing_steps : int
        Training steps timed after training with the layer under test, and as many with
        the identity in its place, alternating, for `RunResult.step_ratio`.
    """

    widths: tuple[int, ...]
    strides: tuple[int, ...]
    epochs: int
    batch_size: int = 64
    lr: float = 3e-3
    similarity_samples: int = 256
    timing_steps: int = 20


@dataclass
class RunResult:
    """What one run measured.

    Attributes
    ----------
    task, arm : str
        Names of the task and the arm.
    seed : int
        The seed shared by every arm of this paired run.
    accuracy : float
        Test accuracy at the end of training.
    drop : numpy.ndarray
        ``(steps,)``: fraction of (sample, channel) entries dropped at each step.
    channel_epoch : numpy.ndarray
        ``(epochs, C)``: per epoch, the share of (step, sample) in which each channel was dropped.
    step_seconds : numpy.ndarray
        ``(steps,)``: wall time of each training step (forward, backward, update).
    step_ratio : float
        Median time of a training step with the layer under test over that with the
        identity in its place, timed alternately in this process after training: side by
        side, so that the load of the machine cancels out.
    similarity : numpy.ndarray
        ``(C, C)``: the head's feature maps scored pairwise, averaged over test samples.
    wall_seconds : float
        Wall time of the whole run, data loading included.
    """

    task: str
    arm: str
    seed: int
    accuracy: float
    drop: np.ndarray
    channel_epoch: np.ndarray
    step_seconds: np.ndarray
    step_ratio: float
    similarity: np.ndarray
    wall_seconds: float

    @property
    def mean_similarity(self) -> float:
        """The mean of `similarity` over distinct channel pairs."""
        c = self.similarity.shape[0]
        return float(self.similarity[~np.eye(c, dtype=bool)].mean())


def seeds_for(seed: int) -> tuple[int, int, int]:
    """Independent seeds for the initialisation, the data order and the dropout draws."""
    init, order, dropout = np.random.SeedSequence(seed).generate_state(3)
    return int(init), int(order), int(dropout)


@functools.lru_cache(maxsize=4)
def _split(task: str, seed: int) -> Split:
    return load(task, seed)


def build(arm: Arm, split: Split, budget: Budget, seed: int) -> Net:
    """The network of ``arm`` for ``split``: the same initial weights for every arm of ``seed``.

    The layer under test gets its own generator, seeded for the dropout draws; torch's
    global generator, which ``torch.nn.Dropout2d`` and the like draw from, is left seeded
    with the same seed.
    """
    init, _, dropout = seeds_for(seed)
    rank = len(split.input_shape) - 1
    layer = arm.build(rank, budget.widths[-1], torch.Generator().manual_seed(dropout))
    torch.manual_seed(init)
    model = Net(rank, budget.widths, budget.strides, split.classes, layer)
    torch.manual_seed(dropout)
    return model


def _accuracy(model: Net, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(part).argmax(1) for part in x.split(512)])
    return float((predictions == y).float().mean())


def _final_similarity(model: Net, x: torch.Tensor, method: str) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        maps = model.features(x)
    return wc.similarity_matrix(maps, method=method).mean(0).numpy()


def _step_ratio(model: Net, x: torch.Tensor, y: torch.Tensor, steps: int) -> float:
    """Time training steps with ``model``'s layer under test and with the identity, alternately.

    Changes ``model``'s weights: call it once everything else is measured.
    """
    layer, identity = model.under_test, NoDropout()
    optimizer = torch.optim.Adam(model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    seconds: dict[bool, list[float]] = {True: [], False: []}
    model.train()
    for step in range(2 * (steps + 1)):
        timed = step >= 2
        with_layer = step % 2 == 0
        model.under_test = layer if with_layer else identity
        start = time.perf_counter()
        loss = loss_fn(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if timed:
            seconds[with_layer].append(time.perf_counter() - start)
    model.under_test = layer
    return float(np.median(seconds[True]) / np.median(seconds[False]))


def train(task: str, arm: Arm, seed: int, budget: Budget, method: str = "multiply") -> RunResult:
    """Train ``arm`` on ``task`` for ``seed`` and measure it.

    Parameters
    ----------
    task : str
        A key of `data.TASKS`.
    arm : Arm
        The layer under test.
    seed : int
        Fixes the data split, the initial weights, the data order and the dropout draws.
    budget : Budget
        Model and training sizes.
    method : str
        The similarity method of the final similarity matrix.

    Returns
    -------
    RunResult
    """
    start = time.perf_counter()
    split = _split(task, seed)
    model = build(arm, split, budget, seed)
    _, order_seed, _ = seeds_for(seed)
    order = torch.Generator().manual_seed(order_seed)
    x, y = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
    optimizer = torch.optim.Adam(model.parameters(), lr=budget.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    steps_per_epoch = len(y) // budget.batch_size
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=budget.epochs * steps_per_epoch
    )
    drop, seconds, channel_epoch = [], [], []
    for _ in range(budget.epochs):
        model.train()
        batches = torch.randperm(len(y), generator=order)[: steps_per_epoch * budget.batch_size]
        channels = torch.zeros(budget.widths[-1])
        for index in batches.view(steps_per_epoch, budget.batch_size):
            step_start = time.perf_counter()
            loss = loss_fn(model(x[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            seconds.append(time.perf_counter() - step_start)
            drop.append(model.under_test.drop_fraction())
            channels += model.under_test.channel_drops()
        channel_epoch.append((channels / steps_per_epoch).numpy())
    x_test, y_test = torch.from_numpy(split.x_test), torch.from_numpy(split.y_test)
    accuracy = _accuracy(model, x_test, y_test)
    similarity = _final_similarity(model, x_test[: budget.similarity_samples], method)
    batch = torch.arange(budget.batch_size)
    ratio = _step_ratio(model, x[batch], y[batch], budget.timing_steps)
    return RunResult(
        task=task,
        arm=arm.name,
        seed=seed,
        accuracy=accuracy,
        drop=np.asarray(drop),
        channel_epoch=np.stack(channel_epoch),
        step_seconds=np.asarray(seconds),
        step_ratio=ratio,
        similarity=similarity,
        wall_seconds=time.perf_counter() - start,
    )
