"""The array backends the core tests run on, and how to move NumPy data onto them.

``WEDGECORE_BACKENDS`` (comma-separated names) fixes the set: a nox session
names the backends it installed, and a missing one fails loudly instead of
being skipped. Without it, every backend that imports here is used.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ALL_BACKENDS = ("numpy", "array_api_strict", "torch", "jax", "jax-jit", "cupy")

HALF_DTYPES = {
    "numpy": ("float16",),
    "torch": ("float16", "bfloat16"),
    "jax": ("float16", "bfloat16"),
    "jax-jit": ("float16", "bfloat16"),
    "cupy": ("float16",),
}
"""The half-precision dtypes each backend has (the array API standard has none)."""


@dataclass(frozen=True)
class Backend:
    """One array library under test; ``run`` calls a kernel there (jitted for ``jax-jit``)."""

    name: str
    xp: Any
    asarray: Callable[[np.ndarray], Any]
    to_numpy: Callable[[Any], np.ndarray]
    jit: Callable[..., Any] | None = field(default=None)

    def run(self, kernel: Callable[..., Any], *arrays: np.ndarray, **keywords: Any) -> np.ndarray:
        """Move ``arrays`` here, call ``kernel`` with static ``keywords``, return NumPy."""
        moved = [self.asarray(a) for a in arrays]
        call = functools.partial(kernel, **keywords)
        if self.jit is not None:
            call = self.jit(call)
        return self.to_numpy(call(*moved))


def _numpy() -> Backend:
    import array_api_compat.numpy as xp

    return Backend("numpy", xp, np.asarray, np.asarray)


def _array_api_strict() -> Backend:
    import array_api_strict as xp

    xp.set_array_api_strict_flags(boolean_indexing=False, data_dependent_shapes=False)
    return Backend("array_api_strict", xp, xp.asarray, np.from_dlpack)


def _torch() -> Backend:
    import array_api_compat.torch as xp
    import torch

    def to_numpy(a: Any) -> np.ndarray:
        return a.detach().cpu().float().numpy() if a.dtype == torch.bfloat16 else a.cpu().numpy()

    return Backend("torch", xp, torch.from_numpy, to_numpy)


def _jax(jit: bool) -> Backend:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as xp

    def to_numpy(a: Any) -> np.ndarray:
        return np.asarray(a.astype(xp.float32) if a.dtype == xp.bfloat16 else a)

    return Backend(
        "jax-jit" if jit else "jax",
        xp,
        xp.asarray,
        to_numpy,
        jax.jit if jit else None,
    )


def _cupy() -> Backend:
    import array_api_compat.cupy as xp
    import cupy

    return Backend("cupy", xp, cupy.asarray, cupy.asnumpy)


_FACTORIES: dict[str, Callable[[], Backend]] = {
    "numpy": _numpy,
    "array_api_strict": _array_api_strict,
    "torch": _torch,
    "jax": functools.partial(_jax, False),
    "jax-jit": functools.partial(_jax, True),
    "cupy": _cupy,
}


def gpu_present() -> bool:
    try:
        cupy = importlib.import_module("cupy")
        return bool(cupy.cuda.runtime.getDeviceCount() > 0)
    except Exception:
        return False


def _importable(name: str) -> bool:
    if name == "cupy":
        return gpu_present()
    module = {"jax-jit": "jax"}.get(name, name)
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def requested_backends() -> tuple[str, ...]:
    """The backend names this test run covers."""
    names = os.environ.get("WEDGECORE_BACKENDS", "")
    if not names:
        return tuple(name for name in ALL_BACKENDS if _importable(name))
    chosen = tuple(name.strip() for name in names.split(",") if name.strip())
    unknown = sorted(set(chosen) - set(ALL_BACKENDS))
    if unknown:
        raise ValueError(f"unknown backends {unknown} in WEDGECORE_BACKENDS; known: {ALL_BACKENDS}")
    return chosen


@functools.cache
def make_backend(name: str) -> Backend:
    """Import and set up one backend (once per process)."""
    return _FACTORIES[name]()
