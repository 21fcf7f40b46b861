"""The seed's similarity functions, batched, and the all-pairs diagnostic matrix."""

from __future__ import annotations

import operator
from typing import Any

from ._arrays import as_three_axes, namespace, upcast
from ._checks import check_floating, check_method, layout_of
from ._methods import method_steps

__all__ = ["similarity", "similarity_matrix"]

_BLOCK_ELEMENTS = 2**22
"""Upper bound on the (N, block, C, S) intermediate of `similarity_matrix`, in elements."""


def _cell_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if not isinstance(axis, tuple) else axis
    normalised = []
    for item in axes:
        if isinstance(item, bool):
            raise TypeError(f"axis must be None, an int or a tuple of ints, got {axis!r}")
        try:
            index = operator.index(item)
        except TypeError:
            raise TypeError(f"axis must be None, an int or a tuple of ints, got {axis!r}") from None
        if not -ndim <= index < ndim:
            raise ValueError(f"axis {axis!r} is out of range for maps with ndim {ndim}")
        normalised.append(index % ndim)
    if len(set(normalised)) != len(normalised):
        raise ValueError(f"axis {axis!r} repeats an axis")
    return tuple(normalised)


def similarity(
    a: Any, b: Any, method: str = "multiply", *, axis: Any = None, xp: Any = None
) -> Any:
    """Score how similar feature maps ``a`` and ``b`` are, as the original write-up's functions do.

    Parameters
    ----------
    a, b : array
        Feature maps of the same shape and a real floating dtype.
    method : str
        One of `METHODS`.
    axis : int or tuple of int, optional
        The cell axes reduced into one score; the other axes are batch axes.
        Default: all axes (one score).
    xp : namespace, optional
        Array API namespace; default ``array_api_compat.array_namespace(a, b)``.

    Returns
    -------
    array
        Scores in [0, 1] with the reduced axes removed, in float32 or float64.
    """
    xp = namespace(xp, a, b)
    method = check_method(method)
    check_floating(a, "a", xp)
    check_floating(b, "b", xp)
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    axes = _cell_axes(axis, a.ndim)
    if not axes or any(a.shape[i] == 0 for i in axes):
        raise ValueError(
            f"the maps need at least one cell on axis {axis!r}, got shape {tuple(a.shape)}"
        )
    dtype = xp.result_type(upcast(a, xp), upcast(b, xp))
    return method_steps(method).score(xp.astype(a, dtype), xp.astype(b, dtype), axes, xp)


def similarity_matrix(
    x: Any, *, method: str = "multiply", channel_axis: int = 1, xp: Any = None
) -> Any:
    """Score every pair of channels of every sample, for diagnostics.

    Works through blocks of channels so that no ``(N, C, C, S)`` intermediate is
    built; it is meant for monitoring, off the training path.

    Parameters
    ----------
    x : array
        Feature maps, batch on axis 0, channels on ``channel_axis``.
    method : str
        One of `METHODS`.
    channel_axis : int
        The channel axis (1 for channels-first, -1 for channels-last).
    xp : namespace, optional
        Array API namespace; default ``array_api_compat.array_namespace(x)``.

    Returns
    -------
    array
        Shape ``(N, C, C)``: entry ``[n, i, j]`` is the score of channels ``i`` and ``j``.
    """
    xp = namespace(xp, x)
    layout = layout_of(x, channel_axis, xp)
    steps = method_steps(check_method(method))
    x3, channel, _ = as_three_axes(x, layout, xp)
    if channel == 2:
        x3 = xp.permute_dims(x3, (0, 2, 1))
    x3 = upcast(x3, xp)
    prepared = steps.prepared(x3, steps.summarise(x3, (2,), xp), xp)
    n, c, s = layout.batch, layout.channels, prepared.shape[2]
    block = max(1, _BLOCK_ELEMENTS // max(1, n * c * s))
    rows = [
        steps.combine(
            prepared[:, start : min(start + block, c), None, :],
            prepared[:, None, :, :],
            (3,),
            xp,
            x3.dtype,
        )
        for start in range(0, c, block)
    ]
    return xp.concat(rows, axis=1)
