"""What the two Flax adapters share: the option checks and one masked step from a key."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

import wedgecore as wc
from wedgecore._checks import check_bool, check_keywords, layer_keywords, layout_of


def check_options(module: Any) -> None:
    """Check, when the module is built, every option that needs no input."""
    check_keywords(**layer_keywords(module))
    if module.deterministic is not None:
        check_bool(module.deterministic, "deterministic")


def wedge_dropout(module: Any, inputs: Any, key: Any) -> tuple[Any, Any]:
    """Draw ``perm`` from ``key`` and apply Wedge Dropout with ``module``'s options.

    Returns
    -------
    tuple of arrays
        The output, and the fraction of channels dropped (a 0-d array).
    """
    inputs = jnp.asarray(inputs)
    channels = layout_of(inputs, module.channel_axis, jnp).channels
    perm = jax.random.permutation(key, channels)
    keep = wc.wedge_mask(inputs, perm, channel_axis=module.channel_axis, **layer_keywords(module))
    return inputs * keep, wc.drop_fraction(keep)
