"""Pair scores, the keep mask and Wedge Dropout itself.

The randomness comes in as ``perm``: pair ``k`` is ``(perm[2k], perm[2k + 1])``.
Everything is vectorised over samples, pairs and cells, with shapes fixed by
the input's shape, so the traced graph does not grow with the channel count.
"""

from __future__ import annotations

from typing import Any

from ._arrays import as_indices, as_three_axes, is_jax, keep_shape, namespace, upcast
from ._checks import (
    Layout,
    check_bool,
    check_decision,
    check_method,
    check_num_pairs,
    check_perm,
    layout_of,
)
from ._methods import Method, method_steps

__all__ = ["drop_fraction", "pair_scores", "wedge_dropout", "wedge_mask"]


def _scores(x: Any, perm: Any, method: str, pairs: int, layout: Layout, xp: Any) -> Any:
    """Score the pairs ``(perm[2k], perm[2k + 1])`` of every sample, shape ``(N, pairs)``.

    The same steps in one of two orders, each the faster where it is used (the
    order suite of docs/benchmarks.md times them side by side): XLA reduces a map
    fastest where it lies, ungathered, so JAX arrays, and methods that compare
    statistics only, summarise every channel before gathering the paired ones.
    Elsewhere the pairs' channels are gathered first, and torch.compile then fuses
    each pair's statistics, preparation and reduction into one sweep of its cells.
    """
    x3, channel_axis, cell_axis = as_three_axes(x, layout, xp)
    x3 = upcast(x3, xp)
    steps = method_steps(method)
    summarise_first = is_jax(x3) or not steps.reads_cells
    order = summarise_then_gather if summarise_first else gather_then_summarise
    return order(x3, perm[: 2 * pairs], steps, channel_axis, cell_axis, xp)


def summarise_then_gather(
    x3: Any, paired: Any, steps: Method, channel_axis: int, cell_axis: int, xp: Any
) -> Any:
    """Summarise every channel, then gather and prepare the ``paired`` ones and score them."""
    statistics = [
        xp.take(statistic, paired, axis=channel_axis)
        for statistic in steps.summarise(x3, (cell_axis,), xp)
    ]
    maps = xp.take(x3, paired, axis=channel_axis) if steps.reads_cells else None
    first, second = _split_pairs(steps.prepared(maps, statistics, xp), channel_axis, xp)
    return steps.combine(first, second, (cell_axis,), xp, x3.dtype)


def gather_then_summarise(
    x3: Any, paired: Any, steps: Method, channel_axis: int, cell_axis: int, xp: Any
) -> Any:
    """Gather the pairs' first and second channels, then score them pair by pair."""
    first = xp.take(x3, paired[0::2], axis=channel_axis)
    second = xp.take(x3, paired[1::2], axis=channel_axis)
    return steps.score(first, second, (cell_axis,), xp)


def _split_pairs(a: Any, channel_axis: int, xp: Any) -> tuple[Any, Any]:
    """Split three axes with ``2P`` paired channels into the pairs' first and second maps."""
    if channel_axis == 1:
        pairs = xp.reshape(a, (-1, a.shape[1] // 2, 2, a.shape[2]))
        return pairs[:, :, 0, :], pairs[:, :, 1, :]
    pairs = xp.reshape(a, (-1, a.shape[1], a.shape[2] // 2, 2))
    return pairs[..., 0], pairs[..., 1]


def pair_scores(
    x: Any,
    perm: Any,
    *,
    method: str = "multiply",
    num_pairs: int | None = None,
    channel_axis: int = 1,
    xp: Any = None,
) -> Any:
    """Score the similarity of each channel pair in each sample.

    Parameters
    ----------
    x : array
        Feature maps, batch on axis 0 and channels on ``channel_axis``; every
        other axis is spatial. Real floating dtype.
    perm : array
        Integer permutation of ``range(C)``; pair ``k`` is ``(perm[2k], perm[2k+1])``.
    method : str
        One of `METHODS`.
    num_pairs : int, optional
        How many pairs to score, in [1, C // 2]; default ``C // 2``.
    channel_axis : int
        The channel axis (1 for channels-first, -1 for channels-last).
    xp : namespace, optional
        Array API namespace; default ``array_api_compat.array_namespace(x, perm)``.

    Returns
    -------
    array
        Shape ``(N, num_pairs)``, scores in [0, 1], in float32 or float64.
    """
    xp = namespace(xp, x, perm)
    layout = layout_of(x, channel_axis, xp)
    pairs = check_num_pairs(num_pairs, layout.channels)
    check_perm(perm, layout.channels, xp)
    return _scores(x, as_indices(perm, xp), check_method(method), pairs, layout, xp)


def _dropped_pairs(
    scores: Any, threshold: float | None, rate: float | None, batchwise: bool, xp: Any
) -> Any:
    """Boolean ``(N, P)``, or ``(1, P)`` batch-wise: which pairs are dropped."""
    if rate is None:
        similar = scores >= threshold
        if not batchwise:
            return similar
        # +1 per sample that calls the pair similar, -1 per other: "at least half" is a
        # sum >= 0, counted without the batch size (unknown until run time in a TF graph)
        ballots = 2 * xp.astype(similar, scores.dtype) - 1
        return xp.sum(ballots, axis=0, keepdims=True) >= 0
    ranked = xp.mean(scores, axis=0, keepdims=True) if batchwise else scores
    ranked = xp.where(xp.isnan(ranked), -1.0, ranked)
    order = xp.argsort(-ranked, axis=1, stable=True)
    rank = xp.argsort(order, axis=1, stable=False)  # a permutation: no ties to keep in order
    return rank < round(rate * scores.shape[1])


def _channel_drops(dropped: Any, perm: Any, pairs: int, xp: Any) -> Any:
    """Spread pair decisions ``(rows, P)`` onto channels ``(rows, C)`` without a scatter.

    A channel in no pair looks up an extra, never-dropped column ``P``.
    """
    position = xp.argsort(perm, stable=False)  # a permutation: no ties to keep in order
    pair_of_channel = xp.where(position < 2 * pairs, position // 2, pairs)
    never = xp.zeros_like(dropped[:, :1])
    return xp.take(xp.concat([dropped, never], axis=1), pair_of_channel, axis=1)


def wedge_mask(
    x: Any,
    perm: Any,
    *,
    method: str = "multiply",
    threshold: float | None = None,
    rate: float | None = None,
    batchwise: bool = True,
    num_pairs: int | None = None,
    channel_axis: int = 1,
    rescale: bool = False,
    xp: Any = None,
) -> Any:
    """Compute the Wedge Dropout keep mask: zero for both channels of a too-similar pair.

    Parameters
    ----------
    x, perm : array
        As in `pair_scores`.
    method : str
        One of `METHODS`.
    num_pairs : int, optional
        As in `pair_scores`.
    channel_axis : int
        As in `pair_scores`.
    xp : namespace, optional
        As in `pair_scores`.
    threshold : float, optional
        A pair is similar in a sample when its score is ``>= threshold``.
        Default: ``DEFAULT_THRESHOLDS[method]``.
    rate : float, optional
        Instead of a threshold, drop the ``round(rate * num_pairs)`` highest-scoring
        pairs (Python's round, half to even; ties go to the lower pair index).
    batchwise : bool
        Drop a pair in every sample when at least half the samples call it
        similar (or, in rate mode, rank pairs by their mean score over the
        batch). ``False`` decides per sample.
    rescale : bool
        Multiply each sample's kept channels by ``C / max(kept, 1)``.

    Returns
    -------
    array
        The mask, ``x.dtype``, shape ``(N, 1, ..., C, ..., 1)`` broadcastable to ``x``.
        It is a constant of the computation: no gradient flows through it.
    """
    xp = namespace(xp, x, perm)
    layout = layout_of(x, channel_axis, xp)
    pairs = check_num_pairs(num_pairs, layout.channels)
    check_perm(perm, layout.channels, xp)
    method = check_method(method)
    threshold, rate = check_decision(method, threshold, rate)
    check_bool(batchwise, "batchwise")
    check_bool(rescale, "rescale")
    perm = as_indices(perm, xp)

    scores = _scores(x, perm, method, pairs, layout, xp)
    dropped_pairs = _dropped_pairs(scores, threshold, rate, batchwise, xp)
    keep = xp.astype(xp.logical_not(_channel_drops(dropped_pairs, perm, pairs, xp)), scores.dtype)
    keep = keep * xp.ones_like(scores[:, :1])  # batch-wise (1, C) to (N, C), N unread
    if rescale:
        kept = xp.sum(keep, axis=1, keepdims=True)
        keep = keep * (layout.channels / xp.clip(kept, min=1))
    return xp.reshape(xp.astype(keep, x.dtype), keep_shape(layout))


def wedge_dropout(x: Any, perm: Any, **keywords: Any) -> Any:
    """Apply Wedge Dropout: ``x * wedge_mask(x, perm, **keywords)``.

    Takes the keywords of `wedge_mask`; returns an array of ``x``'s shape,
    dtype and device. NaN in ``x`` stays NaN.
    """
    return x * wedge_mask(x, perm, **keywords)


def drop_fraction(keep: Any, *, xp: Any = None) -> Any:
    """Return the fraction of (sample, channel) entries a keep mask drops, as a 0-d array.

    Works on the mask of `wedge_mask`, rescaled or not: an entry is dropped
    when it is zero.
    """
    xp = namespace(xp, keep)
    dtype = xp.float64 if xp.isdtype(keep.dtype, xp.float64) else xp.float32
    return xp.mean(xp.astype(keep == 0, dtype))
