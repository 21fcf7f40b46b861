"""The array helpers that the kernels' choices depend on."""

from __future__ import annotations

import numpy as np
import pytest

from wedgecore._arrays import is_jax


def test_is_jax_knows_the_arrays_of_each_backend(backend):
    a = backend.asarray(np.ones(3))
    assert is_jax(a) == backend.name.startswith("jax")


@pytest.mark.backend("jax")
def test_is_jax_knows_jax_tracers():
    import jax

    seen = []
    jax.jit(lambda a: seen.append(is_jax(a)) or a)(np.ones(3))
    assert seen == [True]
