"""Wedge Dropout as a ``flax.nnx`` module, with the conventions of ``nnx.Dropout``."""

from __future__ import annotations

import jax
from flax import nnx

from wedgecore._checks import check_bool

from ._flax import check_options, wedge_dropout

__all__ = ["WedgeDropout"]


class WedgeDropout(nnx.Module):
    """Wedge Dropout for channels-last feature maps ``(N, *spatial, C)``.

    Place it right before global pooling. In training it zeroes both channels
    of each too-similar random pair; in deterministic mode it returns its input.
    ``model.train()`` and ``model.eval()`` switch ``deterministic``, as for
    ``nnx.Dropout``.

    Parameters
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
        True returns the input unchanged. None requires it at call time.
    rng_collection : str
        The stream of an ``nnx.Rngs`` to draw keys from.
    rngs : nnx.Rngs, nnx.RngStream or None
        Keys for the channel permutation; the stream is forked, as ``nnx.Dropout`` does.

    Notes
    -----
    Inside ``nnx.capture(..., nnx.Intermediate)`` each training call sows the
    fraction of (sample, channel) entries dropped as ``drop_fraction``. Outside
    a capture nothing is stored, so the module's state, and a jitted step's
    trace, stay the same from call to call.
    """

    def __init__(
        self,
        *,
        method: str = "multiply",
        threshold: float | None = None,
        rate: float | None = None,
        batchwise: bool = True,
        num_pairs: int | None = None,
        rescale: bool = False,
        channel_axis: int = -1,
        deterministic: bool | None = False,
        rng_collection: str = "dropout",
        rngs: nnx.Rngs | nnx.RngStream | None = None,
    ) -> None:
        self.method = method
        self.threshold = threshold
        self.rate = rate
        self.batchwise = batchwise
        self.num_pairs = num_pairs
        self.rescale = rescale
        self.channel_axis = channel_axis
        self.deterministic = deterministic
        self.rng_collection = rng_collection
        check_options(self)
        if isinstance(rngs, nnx.Rngs):
            self.rngs = rngs[rng_collection].fork()
        elif isinstance(rngs, nnx.RngStream):
            self.rngs = rngs.fork()
        elif rngs is None:
            self.rngs = nnx.data(None)
        else:
            raise TypeError(f"rngs must be an nnx.Rngs, an nnx.RngStream or None, got {rngs!r}")

    def __call__(
        self,
        inputs: jax.Array,
        *,
        deterministic: bool | None = None,
        rngs: nnx.Rngs | nnx.RngStream | jax.Array | None = None,
    ) -> jax.Array:
        """Apply Wedge Dropout, or return ``inputs`` itself when deterministic.

        Parameters
        ----------
        inputs : jax.Array
            Feature maps, batch first, channels on ``channel_axis``.
        deterministic : bool, optional
            Overrides the module's ``deterministic``.
        rngs : nnx.Rngs, nnx.RngStream or jax.Array, optional
            Overrides the module's stream; an array is used as the key itself.

        Returns
        -------
        jax.Array
            The masked input, of its shape and dtype.
        """
        if deterministic is None:
            deterministic = self.deterministic
        if deterministic is None:
            raise ValueError(
                "WedgeDropout needs deterministic=True or False, in the constructor, at call "
                "time, or set by model.train() / model.eval()"
            )
        check_bool(deterministic, "deterministic")
        if deterministic:
            return inputs
        out, fraction = wedge_dropout(self, inputs, self._key(rngs))
        if hasattr(self, "__captures__"):
            self.sow(nnx.Intermediate, "drop_fraction", fraction)
        return out

    def _key(self, rngs: nnx.Rngs | nnx.RngStream | jax.Array | None) -> jax.Array:
        rngs = self.rngs if rngs is None else rngs
        if isinstance(rngs, nnx.Rngs):
            return rngs[self.rng_collection]()
        if isinstance(rngs, nnx.RngStream):
            return rngs()
        if isinstance(rngs, jax.Array):
            return rngs
        if rngs is None:
            raise ValueError(
                "WedgeDropout is not deterministic but has no rngs: pass rngs=nnx.Rngs(...) "
                "to the constructor or the call"
            )
        raise TypeError(f"rngs must be an nnx.Rngs, an nnx.RngStream or a key array, got {rngs!r}")

    def set_view(self, deterministic: bool | None = None) -> None:
        """Set the mode for ``nnx.view``.

        Parameters
        ----------
        deterministic : bool, optional
            True returns inputs unchanged; None leaves the mode as it is.
        """
        if deterministic is not None:
            self.deterministic = deterministic
