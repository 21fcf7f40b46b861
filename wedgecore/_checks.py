"""Argument checks, run before any array work and only on static information.

Every check looks at Python values, shapes and dtypes, never at array
contents, so the kernels stay traceable under ``jax.jit`` and
``torch.compile``. Each error names the offending value and what was expected.
"""

from __future__ import annotations

import math
import numbers
import operator
from dataclasses import dataclass
from typing import Any

from ._methods import DEFAULT_THRESHOLDS, METHODS

__all__ = [
    "LAYER_KEYWORDS",
    "Layout",
    "check_bool",
    "check_decision",
    "check_floating",
    "check_keywords",
    "check_method",
    "check_num_pairs",
    "check_perm",
    "layer_keywords",
    "layout_of",
]


@dataclass(frozen=True)
class Layout:
    """Where the batch, channel and cell axes of a feature-map tensor are.

    Only the batch size may be None (a TensorFlow graph knows it at run time only).
    """

    shape: tuple[int, ...]
    channel_axis: int

    @property
    def batch(self) -> int:
        return self.shape[0]

    @property
    def channels(self) -> int:
        return self.shape[self.channel_axis]

    @property
    def cells(self) -> int:
        return math.prod([s for i, s in enumerate(self.shape) if i not in (0, self.channel_axis)])


def _check_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got the bool {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None


def check_bool(value: Any, name: str) -> None:
    """Reject anything but ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def check_floating(x: Any, name: str, xp: Any) -> None:
    """Require a real floating dtype: integer, boolean and complex maps have no mean to compare."""
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(
            f"{name} must have a real floating dtype (float16, bfloat16, float32 or float64), "
            f"got {x.dtype}"
        )


def check_method(method: Any) -> str:
    """Return ``method`` if it names one of `METHODS`."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    return str(method)


def layout_of(x: Any, channel_axis: Any, xp: Any) -> Layout:
    """Check a feature-map tensor ``(N, ..., C, ...)`` and locate its axes."""
    check_floating(x, "x", xp)
    shape = tuple(x.shape)
    if len(shape) < 3:
        raise ValueError(
            "x must have at least 3 dimensions (batch, channels and >= 1 spatial axis), "
            f"got shape {shape} with ndim {len(shape)}"
        )
    axis = _check_int(channel_axis, "channel_axis")
    if not -len(shape) <= axis < len(shape):
        raise ValueError(
            f"channel_axis {channel_axis} is out of range for x with ndim {len(shape)}; "
            f"expected {-len(shape) + 1} <= channel_axis < {len(shape)}"
        )
    axis %= len(shape)
    if axis == 0:
        raise ValueError(f"channel_axis {channel_axis} is the batch axis 0; choose another axis")
    if None in shape[1:]:
        raise ValueError(
            f"x must have a static size on every axis but the batch axis 0, got shape {shape}"
        )
    layout = Layout(shape, axis)
    if layout.channels < 2:
        raise ValueError(
            f"x must have at least 2 channels on axis {axis} to form a pair, "
            f"got C = {layout.channels}"
        )
    if layout.cells == 0:
        raise ValueError(f"x has no cells: its spatial axes have size 0 (shape {shape})")
    return layout


def check_num_pairs(num_pairs: Any, channels: int) -> int:
    """Return the number of pairs: ``C // 2`` by default, else a value in [1, C // 2]."""
    if num_pairs is None:
        return channels // 2
    pairs = _check_int(num_pairs, "num_pairs")
    if not 1 <= pairs <= channels // 2:
        raise ValueError(
            f"num_pairs {num_pairs} is out of range; expected 1 <= num_pairs <= C // 2 = "
            f"{channels // 2} for C = {channels}"
        )
    return pairs


def check_perm(perm: Any, channels: int, xp: Any) -> None:
    """Require a one-dimensional integer array of length C (its values are not inspected)."""
    if not xp.isdtype(perm.dtype, "integral"):
        raise TypeError(f"perm must have an integer dtype, got {perm.dtype}")
    if tuple(perm.shape) != (channels,):
        raise ValueError(
            f"perm must be a permutation of range(C) with shape ({channels},), "
            f"got shape {tuple(perm.shape)}"
        )


def _check_fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in [0, 1], got {value!r}")
    if not 0 <= float(value) <= 1:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return float(value)


def check_decision(method: str, threshold: Any, rate: Any) -> tuple[float | None, float | None]:
    """Return ``(threshold, rate)`` with exactly one set; a missing threshold is the default."""
    if threshold is not None and rate is not None:
        raise ValueError(
            f"give threshold or rate, not both (got threshold={threshold!r}, rate={rate!r})"
        )
    if rate is not None:
        return None, _check_fraction(rate, "rate")
    if threshold is not None:
        return _check_fraction(threshold, "threshold"), None
    if method not in DEFAULT_THRESHOLDS:
        raise ValueError(
            f"method {method!r} has no default threshold; pass threshold= or rate= "
            f"(methods with a default: {', '.join(DEFAULT_THRESHOLDS)})"
        )
    return DEFAULT_THRESHOLDS[method], None


LAYER_KEYWORDS = ("method", "threshold", "rate", "batchwise", "num_pairs", "rescale")
"""The keywords of `wedge_mask` that every framework layer takes and stores under these names."""


def layer_keywords(layer: Any) -> dict[str, Any]:
    """The `LAYER_KEYWORDS` a layer stores as attributes, ready to pass to `wedge_mask`."""
    return {name: getattr(layer, name) for name in LAYER_KEYWORDS}


def check_keywords(
    *,
    method: Any = "multiply",
    threshold: Any = None,
    rate: Any = None,
    batchwise: Any = True,
    num_pairs: Any = None,
    rescale: Any = False,
) -> None:
    """Check the keywords of `wedge_mask` that need no input, as a layer does when built.

    ``num_pairs`` is only checked to be a positive integer: its bound ``C // 2`` comes with
    the input.
    """
    check_decision(check_method(method), threshold, rate)
    check_bool(batchwise, "batchwise")
    check_bool(rescale, "rescale")
    if num_pairs is not None and _check_int(num_pairs, "num_pairs") < 1:
        raise ValueError(f"num_pairs {num_pairs} is out of range; expected num_pairs >= 1")
