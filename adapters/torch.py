"""PyTorch layers over the wedgecore kernels: `WedgeDropout1d`, `WedgeDropout2d`, `WedgeDropout3d`.

The layers take channels-first input ``(N, C, *spatial)``, or the same without the
batch axis, as ``torch.nn.Dropout1d/2d/3d`` do. Each training call draws one
permutation of the channels with ``torch.randperm`` on the input's device; in
eval mode a layer returns its input itself.
"""

from __future__ import annotations

from typing import Any

import array_api_compat.torch as xp
import torch

import wedgecore as wc
from wedgecore._checks import check_keywords, layer_keywords, layout_of

__all__ = ["WedgeDropout1d", "WedgeDropout2d", "WedgeDropout3d", "wedge_dropout"]


def _check_generator(generator: Any) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {generator!r}")


def _masked(
    x: torch.Tensor, generator: torch.Generator | None, channel_axis: int, keywords: dict[str, Any]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw a permutation, return ``(x * keep, keep)`` with the core's mask."""
    channels = layout_of(x, channel_axis, xp).channels
    perm = torch.randperm(channels, generator=generator, device=x.device)
    keep = wc.wedge_mask(x, perm, channel_axis=channel_axis, xp=xp, **keywords)
    return x * keep, keep


def wedge_dropout(
    x: torch.Tensor,
    *,
    training: bool = True,
    generator: torch.Generator | None = None,
    channel_axis: int = 1,
    **keywords: Any,
) -> torch.Tensor:
    """Apply Wedge Dropout to a batch of feature maps of any spatial rank.

    Parameters
    ----------
    x : torch.Tensor
        Batch on axis 0, channels on ``channel_axis``, at least one spatial axis.
    training : bool
        When False, return ``x`` itself.
    generator : torch.Generator, optional
        Draws the channel permutation; default: torch's global generator. Dynamo cannot
        trace a generator: under ``torch.compile`` the draw is then a graph break.
    channel_axis : int
        The channel axis: 1 (channels-first, torch's convention) or e.g. -1.
    **keywords
        The core's `wedgecore.wedge_mask` keywords: ``method``, ``threshold``, ``rate``,
        ``batchwise``, ``num_pairs``, ``rescale``.

    Returns
    -------
    torch.Tensor
        ``x`` with the channels of too-similar pairs zeroed.
    """
    check_keywords(**keywords)
    _check_generator(generator)
    if not training:
        return x
    return _masked(x, generator, channel_axis, keywords)[0]


class _WedgeDropoutNd(torch.nn.Module):
    """The shared layer; subclasses fix the spatial rank and name the accepted shapes."""

    spatial_rank: int
    shapes: str

    def __init__(
        self,
        *,
        method: str = "multiply",
        threshold: float | None = None,
        rate: float | None = None,
        batchwise: bool = True,
        num_pairs: int | None = None,
        rescale: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        check_keywords(
            method=method,
            threshold=threshold,
            rate=rate,
            batchwise=batchwise,
            num_pairs=num_pairs,
            rescale=rescale,
        )
        _check_generator(generator)
        self.method = method
        self.threshold = threshold
        self.rate = rate
        self.batchwise = batchwise
        self.num_pairs = num_pairs
        self.rescale = rescale
        self.generator = generator
        self.last_drop_fraction: torch.Tensor | None = None

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={value!r}" for name, value in layer_keywords(self).items())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Zero the channels of too-similar pairs in training; return ``x`` itself in eval."""
        if x.dim() not in (self.spatial_rank + 1, self.spatial_rank + 2):
            raise ValueError(
                f"{type(self).__name__} expects input of shape {self.shapes}, "
                f"got shape {tuple(x.shape)} with ndim {x.dim()}"
            )
        if not self.training:
            return x
        batched = x.dim() == self.spatial_rank + 2
        maps = x if batched else x.unsqueeze(0)
        out, keep = _masked(maps, self.generator, 1, layer_keywords(self))
        self.last_drop_fraction = wc.drop_fraction(keep, xp=xp).detach()
        return out if batched else out.squeeze(0)


class WedgeDropout1d(_WedgeDropoutNd):
    """Wedge Dropout on ``(N, C, L)`` or unbatched ``(C, L)`` input.

    Parameters
    ----------
    method : str
        The similarity method, one of `wedgecore.METHODS`; default ``"multiply"``.
    threshold : float, optional
        A pair is similar when its score is ``>= threshold``; default
        ``wedgecore.DEFAULT_THRESHOLDS[method]``.
    rate : float, optional
        Instead of a threshold, drop this fraction of the pairs, the most similar first.
    batchwise : bool
        True (default): drop a pair in every sample when half the batch calls it similar.
    num_pairs : int, optional
        How many pairs to score, in [1, C // 2]; default ``C // 2``.
    rescale : bool
        Scale each sample's kept channels by ``C / max(kept, 1)``; default False.
    generator : torch.Generator, optional
        Draws the channel permutation; default: torch's global generator. Dynamo cannot
        trace a generator: under ``torch.compile`` the draw is then a graph break.

    Attributes
    ----------
    last_drop_fraction : torch.Tensor or None
        Detached 0-d tensor on the input's device: the fraction of (sample, channel)
        entries the last training call dropped; None before the first.

    Notes
    -----
    Unbatched input is scored as a batch of one, so the batch-wise vote is per sample.
    """

    spatial_rank = 1
    shapes = "(N, C, L) or unbatched (C, L)"


class WedgeDropout2d(_WedgeDropoutNd):
    """Wedge Dropout on ``(N, C, H, W)`` or unbatched ``(C, H, W)`` input.

    Parameters and attributes are those of `WedgeDropout1d`. Unlike ``torch.nn.Dropout2d``,
    which still reads 3-D input as ``(N, C, L)``, 3-D input here is ``(C, H, W)``.
    """

    spatial_rank = 2
    shapes = "(N, C, H, W) or unbatched (C, H, W)"


class WedgeDropout3d(_WedgeDropoutNd):
    """Wedge Dropout on ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` input.

    Parameters and attributes are those of `WedgeDropout1d`.
    """

    spatial_rank = 3
    shapes = "(N, C, D, H, W) or unbatched (C, D, H, W)"
