"""An array API namespace built on ``keras.ops``, for the tensors of every Keras backend.

TensorFlow tensors have no array API namespace of their own, so the Keras layers
pass this module to the core as ``xp=``. It holds exactly the names the kernels
use, each a thin mapping onto ``keras.ops`` with the array API's signature.
"""

from __future__ import annotations

from typing import Any

import keras
import ml_dtypes
from keras import ops

float32 = "float32"
float64 = "float64"
int32 = "int32"
int64 = "int64"
inf = float("inf")

_SIGNED = ("int8", "int16", "int32", "int64")
_UNSIGNED = ("uint8", "uint16", "uint32", "uint64")
_REAL = ("bfloat16", "float16", "float32", "float64")
_COMPLEX = ("complex64", "complex128")
_KINDS = {
    "bool": ("bool",),
    "signed integer": _SIGNED,
    "unsigned integer": _UNSIGNED,
    "integral": _SIGNED + _UNSIGNED,
    "real floating": _REAL,
    "complex floating": _COMPLEX,
    "numeric": _SIGNED + _UNSIGNED + _REAL + _COMPLEX,
}

abs = ops.abs
isnan = ops.isnan
logical_and = ops.logical_and
logical_not = ops.logical_not
max = ops.max
mean = ops.mean
min = ops.min
ones_like = ops.ones_like
reshape = ops.reshape
sum = ops.sum
take = ops.take
where = ops.where
zeros_like = ops.zeros_like


def isdtype(dtype: Any, kind: Any) -> bool:
    """Whether ``dtype`` is of ``kind``: a kind name, a dtype, or a tuple of those."""
    if isinstance(kind, tuple):
        return any(isdtype(dtype, one) for one in kind)
    name = keras.backend.standardize_dtype(dtype)
    if kind in _KINDS:
        return name in _KINDS[kind]
    return bool(name == keras.backend.standardize_dtype(kind))


def finfo(dtype: Any) -> Any:
    """Machine limits of a floating dtype, bfloat16 included."""
    return ml_dtypes.finfo(keras.backend.standardize_dtype(dtype))


def result_type(*arrays_and_dtypes: Any) -> str:
    """The dtype that Keras promotes the given arrays or dtypes to."""
    return str(keras.backend.result_type(*(getattr(a, "dtype", a) for a in arrays_and_dtypes)))


def astype(x: Any, dtype: Any) -> Any:
    """Cast ``x`` to ``dtype``."""
    return ops.cast(x, dtype)


def permute_dims(x: Any, axes: tuple[int, ...]) -> Any:
    """Permute the axes of ``x``."""
    return ops.transpose(x, axes)


def concat(arrays: Any, axis: int = 0) -> Any:
    """Join arrays along an existing axis."""
    return ops.concatenate(arrays, axis=axis)


def clip(x: Any, min: Any = None, max: Any = None) -> Any:
    """Clip ``x`` to ``[min, max]``; either bound may be omitted."""
    if min is not None:
        x = ops.maximum(x, min)
    if max is not None:
        x = ops.minimum(x, max)
    return x


def argsort(x: Any, axis: int = -1, stable: bool = True) -> Any:
    """Indices that sort ``x`` along ``axis``; equal values keep their order when ``stable``.

    ``keras.ops.argsort`` promises no order among equal values (on TensorFlow it
    sorts with ``stable=False``), so ties are broken by an explicit key: the dense
    rank of each value, then its position. The key is int32, which bounds the
    length of ``axis`` to 46340.
    """
    if not stable:
        return ops.argsort(x, axis=axis)
    x = ops.moveaxis(x, axis, -1)
    size = x.shape[-1]
    if size > 46340:
        raise ValueError(f"a stable argsort takes at most 46340 elements per row, got {size}")
    order = ops.argsort(x)
    ordered = ops.take_along_axis(x, order, axis=-1)
    first = ops.ones_like(ordered[..., :1], dtype="int32")
    new_value = ops.cast(ordered[..., 1:] != ordered[..., :-1], "int32")
    ordered_rank = ops.cumsum(ops.concatenate([first, new_value], axis=-1), axis=-1)
    rank = ops.take_along_axis(ordered_rank, ops.argsort(order), axis=-1)
    key = rank * size + ops.arange(size, dtype="int32")
    return ops.moveaxis(ops.argsort(key), -1, axis)
