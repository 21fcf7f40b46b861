"""Small array helpers shared by the kernels: namespace, statistics dtype, axis layout."""

from __future__ import annotations

from typing import Any

import array_api_compat

from ._checks import Layout

__all__ = ["as_indices", "as_three_axes", "is_jax", "keep_shape", "namespace", "upcast"]


def namespace(xp: Any, *arrays: Any) -> Any:
    """Return ``xp``, or the array API namespace of ``arrays`` when ``xp`` is None."""
    return array_api_compat.array_namespace(*arrays) if xp is None else xp


def is_jax(a: Any) -> bool:
    """Whether ``a`` is a JAX array or tracer, by its type's package.

    Read off the type, not through ``array_api_compat.is_jax_array``, whose
    cached helpers torch.compile would trace and warn about.
    """
    return type(a).__module__.partition(".")[0] in ("jax", "jaxlib")


def upcast(a: Any, xp: Any) -> Any:
    """Return ``a`` in at least float32, so that half-precision maps are scored exactly."""
    if xp.finfo(a.dtype).bits >= 32:
        return a
    return xp.astype(a, xp.float32)


def as_indices(perm: Any, xp: Any) -> Any:
    """Return an integer ``perm`` as int32 or int64, the index dtypes every backend takes."""
    if xp.isdtype(perm.dtype, (xp.int32, xp.int64)):
        return perm
    return xp.astype(perm, xp.int32)


def as_three_axes(x: Any, layout: Layout, xp: Any) -> tuple[Any, int, int]:
    """Reshape ``x`` to three axes: batch, channels and flattened cells.

    Returns ``(x3, channel_axis, cell_axis)``. Channels-first and channels-last
    inputs are reshaped without moving data, to ``(N, C, S)`` and ``(N, S, C)``;
    a channel axis in the middle is moved to the front first. The batch size is
    left to the reshape (``-1``): in a TensorFlow graph it is known only at run time.
    """
    c, s = layout.channels, layout.cells
    if layout.channel_axis == x.ndim - 1:
        return xp.reshape(x, (-1, s, c)), 2, 1
    if layout.channel_axis != 1:
        rest = [i for i in range(1, x.ndim) if i != layout.channel_axis]
        x = xp.permute_dims(x, (0, layout.channel_axis, *rest))
    return xp.reshape(x, (-1, c, s)), 1, 2


def keep_shape(layout: Layout) -> tuple[int, ...]:
    """The shape of a per-(sample, channel) mask that broadcasts against ``x``, batch as ``-1``."""
    return tuple(
        -1 if axis == 0 else size if axis == layout.channel_axis else 1
        for axis, size in enumerate(layout.shape)
    )
