"""Keras 3 layers over the wedgecore kernels: `WedgeDropout1D`, `WedgeDropout2D`, `WedgeDropout3D`.

They run on the jax, torch and tensorflow backends: the core computes the mask on
the backend's tensors through a namespace built on ``keras.ops`` (TensorFlow tensors
have no array API namespace of their own). Each training call draws one permutation
of the channels from the layer's ``keras.random.SeedGenerator``, so the layers are
correct under ``jax.jit`` and ``jit_compile=True``; at inference they return their input.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

import wedgecore as wc
from wedgecore._checks import check_keywords, check_num_pairs, layer_keywords, layout_of

from . import _keras_ops

__all__ = ["WedgeDropout1D", "WedgeDropout2D", "WedgeDropout3D"]

_DATA_FORMATS = ("channels_first", "channels_last")


class _WedgeDropout(keras.layers.Layer):
    """The shared layer; subclasses fix the spatial rank and the default data format."""

    spatial_rank: int

    def __init__(
        self,
        *,
        method: str = "multiply",
        threshold: float | None = None,
        rate: float | None = None,
        batchwise: bool = True,
        num_pairs: int | None = None,
        rescale: bool = False,
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_keywords(
            method=method,
            threshold=threshold,
            rate=rate,
            batchwise=batchwise,
            num_pairs=num_pairs,
            rescale=rescale,
        )
        if data_format is None:
            data_format = self._default_data_format()
        if data_format not in _DATA_FORMATS:
            raise ValueError(
                f"data_format must be 'channels_first' or 'channels_last', got {data_format!r}"
            )
        self.method = method
        self.threshold = threshold
        self.rate = rate
        self.batchwise = batchwise
        self.num_pairs = num_pairs
        self.rescale = rescale
        self.data_format = data_format
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.last_drop_fraction = self.add_weight(
            shape=(),
            initializer="zeros",
            dtype="float32",
            trainable=False,
            autocast=False,
            name="last_drop_fraction",
        )
        self.input_spec = keras.InputSpec(ndim=self.spatial_rank + 2)
        self.supports_masking = True

    @classmethod
    def _default_data_format(cls) -> str:
        return keras.config.image_data_format()

    @property
    def channel_axis(self) -> int:
        """The channel axis of the input: 1 for channels-first, -1 for channels-last."""
        return 1 if self.data_format == "channels_first" else -1

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        """Check the input's layout and ``num_pairs`` against its channel count."""
        channel_axis = self.channel_axis % len(input_shape)
        # Spatial sizes may stay unknown until the call (a fully convolutional model).
        shape = [
            1 if size is None and axis not in (0, channel_axis) else size
            for axis, size in enumerate(input_shape)
        ]
        spec = keras.KerasTensor(tuple(shape), dtype=self.compute_dtype)
        channels = layout_of(spec, channel_axis, _keras_ops).channels
        check_num_pairs(self.num_pairs, channels)
        self.input_spec = keras.InputSpec(
            ndim=self.spatial_rank + 2, axes={self.channel_axis: channels}
        )

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """Zero the channels of too-similar pairs in training; return ``inputs`` otherwise."""
        if not training:
            return inputs
        channels = inputs.shape[self.channel_axis]
        perm = keras.random.shuffle(ops.arange(channels), seed=self.seed_generator)
        keep = wc.wedge_mask(
            inputs, perm, channel_axis=self.channel_axis, xp=_keras_ops, **layer_keywords(self)
        )
        self.last_drop_fraction.assign(wc.drop_fraction(keep, xp=_keras_ops))
        return inputs * keep

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            **layer_keywords(self),
            "data_format": self.data_format,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="wedgecore")
class WedgeDropout1D(_WedgeDropout):
    """Wedge Dropout on ``(N, steps, C)`` input, or ``(N, C, steps)`` with channels first.

    Each training call draws one permutation of the channels, pairs them
    ``(perm[0], perm[1]), (perm[2], perm[3]), ...`` and zeroes both channels of every
    pair the core calls too similar (`wedgecore.wedge_mask`). At inference the layer
    returns its input.

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
    data_format : {"channels_last", "channels_first"}, optional
        Where the channels are. Default: ``"channels_last"``, as for
        ``keras.layers.SpatialDropout1D``.
    seed : int, optional
        Seeds the layer's ``keras.random.SeedGenerator``.
    **kwargs
        Base layer keywords (``name``, ``dtype``, ...).

    Attributes
    ----------
    last_drop_fraction : keras.Variable
        Non-trainable float32 scalar: the fraction of (sample, channel) entries the last
        training call dropped (`wedgecore.drop_fraction`); 0 before the first.
    """

    spatial_rank = 1

    @classmethod
    def _default_data_format(cls) -> str:
        return "channels_last"


@keras.saving.register_keras_serializable(package="wedgecore")
class WedgeDropout2D(_WedgeDropout):
    """Wedge Dropout on ``(N, H, W, C)`` input, or ``(N, C, H, W)`` with channels first.

    Parameters and attributes are those of `WedgeDropout1D`, except that ``data_format``
    defaults to ``keras.config.image_data_format()``, as for ``keras.layers.SpatialDropout2D``.
    """

    spatial_rank = 2


@keras.saving.register_keras_serializable(package="wedgecore")
class WedgeDropout3D(_WedgeDropout):
    """Wedge Dropout on ``(N, D, H, W, C)`` input, or ``(N, C, D, H, W)`` with channels first.

    Parameters and attributes are those of `WedgeDropout2D`; every cell of a volume is a
    cell of its map (``D * H * W`` of them).
    """

    spatial_rank = 3
