"""Wedge Dropout as a ``flax.linen`` module, with the conventions of ``nn.Dropout``."""

from __future__ import annotations

import jax
from flax import linen as nn

from wedgecore._checks import check_bool

from ._flax import check_options, wedge_dropout

__all__ = ["WedgeDropout"]


class WedgeDropout(nn.Module):
    """Wedge Dropout for channels-last feature maps ``(N, *spatial, C)``.

    Place it right before global pooling. In training it zeroes both channels
    of each too-similar random pair; in deterministic mode it returns its input.
    Training needs a ``"dropout"`` key: ``model.apply(..., rngs={"dropout": key})``.
    With ``mutable=["intermediates"]`` each training call sows the fraction of
    (sample, channel) entries dropped as ``drop_fraction``.

    Attributes
    ----------
    method : str
        The similarity method, one of `wedgecore.METHODS`; default ``"multiply"``.
    threshold : float, optional
        A pair is similar when its score is ``>= threshold``; default
        ``wedgecore.DEFAULT_THRESHOLDS[method]``.
    rate : float, optional
        Instead of a threshold, drop this fraction of the pairs, the most similar first.
    batchwise : bool
        True (default): drop a pair in every sample when half the batch calls it similar.
    num_pairs : int, optional
        How many pairs to score, in [1, C // 2]; default ``C // 2``.
    rescale : bool
        Scale each sample's kept channels by ``C / max(kept, 1)``; default False.
    channel_axis : int
        The channel axis; -1 (channels-last) by default.
    deterministic : bool or None
        True returns the input unchanged; give it here or at call time, not both.
    rng_collection : str
        The rng collection that ``make_rng`` draws the key from.
    """

    method: str = "multiply"
    threshold: float | None = None
    rate: float | None = None
    batchwise: bool = True
    num_pairs: int | None = None
    rescale: bool = False
    channel_axis: int = -1
    deterministic: bool | None = None
    rng_collection: str = "dropout"

    def __post_init__(self) -> None:
        check_options(self)
        super().__post_init__()

    def __call__(
        self, inputs: jax.Array, deterministic: bool | None = None, rng: jax.Array | None = None
    ) -> jax.Array:
        """Apply Wedge Dropout, or return ``inputs`` itself when deterministic.

        Parameters
        ----------
        inputs : jax.Array
            Feature maps, batch first, channels on ``channel_axis``.
        deterministic : bool, optional
            Required here when the attribute is None; an error when both are set.
        rng : jax.Array, optional
            The key; default ``self.make_rng(self.rng_collection)``.

        Returns
        -------
        jax.Array
            The masked input, of its shape and dtype.
        """
        deterministic = nn.merge_param("deterministic", self.deterministic, deterministic)
        check_bool(deterministic, "deterministic")
        if deterministic:
            return inputs
        if rng is None:
            rng = self.make_rng(self.rng_collection)
        out, fraction = wedge_dropout(self, inputs, rng)
        self.sow("intermediates", "drop_fraction", fraction)
        return out
