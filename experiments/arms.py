"""The arms of the experiment: which layer sits under test, and how it reports what it dropped.

Every arm builds a layer with the same interface: it acts in training only, and
after each training call `channel_drops` gives, per channel, the fraction of the
batch's samples in which the channel was zeroed, and `drop_fraction` the fraction
of all (sample, channel) entries zeroed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

import wedgecore as wc
from wedgecore.adapters.torch import WedgeDropout1d, WedgeDropout2d, WedgeDropout3d

__all__ = [
    "MATCHED_RATE",
    "Arm",
    "Probe",
    "RandomPairDropout",
    "SpatialDropout",
    "all_arms",
    "matched_channel_rate",
]

MATCHED_RATE = 0.25
"""The pair rate of the Wedge rate-mode arm that the spatial and random-pair arms match."""

_WEDGE = {1: WedgeDropout1d, 2: WedgeDropout2d, 3: WedgeDropout3d}
_SPATIAL = {1: nn.Dropout1d, 2: nn.Dropout2d, 3: nn.Dropout3d}


def matched_channel_rate(rate: float, channels: int) -> float:
    """The channel-drop rate of Wedge's rate mode: ``2 * round(rate * (C // 2)) / C``."""
    return 2 * round(rate * (channels // 2)) / channels


class Probe(nn.Module):
    """Base of the layers under test: remembers which (sample, channel) entries it zeroed.

    A training call only keeps references to what it needs; `dropped` works the
    entries out when asked, so that timing a training step times the layer alone.
    """

    def __init__(self) -> None:
        super().__init__()
        self._last: tuple[torch.Tensor, ...] | None = None

    def _dropped(self, *last: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def dropped(self) -> torch.Tensor:
        """Boolean ``(N, C)``: the entries zeroed by the last training call."""
        if self._last is None:
            raise RuntimeError("the layer has not been called in training mode yet")
        return self._dropped(*self._last)

    def channel_drops(self) -> torch.Tensor:
        """Per channel, the fraction of samples zeroed by the last training call, ``(C,)``."""
        return self.dropped().float().mean(0)

    def drop_fraction(self) -> float:
        """The fraction of (sample, channel) entries zeroed by the last training call."""
        return float(self.channel_drops().mean())


class NoDropout(Probe):
    """The control arm: the identity, which drops nothing."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x``."""
        if self.training:
            self._last = (x,)
        return x

    def _dropped(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(x.shape[:2], dtype=torch.bool, device=x.device)


class WedgeProbe(Probe):
    """The adapter's ``WedgeDropout1d/2d/3d``, with its drops read off its output.

    The adapter reports the fraction it dropped (``last_drop_fraction``) but not the
    mask. A channel counts as dropped in a sample when its output map is all zero
    while its input map was not; a map that was already all zero cannot be told
    apart, and counts as kept.
    """

    def __init__(self, rank: int, **keywords: Any) -> None:
        super().__init__()
        self.layer = _WEDGE[rank](**keywords)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Wedge Dropout in training, the identity in eval."""
        out = self.layer(x)
        if self.training:
            self._last = (x.detach(), out.detach())
        return out

    def _dropped(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return (out == 0).flatten(2).all(2) & ~(x == 0).flatten(2).all(2)

    def drop_fraction(self) -> float:
        """The adapter's own ``last_drop_fraction``: exact, whatever the maps held."""
        if self.layer.last_drop_fraction is None:
            raise RuntimeError("the layer has not been called in training mode yet")
        return float(self.layer.last_drop_fraction)


class SpatialDropout(Probe):
    """``torch.nn.Dropout1d/2d/3d`` at channel rate ``p`` (kept channels scaled by 1/(1-p)).

    The torch layer is applied to a ones tensor of shape ``(N, C, 1, ...)``, which
    gives its channel mask, then the mask multiplies the input: the same result as
    applying the layer to the input, with the mask in hand.
    """

    def __init__(self, rank: int, p: float) -> None:
        super().__init__()
        self.rank = rank
        self.dropout = _SPATIAL[rank](p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Spatial dropout in training, the identity in eval."""
        if not self.training:
            return x
        keep = self.dropout(x.new_ones((*x.shape[:2], *[1] * self.rank)))
        self._last = (keep,)
        return x * keep

    def _dropped(self, keep: torch.Tensor) -> torch.Tensor:
        return (keep == 0).flatten(1)


class RandomPairDropout(Probe):
    """Drop ``round(rate * (C // 2))`` random channel pairs in every sample: Wedge without scores.

    Wedge's rate mode drops the highest-scoring pairs, ties going to the lower pair
    index. On constant maps every pair scores the same, so the core's `wedge_mask`
    then drops the first pairs of the random permutation: random pairs, counted and
    spread onto channels by the same code as the Wedge arms, with the same rate.
    """

    def __init__(self, rank: int, rate: float, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.rank = rank
        self.rate = rate
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Random-pair dropout in training, the identity in eval."""
        if not self.training:
            return x
        channels = x.shape[1]
        perm = torch.randperm(channels, generator=self.generator, device=x.device)
        constant = x.new_zeros((1, channels, 1))
        keep = wc.wedge_mask(constant, perm, rate=self.rate).reshape(1, channels)
        self._last = (keep, x)
        return x * keep.reshape(1, channels, *[1] * self.rank)

    def _dropped(self, keep: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return (keep == 0).expand(x.shape[0], -1)


@dataclass(frozen=True)
class Arm:
    """One arm: a name and the layer it puts under test.

    Attributes
    ----------
    name : str
        Short label used in tables and plots.
    kind : str
        ``"none"``, ``"wedge"``, ``"spatial"`` or ``"random_pairs"``.
    options : dict
        Keywords of the layer: the core's for ``"wedge"``; ``rate`` (a pair rate,
        matched to Wedge's rate mode) for the other two.
    """

    name: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)

    def build(self, rank: int, channels: int, generator: torch.Generator) -> Probe:
        """The layer for input of spatial rank ``rank`` with ``channels`` channels."""
        if self.kind == "none":
            return NoDropout()
        if self.kind == "wedge":
            return WedgeProbe(rank, generator=generator, **self.options)
        if self.kind == "spatial":
            return SpatialDropout(rank, matched_channel_rate(self.options["rate"], channels))
        if self.kind == "random_pairs":
            return RandomPairDropout(rank, self.options["rate"], generator)
        raise ValueError(f"unknown arm kind {self.kind!r}")


def all_arms(rates: Sequence[float] = (0.1, 0.25), matched: float = MATCHED_RATE) -> list[Arm]:
    """Every arm: none; Wedge per method with a default threshold; Wedge rate mode; matched ones.

    The threshold arms are the methods of ``wc.DEFAULT_THRESHOLDS`` at their
    default; the rate arms use the default method. Spatial dropout and random
    pairs drop channels at the rate of the Wedge arm with pair rate ``matched``.
    """
    arms = [Arm("none", "none")]
    arms += [
        Arm(f"wedge-{method}", "wedge", {"method": method}) for method in wc.DEFAULT_THRESHOLDS
    ]
    arms += [Arm(f"wedge-rate-{rate:g}", "wedge", {"rate": rate}) for rate in rates]
    arms += [
        Arm(f"spatial-{matched:g}", "spatial", {"rate": matched}),
        Arm(f"random-pairs-{matched:g}", "random_pairs", {"rate": matched}),
    ]
    return arms
