"""The five similarity scores of a pair of feature maps, written once for every backend.

Each method is three steps. ``summarise`` reduces every map on its own to a few
per-map statistics (cell axes kept at size 1); ``prepare`` turns a map and its
statistics, cell by cell, into what the method compares (a boolean "above the
mean" map or a shifted map), or is absent when the one statistic is itself what
is compared; ``combine`` reduces two prepared maps, whose shapes broadcast, over
the cell axes to one score in [0, 1] per pair.

The split lets a kernel choose its order: summarise every channel once and then
prepare only the paired channels right after gathering them, or gather the pairs'
channels first and run all three steps per pair.

Normalisations whose positive scale factor cancels in the comparison
``m > mean(m)`` are skipped, and `rectify`'s mean of a difference is taken
as a difference of per-map means: identical scores in exact arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["DEFAULT_THRESHOLDS", "EPS", "METHODS", "Method", "method_steps"]

EPS = 0.0001
"""Replaces a zero normaliser (range or norm), as in the seed code."""

Axes = tuple[int, ...]
Step = Callable[..., Any]


def _mean_level(a: Any, axis: Axes, xp: Any) -> tuple[Any]:
    """The level a cell must exceed to be "above the mean": the mean, or +inf for a constant map.

    A constant map is caught by its range, not by ``a > mean(a)``, whose answer
    would depend on how each backend rounds the mean.
    """
    varies = xp.max(a, axis=axis, keepdims=True) > xp.min(a, axis=axis, keepdims=True)
    return (xp.where(varies, xp.mean(a, axis=axis, keepdims=True), xp.inf),)


def _above(a: Any, level: Any, xp: Any) -> Any:
    return a > level


def _minimum(a: Any, axis: Axes, xp: Any) -> tuple[Any]:
    return (xp.min(a, axis=axis, keepdims=True),)


def _above_minimum(a: Any, minimum: Any, xp: Any) -> Any:
    """``a - min(a)``: a min-max normalised map without its positive scale ``1 / range``."""
    return a - minimum


def _nothing(a: Any, axis: Axes, xp: Any) -> tuple[()]:
    return ()


def _identity(a: Any, xp: Any) -> Any:
    """An L2-normalised map without its positive scale ``1 / norm``."""
    return a


def _rectified_mean(a: Any, axis: Axes, xp: Any) -> tuple[Any]:
    low = xp.min(a, axis=axis, keepdims=True)
    span = xp.max(a, axis=axis, keepdims=True) - low
    normalised = (a - low) / xp.where(span == 0, EPS, span)
    return (xp.mean(xp.abs(normalised - 0.5), axis=axis, keepdims=True),)


def _fraction(mask: Any, axis: Axes, dtype: Any, xp: Any) -> Any:
    return xp.mean(xp.astype(mask, dtype), axis=axis)


def _agreement(pa: Any, pb: Any, axis: Axes, xp: Any, dtype: Any) -> Any:
    return _fraction(pa == pb, axis, dtype, xp)


def _both(pa: Any, pb: Any, axis: Axes, xp: Any, dtype: Any) -> Any:
    return _fraction(xp.logical_and(pa, pb), axis, dtype, xp)


def _shifted_product_above_mean(pa: Any, pb: Any, axis: Axes, xp: Any, dtype: Any) -> Any:
    """Both factors are >= 0 with a zero cell, so the product is constant only when all zero."""
    product = pa * pb
    return _fraction(product > xp.mean(product, axis=axis, keepdims=True), axis, dtype, xp)


def _product_above_mean(pa: Any, pb: Any, axis: Axes, xp: Any, dtype: Any) -> Any:
    product = pa * pb
    (level,) = _mean_level(product, axis, xp)
    return _fraction(product > level, axis, dtype, xp)


def _rectify_score(pa: Any, pb: Any, axis: Axes, xp: Any, dtype: Any) -> Any:
    return 1 - xp.abs(xp.mean((pa - pb) / 2, axis=axis))


@dataclass(frozen=True)
class Method:
    """A similarity method as its steps (see the module docstring).

    ``summarise(a, axis, xp)`` returns a tuple of per-map statistics;
    ``prepare(a, *statistics, xp)`` works cell by cell, and is None when the
    single statistic is what ``combine(pa, pb, axis, xp, dtype)`` compares.
    """

    summarise: Step
    prepare: Step | None
    combine: Step

    @property
    def reads_cells(self) -> bool:
        """Whether the prepared maps need the cells, not only the statistics."""
        return self.prepare is not None

    def prepared(self, a: Any, statistics: Sequence[Any], xp: Any) -> Any:
        """Prepare maps ``a`` (None when not `reads_cells`) from their statistics."""
        if self.prepare is None:
            return statistics[0]
        return self.prepare(a, *statistics, xp)

    def score(self, a: Any, b: Any, axis: Axes, xp: Any) -> Any:
        """Score maps ``a`` and ``b`` (same floating dtype, broadcastable) over ``axis``."""
        pa = self.prepared(a, self.summarise(a, axis, xp), xp)
        pb = self.prepared(b, self.summarise(b, axis, xp), xp)
        return self.combine(pa, pb, axis, xp, a.dtype)


_METHODS: dict[str, Method] = {
    "direct": Method(_mean_level, _above, _agreement),
    "overlap": Method(_mean_level, _above, _both),
    "multiply": Method(_minimum, _above_minimum, _shifted_product_above_mean),
    "multiply_l2": Method(_nothing, _identity, _product_above_mean),
    "rectify": Method(_rectified_mean, None, _rectify_score),
}

METHODS: tuple[str, ...] = tuple(_METHODS)
"""The similarity methods: ``direct``, ``overlap``, ``multiply``, ``multiply_l2``, ``rectify``."""

DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType(
    {"direct": 0.5, "multiply": 0.65, "multiply_l2": 0.65}
)
"""The thresholds the original write-up recommends (read-only); other methods need one given."""


def method_steps(method: str) -> Method:
    """Return the steps of a method already checked to be valid."""
    return _METHODS[method]
