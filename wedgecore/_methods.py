"""The five similarity scores of a pair of feature maps, written once for every backend.

Each method is two steps. ``prepare`` turns every map on its own into what the
method compares (a boolean "above the mean" map, a shifted map, or a single
statistic kept as a size-1 cell axis); ``combine`` reduces two prepared maps,
whose shapes broadcast, over the cell axes to one score in [0, 1] per pair.
Preparing per channel before pairing means each channel is prepared once, and
the same two steps serve one pair, all pairs of a permutation, or all pairs.

Normalisations whose positive scale factor cancels in the comparison
``m > mean(m)`` are skipped, and `rectify`'s mean of a difference is taken
as a difference of per-map means: identical scores in exact arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["DEFAULT_THRESHOLDS", "EPS", "METHODS", "Method", "method_steps"]

EPS = 0.0001
"""Replaces a zero normaliser (range or norm), as in the seed code."""

Axes = tuple[int, ...]
Step = Callable[..., Any]


def _above_mean(a: Any, axis: Axes, xp: Any) -> Any:
    """Cells above the map's mean; none for a constant map.

    A constant map is caught by its range, not by ``a > mean(a)``, whose answer
    would depend on how each backend rounds the mean.
    """
    varies = xp.max(a, axis=axis, keepdims=True) > xp.min(a, axis=axis, keepdims=True)
    return xp.logical_and(a > xp.mean(a, axis=axis, keepdims=True), varies)


def _fraction(mask: Any, axis: Axes, dtype: Any, xp: Any) -> Any:
    return xp.mean(xp.astype(mask, dtype), axis=axis)


def _above_minimum(a: Any, axis: Axes, xp: Any) -> Any:
    """``a - min(a)``: a min-max normalised map without its positive scale ``1 / range``."""
    return a - xp.min(a, axis=axis, keepdims=True)


def _identity(a: Any, axis: Axes, xp: Any) -> Any:
    """An L2-normalised map without its positive scale ``1 / norm``."""
    return a


def _rectified_mean(a: Any, axis: Axes, xp: Any) -> Any:
    low = xp.min(a, axis=axis, keepdims=True)
    span = xp.max(a, axis=axis, keepdims=True) - low
    normalised = (a - low) / xp.where(span == 0, EPS, span)
    return xp.mean(xp.abs(normalised - 0.5), axis=axis, keepdims=True)


def _agreement(pa: Any, pb: Any, axis: Axes, xp: Any, dtype: Any) -> Any:
    return _fraction(pa == pb, axis, dtype, xp)


def _both(pa: Any, pb: Any, axis: Axes, xp: Any, dtype: Any) -> Any:
    return _fraction(xp.logical_and(pa, pb), axis, dtype, xp)


def _shifted_product_above_mean(pa: Any, pb: Any, axis: Axes, xp: Any, dtype: Any) -> Any:
    """Both factors are >= 0 with a zero cell, so the product is constant only when all zero."""
    product = pa * pb
    return _fraction(product > xp.mean(product, axis=axis, keepdims=True), axis, dtype, xp)


def _product_above_mean(pa: Any, pb: Any, axis: Axes, xp: Any, dtype: Any) -> Any:
    return _fraction(_above_mean(pa * pb, axis, xp), axis, dtype, xp)


def _rectify_score(pa: Any, pb: Any, axis: Axes, xp: Any, dtype: Any) -> Any:
    return 1 - xp.abs(xp.mean((pa - pb) / 2, axis=axis))


@dataclass(frozen=True)
class Method:
    """A similarity method as its two steps (see the module docstring)."""

    prepare: Step
    combine: Step

    def score(self, a: Any, b: Any, axis: Axes, xp: Any) -> Any:
        """Score maps ``a`` and ``b`` (same floating dtype, broadcastable) over ``axis``."""
        pa, pb = self.prepare(a, axis, xp), self.prepare(b, axis, xp)
        return self.combine(pa, pb, axis, xp, a.dtype)


_METHODS: dict[str, Method] = {
    "direct": Method(_above_mean, _agreement),
    "overlap": Method(_above_mean, _both),
    "multiply": Method(_above_minimum, _shifted_product_above_mean),
    "multiply_l2": Method(_identity, _product_above_mean),
    "rectify": Method(_rectified_mean, _rectify_score),
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
