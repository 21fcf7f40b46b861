"""The Flax adapters: ``wedgecore.adapters.nnx`` and ``wedgecore.adapters.linen``.

Each output is compared with the core's ``wedge_dropout`` for the permutation
the module draws, ``jax.random.permutation(key, C)``, the key being derived
with Flax's own API the way the module gets it.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import linen as nn
from flax import nnx
from flax.errors import InvalidRngError
from markdown_blocks import python_blocks, run_block

import wedgecore as wc
from wedgecore.adapters import linen
from wedgecore.adapters import nnx as wnnx

CASES = [
    pytest.param({}, (8, 6, 6, 16), id="default-2d"),
    pytest.param({"method": "direct"}, (8, 6, 6, 16), id="direct-2d"),
    pytest.param({"rate": 0.5}, (8, 12, 10), id="rate-1d"),
    pytest.param(
        {"method": "overlap", "threshold": 0.2, "batchwise": False},
        (4, 3, 4, 4, 9),
        id="overlap-per-sample-3d-odd-c",
    ),
    pytest.param(
        {"method": "multiply_l2", "rate": 0.5, "rescale": True, "num_pairs": 3},
        (8, 6, 6, 16),
        id="rescale-num-pairs",
    ),
    pytest.param({"method": "direct", "channel_axis": 1}, (8, 16, 5, 5), id="channels-first"),
]


def maps(shape, channel_axis=-1, seed=0, dtype=jnp.float32):
    """Feature maps in which any two of the first 3/4 of the channels form a similar pair."""
    z = np.moveaxis(np.random.default_rng(seed).normal(size=shape), channel_axis, -1)
    similar = 3 * z.shape[-1] // 4
    z[..., :similar] = -np.exp(2 * z[..., :similar])
    z[..., similar:] = np.exp(z[..., similar:])
    return jnp.asarray(np.moveaxis(z, -1, channel_axis), dtype=dtype)


def core(x, key, options):
    """The core's output and keep mask for the permutation a module draws from ``key``."""
    options = {"channel_axis": -1, **options}
    perm = jax.random.permutation(key, x.shape[options["channel_axis"]])
    keep = wc.wedge_mask(x, perm, **options)
    return x * keep, keep


def assert_masked_like_core(out, x, key, options):
    expected, keep = core(x, key, options)
    assert out.shape == x.shape
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))
    assert 0 < float(wc.drop_fraction(keep)) < 1, "the case must drop some channels, not all"


def linen_key(module, key):
    """The key ``module.make_rng("dropout")`` returns first when applied with ``key``."""
    return nn.apply(lambda m: m.make_rng(m.rng_collection), module)({}, rngs={"dropout": key})


class Block(nnx.Module):
    """A container, to switch a nested layer with ``train()``, ``eval()`` and ``nnx.view``."""

    def __init__(self, **options):
        self.wedge = wnnx.WedgeDropout(**options)

    def __call__(self, x, **call):
        return self.wedge(x, **call)


# --- outputs equal the core's -------------------------------------------------------------


@pytest.mark.parametrize(("options", "shape"), CASES)
def test_nnx_call_key_matches_core(options, shape):
    x = maps(shape, options.get("channel_axis", -1))
    key = jax.random.key(1)
    out = wnnx.WedgeDropout(**options)(x, rngs=key)
    assert_masked_like_core(out, x, key, options)


@pytest.mark.parametrize(("options", "shape"), CASES)
def test_linen_rng_argument_matches_core(options, shape):
    x = maps(shape, options.get("channel_axis", -1))
    key = jax.random.key(2)
    out = linen.WedgeDropout(**options, deterministic=False).apply({}, x, rng=key)
    assert_masked_like_core(out, x, key, options)


@pytest.mark.parametrize(("options", "shape"), CASES)
def test_linen_make_rng_matches_core(options, shape):
    x = maps(shape, options.get("channel_axis", -1))
    module = linen.WedgeDropout(**options)
    key = jax.random.key(3)
    out = module.apply({}, x, deterministic=False, rngs={"dropout": key})
    assert_masked_like_core(out, x, linen_key(module, key), options)


def test_nnx_constructor_stream_is_forked_like_nnx_dropout():
    x = maps((8, 6, 6, 16))
    layer = wnnx.WedgeDropout(rngs=nnx.Rngs(dropout=4))
    stream = nnx.Rngs(dropout=4)["dropout"].fork()
    first, second = layer(x), layer(x)
    assert_masked_like_core(first, x, stream(), {})
    assert_masked_like_core(second, x, stream(), {})
    assert not np.array_equal(first, second)


@pytest.mark.parametrize(
    "make_rngs",
    [
        pytest.param(lambda: nnx.Rngs(wedge=5), id="Rngs"),
        pytest.param(lambda: nnx.Rngs(wedge=5)["wedge"], id="RngStream"),
        pytest.param(lambda: nnx.Rngs(5), id="default-stream"),
    ],
)
def test_nnx_rng_collection_and_stream(make_rngs):
    x = maps((8, 6, 6, 16))
    out = wnnx.WedgeDropout(rng_collection="wedge", rngs=make_rngs())(x)
    assert_masked_like_core(out, x, nnx.Rngs(wedge=5)["wedge"].fork()(), {})


@pytest.mark.parametrize(
    "call_rngs",
    [
        pytest.param(lambda: nnx.Rngs(dropout=6), id="Rngs"),
        pytest.param(lambda: nnx.Rngs(dropout=6)["dropout"], id="RngStream"),
    ],
)
def test_nnx_call_rngs_override_the_constructor_stream(call_rngs):
    x = maps((8, 6, 6, 16))
    layer = wnnx.WedgeDropout(rngs=nnx.Rngs(dropout=0))
    out = layer(x, rngs=call_rngs())
    assert_masked_like_core(out, x, nnx.Rngs(dropout=6)["dropout"](), {})


def test_linen_rng_collection():
    x = maps((8, 6, 6, 16))
    module = linen.WedgeDropout(rng_collection="wedge", deterministic=False)
    key = jax.random.key(7)
    out = module.apply({}, x, rngs={"wedge": key})
    expected = nn.apply(lambda m: m.make_rng("wedge"), module)({}, rngs={"wedge": key})
    assert_masked_like_core(out, x, expected, {})


def test_half_precision_keeps_dtype():
    x = maps((8, 6, 6, 16), dtype=jnp.bfloat16)
    key = jax.random.key(8)
    assert_masked_like_core(wnnx.WedgeDropout()(x, rngs=key), x, key, {})
    assert_masked_like_core(
        linen.WedgeDropout(deterministic=False).apply({}, x, rng=key), x, key, {}
    )


# --- determinism -------------------------------------------------------------------------


def test_fixed_key_is_reproducible_and_keys_change_the_mask():
    x = maps((8, 6, 6, 16))
    keys = jax.random.split(jax.random.key(9), 6)
    layer = wnnx.WedgeDropout()
    module = linen.WedgeDropout(deterministic=False)
    nnx_masks = [np.asarray(layer(x, rngs=key) == 0) for key in keys]
    linen_masks = [np.asarray(module.apply({}, x, rngs={"dropout": key}) == 0) for key in keys]
    for key, nnx_mask, linen_mask in zip(keys, nnx_masks, linen_masks, strict=True):
        np.testing.assert_array_equal(layer(x, rngs=key) == 0, nnx_mask)
        np.testing.assert_array_equal(module.apply({}, x, rngs={"dropout": key}) == 0, linen_mask)
    assert len({mask.tobytes() for mask in nnx_masks}) > 1
    assert len({mask.tobytes() for mask in linen_masks}) > 1


def test_nnx_same_seed_same_sequence():
    x = maps((8, 6, 6, 16))
    a, b, c = (wnnx.WedgeDropout(rngs=nnx.Rngs(dropout=seed)) for seed in (10, 10, 11))
    seq_a, seq_b, seq_c = ([np.asarray(m(x)) for _ in range(3)] for m in (a, b, c))
    for out_a, out_b in zip(seq_a, seq_b, strict=True):
        np.testing.assert_array_equal(out_a, out_b)
    assert any(not np.array_equal(out_a, out_c) for out_a, out_c in zip(seq_a, seq_c, strict=True))


# --- the deterministic switch ------------------------------------------------------------


def test_nnx_deterministic_switches():
    x = maps((8, 6, 6, 16))
    key = jax.random.key(12)
    assert wnnx.WedgeDropout(deterministic=True)(x) is x  # needs no rngs
    training = wnnx.WedgeDropout(rngs=nnx.Rngs(dropout=0))
    assert training(x, deterministic=True) is x
    evaluating = wnnx.WedgeDropout(deterministic=True)
    assert_masked_like_core(evaluating(x, deterministic=False, rngs=key), x, key, {})
    unset = wnnx.WedgeDropout(deterministic=None)
    assert unset(x, deterministic=True) is x
    with pytest.raises(ValueError, match="deterministic=True or False"):
        unset(x, rngs=key)


def test_nnx_train_eval_and_view():
    x = maps((8, 6, 6, 16))
    key = jax.random.key(13)
    block = Block(deterministic=True)
    block.train()
    assert block.wedge.deterministic is False
    assert_masked_like_core(block(x, rngs=key), x, key, {})
    block.eval()
    assert block.wedge.deterministic is True
    assert block(x, rngs=key) is x
    view = nnx.view(block, deterministic=False)
    assert_masked_like_core(view(x, rngs=key), x, key, {})
    assert block(x, rngs=key) is x


def test_nnx_training_without_rngs_fails():
    with pytest.raises(ValueError, match="no rngs"):
        wnnx.WedgeDropout()(maps((8, 6, 6, 16)))


def test_linen_deterministic_merge_param():
    x = maps((8, 6, 6, 16))
    key = jax.random.key(14)
    assert linen.WedgeDropout(deterministic=True).apply({}, x) is x
    assert linen.WedgeDropout().apply({}, x, deterministic=True) is x
    out = linen.WedgeDropout().apply({}, x, False, rngs={"dropout": key})
    assert_masked_like_core(out, x, linen_key(linen.WedgeDropout(), key), {})
    with pytest.raises(ValueError, match="deterministic"):
        linen.WedgeDropout(deterministic=True).apply({}, x, deterministic=False)
    with pytest.raises(ValueError, match="deterministic"):
        linen.WedgeDropout().apply({}, x)


def test_linen_training_without_dropout_rng_fails():
    with pytest.raises(InvalidRngError, match="dropout"):
        linen.WedgeDropout(deterministic=False).apply({}, maps((8, 6, 6, 16)))


# --- telemetry ---------------------------------------------------------------------------


def test_nnx_sows_drop_fraction_under_capture_only():
    x = maps((8, 6, 6, 16))
    key = jax.random.key(15)
    layer = wnnx.WedgeDropout()
    _, keep = core(x, key, {})
    out, sown = nnx.capture(layer, nnx.Intermediate)(x, rngs=key)
    assert_masked_like_core(out, x, key, {})
    (fraction,) = sown["drop_fraction"].get_value()
    assert float(fraction) == float(wc.drop_fraction(keep))

    block = Block()
    _, twice = nnx.capture(lambda m: (m(x, rngs=key), m(x, rngs=key)), nnx.Intermediate)(block)
    assert len(twice["wedge"]["drop_fraction"].get_value()) == 2

    _, evaluating = nnx.capture(layer, nnx.Intermediate)(x, deterministic=True)
    assert "drop_fraction" not in evaluating

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer(x, rngs=key)
    assert not nnx.state(layer, nnx.Intermediate)


def test_linen_sows_drop_fraction_into_intermediates():
    x = maps((8, 6, 6, 16))
    module = linen.WedgeDropout()
    key = jax.random.key(16)
    _, keep = core(x, linen_key(module, key), {})
    out, state = module.apply({}, x, False, rngs={"dropout": key}, mutable=["intermediates"])
    (fraction,) = state["intermediates"]["drop_fraction"]
    assert float(fraction) == float(wc.drop_fraction(keep))
    np.testing.assert_array_equal(out, module.apply({}, x, False, rngs={"dropout": key}))
    _, evaluating = module.apply({}, x, True, mutable=["intermediates"])
    assert "intermediates" not in evaluating


# --- transformations ---------------------------------------------------------------------


def test_jit_matches_eager_and_does_not_retrace():
    x = maps((8, 6, 6, 16))
    layer = wnnx.WedgeDropout(rate=0.25)
    module = linen.WedgeDropout(rate=0.25, deterministic=False)
    nnx_step = jax.jit(lambda x, key: layer(x, rngs=key))
    linen_step = jax.jit(lambda x, key: module.apply({}, x, rngs={"dropout": key}))
    for step, eager in [
        (nnx_step, lambda key: layer(x, rngs=key)),
        (linen_step, lambda key: module.apply({}, x, rngs={"dropout": key})),
    ]:
        outs = [step(x, key) for key in (jax.random.key(17), jax.random.key(18))]
        assert step._cache_size() == 1
        np.testing.assert_array_equal(outs[0], eager(jax.random.key(17)))
        assert not np.array_equal(outs[0], outs[1])


def test_nnx_jit_with_the_module_stream_does_not_retrace():
    x = maps((8, 6, 6, 16))
    layer = wnnx.WedgeDropout(rate=0.25, rngs=nnx.Rngs(dropout=19))
    traces = []

    @nnx.jit
    def forward(layer, x):
        traces.append(None)
        return layer(x)

    outs = [forward(layer, x) for _ in range(3)]
    assert len(traces) == 1
    stream = nnx.Rngs(dropout=19)["dropout"].fork()
    for out in outs:
        assert_masked_like_core(out, x, stream(), {"rate": 0.25})

    capture_traces = []

    @nnx.jit
    @nnx.capture(nnx.Intermediate)
    def captured(layer, x):
        capture_traces.append(None)
        return layer(x)

    for _ in range(2):
        _, sown = captured(layer, x)
        assert float(sown["drop_fraction"].get_value()[0]) == 0.25
    assert len(capture_traces) == 1


@pytest.mark.parametrize("rescale", [False, True])
def test_gradient_is_the_mask(rescale):
    x = maps((8, 6, 6, 16))
    weights = jnp.asarray(np.random.default_rng(1).normal(size=x.shape), dtype=x.dtype)
    key = jax.random.key(20)
    options = {"rescale": rescale}
    _, keep = core(x, key, options)
    layer = wnnx.WedgeDropout(**options)
    module = linen.WedgeDropout(**options, deterministic=False)
    for grad in (
        jax.grad(lambda x: jnp.sum(layer(x, rngs=key) * weights))(x),
        jax.grad(lambda x: jnp.sum(module.apply({}, x, rng=key) * weights))(x),
    ):
        np.testing.assert_allclose(grad, keep * weights, rtol=1e-6)
    assert 0 < float(wc.drop_fraction(keep)) < 1


def test_vmap_over_a_leading_axis():
    xs = jnp.stack([maps((8, 6, 6, 16), seed=seed) for seed in range(3)])
    keys = jax.random.split(jax.random.key(21), 3)
    layer = wnnx.WedgeDropout()
    module = linen.WedgeDropout(deterministic=False)
    nnx_out = jax.vmap(lambda x, key: layer(x, rngs=key))(xs, keys)
    linen_out = jax.vmap(lambda x, key: module.apply({}, x, rng=key))(xs, keys)
    for x, key, a, b in zip(xs, keys, nnx_out, linen_out, strict=True):
        assert_masked_like_core(a, x, key, {})
        assert_masked_like_core(b, x, key, {})


# --- training a small CNN ----------------------------------------------------------------


class CNN(nnx.Module):
    """Conv-BatchNorm-relu blocks, Wedge Dropout before mean pooling, a linear head."""

    def __init__(self, rngs):
        self.conv1 = nnx.Conv(3, 16, (3, 3), rngs=rngs)
        self.norm1 = nnx.BatchNorm(16, rngs=rngs)
        self.conv2 = nnx.Conv(16, 32, (3, 3), rngs=rngs)
        self.norm2 = nnx.BatchNorm(32, rngs=rngs)
        self.wedge = wnnx.WedgeDropout(rate=0.25, rngs=rngs)
        self.head = nnx.Linear(32, 2, rngs=rngs)

    def __call__(self, x):
        x = nnx.relu(self.norm1(self.conv1(x)))
        x = nnx.relu(self.norm2(self.conv2(x)))
        return self.head(self.wedge(x).mean(axis=(1, 2)))


def test_nnx_cnn_trains_with_optax():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 64)
    images = rng.normal(size=(64, 8, 8, 3))
    images[..., 0] += 3 * (2 * labels[:, None, None] - 1) * np.linspace(-1, 1, 8)[None, :, None]
    x, y = jnp.asarray(images, dtype=jnp.float32), jnp.asarray(labels)

    model = CNN(nnx.Rngs(0, dropout=1))
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    traces = []

    @nnx.jit
    def train_step(model, optimizer, x, y):
        traces.append(None)

        def loss_fn(model):
            logits, sown = nnx.capture(model, nnx.Intermediate)(x)
            loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
            return loss, sown["wedge"]["drop_fraction"].get_value()[0]

        (loss, fraction), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
        optimizer.update(model, grads)
        return loss, fraction

    losses, fractions = zip(*(train_step(model, optimizer, x, y) for _ in range(8)), strict=True)
    assert len(traces) == 1
    assert [float(f) for f in fractions] == [0.25] * 8
    assert float(losses[-1]) < 0.5 * float(losses[0])

    model.eval()
    features = nnx.relu(model.norm2(model.conv2(nnx.relu(model.norm1(model.conv1(x))))))
    assert model.wedge(features) is features


# --- bad arguments -----------------------------------------------------------------------

BAD_OPTIONS = [
    ({"method": "mean"}, ValueError, "unknown method 'mean'; expected one of direct"),
    ({"method": "overlap"}, ValueError, "'overlap' has no default threshold"),
    ({"threshold": 1.5}, ValueError, "threshold must be in \\[0, 1\\], got 1.5"),
    ({"rate": -0.1}, ValueError, "rate must be in \\[0, 1\\], got -0.1"),
    ({"rate": True}, TypeError, "rate must be a real number in \\[0, 1\\], got True"),
    ({"threshold": 0.5, "rate": 0.1}, ValueError, "not both"),
    ({"batchwise": "yes"}, TypeError, "batchwise must be True or False, got 'yes'"),
    ({"rescale": 1}, TypeError, "rescale must be True or False, got 1"),
    ({"num_pairs": 0}, ValueError, "num_pairs 0"),
    ({"num_pairs": 2.5}, TypeError, "num_pairs must be an integer, got 2.5"),
    ({"deterministic": "no"}, TypeError, "deterministic must be True or False, got 'no'"),
]


@pytest.mark.parametrize(("options", "error", "message"), BAD_OPTIONS)
@pytest.mark.parametrize("api", [wnnx.WedgeDropout, linen.WedgeDropout], ids=["nnx", "linen"])
def test_bad_options_fail_at_construction(api, options, error, message):
    with pytest.raises(error, match=message):
        api(**options)


def test_nnx_bad_rngs():
    with pytest.raises(TypeError, match=r"rngs must be .* got 0"):
        wnnx.WedgeDropout(rngs=0)
    with pytest.raises(TypeError, match=r"rngs must be .* got 'key'"):
        wnnx.WedgeDropout()(maps((8, 6, 6, 16)), rngs="key")


BAD_INPUTS = [
    ({"channel_axis": 5}, maps((8, 6, 6, 16)), ValueError, "channel_axis 5 is out of range"),
    ({"num_pairs": 9}, maps((8, 6, 6, 16)), ValueError, "num_pairs 9 is out of range"),
    ({}, jnp.ones((8, 6, 6, 16), jnp.int32), TypeError, "real floating dtype.*int32"),
    ({}, jnp.ones((8, 16)), ValueError, "ndim 2"),
]


@pytest.mark.parametrize(("options", "x", "error", "message"), BAD_INPUTS)
def test_bad_inputs_fail_at_call(options, x, error, message):
    key = jax.random.key(0)
    with pytest.raises(error, match=message):
        wnnx.WedgeDropout(**options)(x, rngs=key)
    with pytest.raises(error, match=message):
        linen.WedgeDropout(**options, deterministic=False).apply({}, x, rng=key)
    with pytest.raises(error, match=message):
        jax.jit(lambda x: wnnx.WedgeDropout(**options)(x, rngs=key))(x)


def test_bad_call_time_deterministic():
    x = maps((8, 6, 6, 16))
    with pytest.raises(TypeError, match="deterministic must be True or False, got 1"):
        wnnx.WedgeDropout()(x, deterministic=1)
    with pytest.raises(TypeError, match="deterministic must be True or False, got 1"):
        linen.WedgeDropout().apply({}, x, deterministic=1)


# --- documentation -----------------------------------------------------------------------


def test_readme_flax_example_runs():
    (block,) = python_blocks("README.md", "Flax")
    namespace = run_block(block, "README flax example")
    (fraction,) = namespace["sown"]["drop_fraction"].get_value()
    assert float(fraction) == 0.25
    assert float(jnp.mean(namespace["out"] == 0)) == 0.25


def test_docs_nnx_quick_start_runs():
    quick_start, switches, _ = python_blocks("docs/flax.md")
    namespace = run_block(quick_start, "docs/flax.md nnx quick start")
    assert np.isfinite(float(namespace["loss"]))
    (fraction,) = namespace["drop_fraction"]
    assert 0 <= float(fraction) <= 1
    assert namespace["model"].wedge.deterministic is False  # model.train() at the end

    namespace = run_block(switches, "docs/flax.md nnx switches")
    assert namespace["layer"].deterministic is True
    assert namespace["training"].deterministic is False
    assert namespace["out"].shape == namespace["x"].shape


def test_docs_linen_quick_start_runs():
    *_, quick_start = python_blocks("docs/flax.md")
    namespace = run_block(quick_start, "docs/flax.md linen quick start")
    (fraction,) = namespace["state"]["intermediates"]["wedge"]["drop_fraction"]
    assert 0 <= float(fraction) <= 1
    assert namespace["logits"].shape == (16, 10)
