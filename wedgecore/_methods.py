"""The five similarity scores of a pair of feature maps, written once for every backend.

Each scorer takes two arrays of the same floating dtype whose shapes broadcast
against each other, and reduces the cell axes ``axis`` to one score in [0, 1]
per pair of maps. Per-map statistics (means, minima, norms) are taken before
the two maps meet, so the scorers also serve an all-pairs broadcast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["DEFAULT_THRESHOLDS", "EPS", "METHODS", "scorer"]

EPS = 0.0001
"""Replaces a zero normaliser (range or norm), as in the seed code."""

Axes = tuple[int, ...]


def _above_mean(a: Any, axis: Axes, xp: Any) -> Any:
    """Cells above the map's mean, compared after subtracting the map's minimum.

    The shift changes nothing in exact arithmetic, but makes a constant map
    have no cell above its mean on every backend: compared as ``a > mean(a)``,
    the answer would depend on how each backend rounds the mean.
    """
    shifted = a - xp.min(a, axis=axis, keepdims=True)
    return shifted > xp.mean(shifted, axis=axis, keepdims=True)


def _fraction(mask: Any, axis: Axes, dtype: Any, xp: Any) -> Any:
    return xp.mean(xp.astype(mask, dtype), axis=axis)


def _min_max(a: Any, axis: Axes, xp: Any) -> Any:
    low = xp.min(a, axis=axis, keepdims=True)
    span = xp.max(a, axis=axis, keepdims=True) - low
    return (a - low) / xp.where(span == 0, EPS, span)


def _unit_l2(a: Any, axis: Axes, xp: Any) -> Any:
    norm = xp.sqrt(xp.sum(a * a, axis=axis, keepdims=True))
    return a / xp.where(norm == 0, EPS, norm)


def _product_above_mean(na: Any, nb: Any, axis: Axes, xp: Any) -> Any:
    product = na * nb
    return _fraction(_above_mean(product, axis, xp), axis, product.dtype, xp)


def _direct(a: Any, b: Any, axis: Axes, xp: Any) -> Any:
    agree = _above_mean(a, axis, xp) == _above_mean(b, axis, xp)
    return _fraction(agree, axis, a.dtype, xp)


def _overlap(a: Any, b: Any, axis: Axes, xp: Any) -> Any:
    both = xp.logical_and(_above_mean(a, axis, xp), _above_mean(b, axis, xp))
    return _fraction(both, axis, a.dtype, xp)


def _multiply(a: Any, b: Any, axis: Axes, xp: Any) -> Any:
    return _product_above_mean(_min_max(a, axis, xp), _min_max(b, axis, xp), axis, xp)


def _multiply_l2(a: Any, b: Any, axis: Axes, xp: Any) -> Any:
    return _product_above_mean(_unit_l2(a, axis, xp), _unit_l2(b, axis, xp), axis, xp)


def _rectify(a: Any, b: Any, axis: Axes, xp: Any) -> Any:
    ra = xp.abs(_min_max(a, axis, xp) - 0.5)
    rb = xp.abs(_min_max(b, axis, xp) - 0.5)
    return 1 - xp.abs(xp.mean((ra - rb) / 2, axis=axis))


_SCORERS: dict[str, Callable[[Any, Any, Axes, Any], Any]] = {
    "direct": _direct,
    "overlap": _overlap,
    "multiply": _multiply,
    "multiply_l2": _multiply_l2,
    "rectify": _rectify,
}

METHODS: tuple[str, ...] = tuple(_SCORERS)
"""The similarity methods, in the order DESIGN.md lists them."""

DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType(
    {"direct": 0.5, "multiply": 0.65, "multiply_l2": 0.65}
)
"""The seed's recommended thresholds (read-only); the other methods need an explicit one."""


def scorer(method: str) -> Callable[[Any, Any, Axes, Any], Any]:
    """Return the scoring function of a method already checked to be valid."""
    return _SCORERS[method]
