"""The Keras 3 layers on the backend that ``KERAS_BACKEND`` names: the core's mask, Keras's rules.

Each nox session (``keras-jax``, ``keras-torch``, ``keras-tensorflow``) runs this file on one
backend. Every output is compared with the core run on NumPy, so that passing on all three
backends means the three give the same mask for the same inputs and permutation.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops
from markdown_blocks import python_blocks, run_block

import wedgecore as wc
from wedgecore.adapters import _keras_ops
from wedgecore.adapters.keras import WedgeDropout1D, WedgeDropout2D, WedgeDropout3D

BACKEND = keras.backend.backend()

LAYERS = [
    (WedgeDropout1D, "channels_last", (4, 16, 8)),
    (WedgeDropout1D, "channels_first", (4, 8, 16)),
    (WedgeDropout2D, "channels_last", (4, 5, 5, 8)),
    (WedgeDropout2D, "channels_first", (4, 8, 5, 5)),
    (WedgeDropout3D, "channels_last", (4, 3, 4, 4, 8)),
    (WedgeDropout3D, "channels_first", (4, 8, 3, 4, 4)),
]
MODES = [  # each drops some channels and keeps others on the maps of `feature_maps`
    {"batchwise": False, "threshold": 0.57},
    {"method": "direct", "rate": 0.5},
    {"method": "rectify", "rate": 0.25, "rescale": True},
    {"method": "overlap", "threshold": 0.2, "num_pairs": 2},
    {"method": "multiply_l2", "threshold": 0.32, "batchwise": False, "rescale": True},
]
SEED_SCORES = {
    "direct": 0.75,
    "overlap": 0.25,
    "multiply": 0.25,
    "multiply_l2": 0.25,
    "rectify": 0.9947916666666666,
}


def feature_maps(shape, channel_axis=-1, seed=0):
    """Skewed float32 maps, even channels like one map and odd ones another, so pairs match."""
    rng = np.random.default_rng(seed)
    shape = list(shape)
    channels = shape.pop(channel_axis)
    n, *spatial = shape
    bases = -np.exp(rng.normal(size=(n, 2, *spatial)))
    x = bases[:, np.arange(channels) % 2] + 0.3 * rng.normal(size=(n, channels, *spatial))
    return np.moveaxis(x, 1, channel_axis).astype(np.float32)


def drawn_perms(seed, channels, count, compiled=False):
    """The permutations a layer with ``seed`` draws in its first ``count`` training calls.

    ``compiled``: as drawn in a function compiled for the backend, where TensorFlow's XLA
    draws other random numbers than its eager kernels.
    """
    generator = keras.random.SeedGenerator(seed)

    def draw():
        return keras.random.shuffle(ops.arange(channels), seed=generator)

    if compiled and BACKEND == "tensorflow":
        import tensorflow as tf

        draw = tf.function(draw, jit_compile=True)
    return [ops.convert_to_numpy(draw()) for _ in range(count)]


def channel_axis_of(data_format):
    return 1 if data_format == "channels_first" else -1


@pytest.fixture
def policy(request):
    """Set the global dtype policy for one test, then restore float32."""
    keras.config.set_dtype_policy(request.param)
    yield request.param
    keras.config.set_dtype_policy("float32")


def test_the_namespace_has_every_name_the_core_uses():
    sources = Path(wc.__file__).parent.glob("*.py")
    used = {name for path in sources for name in re.findall(r"\bxp\.(\w+)", path.read_text())}
    assert {"take", "argsort", "isdtype"} <= used
    assert sorted(name for name in used if not hasattr(_keras_ops, name)) == []


@pytest.mark.parametrize("channel_axis", [1, 2, -1])
@pytest.mark.parametrize("keywords", MODES)
def test_the_keras_ops_namespace_gives_the_numpy_mask(keywords, channel_axis):
    shape = {1: (6, 8, 4, 5), 2: (6, 4, 8, 5), -1: (6, 4, 5, 8)}[channel_axis]
    x = feature_maps(shape, channel_axis=channel_axis)
    perm = np.random.default_rng(1).permutation(8)
    expected = wc.wedge_mask(x, perm, channel_axis=channel_axis, **keywords)
    keep = wc.wedge_mask(
        ops.convert_to_tensor(x),
        ops.convert_to_tensor(perm),
        channel_axis=channel_axis,
        xp=_keras_ops,
        **keywords,
    )
    np.testing.assert_array_equal(ops.convert_to_numpy(keep), expected)
    assert 0 < wc.drop_fraction(expected) < 1


@pytest.mark.parametrize("method", wc.METHODS)
def test_the_keras_ops_namespace_gives_the_seed_scores(method):
    a = ops.convert_to_tensor(np.asarray([[1, 2], [3, 4]], np.float32))
    b = ops.convert_to_tensor(np.asarray([[3, 1], [4, 9]], np.float32))
    score = wc.similarity(a, b, method, xp=_keras_ops)
    np.testing.assert_allclose(ops.convert_to_numpy(score), SEED_SCORES[method], rtol=1e-6)
    x = feature_maps((3, 6, 4, 4), channel_axis=1)
    matrix = wc.similarity_matrix(ops.convert_to_tensor(x), method=method, xp=_keras_ops)
    np.testing.assert_allclose(
        ops.convert_to_numpy(matrix), wc.similarity_matrix(x, method=method), atol=1e-6
    )


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_the_namespace_argsort_is_stable(axis):
    values = np.random.default_rng(0).integers(0, 3, size=(7, 9)).astype(np.float32)
    order = _keras_ops.argsort(ops.convert_to_tensor(values), axis=axis)
    expected = np.argsort(values, axis=axis, kind="stable")
    np.testing.assert_array_equal(ops.convert_to_numpy(order), expected)


@pytest.mark.parametrize("keywords", MODES)
@pytest.mark.parametrize(("layer_class", "data_format", "shape"), LAYERS)
def test_layer_applies_the_numpy_core_mask_for_the_perms_it_draws(
    layer_class, data_format, shape, keywords
):
    channel_axis = channel_axis_of(data_format)
    layer = layer_class(data_format=data_format, seed=7, **keywords)
    perms = drawn_perms(7, shape[channel_axis], 2)
    for seed, perm in enumerate(perms):
        x = feature_maps(shape, channel_axis, seed)
        keep = wc.wedge_mask(x, perm, channel_axis=channel_axis, **keywords)
        out = ops.convert_to_numpy(layer(x, training=True))
        np.testing.assert_array_equal(
            out, wc.wedge_dropout(x, perm, channel_axis=channel_axis, **keywords)
        )
        assert out.dtype == np.float32
        assert 0 < wc.drop_fraction(keep) < 1
        assert ops.convert_to_numpy(layer.last_drop_fraction) == wc.drop_fraction(keep)
    assert not np.array_equal(perms[0], perms[1])


@pytest.mark.parametrize("training", [False, None])
def test_inference_returns_the_input_itself(training):
    x = ops.convert_to_tensor(feature_maps((4, 5, 5, 8)))
    layer = WedgeDropout2D(method="direct", threshold=0.0)
    assert (layer(x) if training is None else layer(x, training=training)) is x
    assert ops.convert_to_numpy(layer.last_drop_fraction) == 0


def test_a_model_passes_its_training_flag_to_the_layer():
    # At threshold 0 every pair is similar: in training all four channels are dropped.
    model = keras.Sequential(
        [keras.Input((5, 5, 4)), WedgeDropout2D(method="direct", threshold=0.0)]
    )
    x = feature_maps((3, 5, 5, 4))
    np.testing.assert_array_equal(ops.convert_to_numpy(model(x, training=True)), 0 * x)
    np.testing.assert_array_equal(ops.convert_to_numpy(model(x)), x)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def test_a_small_cnn_trains_under_jit_with_the_layer_before_the_pooling():
    keras.utils.set_random_seed(0)
    wedge = WedgeDropout2D(rate=0.5, seed=1)  # 2 of the 4 pairs: half the channels, every step
    conv, pool, dense = (
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(2),
    )
    inputs = keras.Input((None, None, 3))  # spatial sizes known only when called
    model = keras.Model(inputs, dense(pool(wedge(conv(inputs)))))
    model.compile(
        keras.optimizers.Adam(0.02),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,  # XLA on jax and tensorflow, torch.compile on torch
    )
    rng = np.random.default_rng(0)
    labels = np.arange(64) % 2
    images = (rng.normal(size=(64, 8, 8, 3)) + labels[:, None, None, None]).astype(np.float32)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            layer = self.model.get_layer(wedge.name)
            seen.append(float(ops.convert_to_numpy(layer.last_drop_fraction)))

    state = ops.convert_to_numpy(wedge.seed_generator.state)
    history = model.fit(images, labels, batch_size=16, epochs=2, verbose=0, callbacks=[Record()])
    losses = history.history["loss"]
    assert len(losses) == 2
    assert losses[1] < losses[0]
    assert seen == [0.5] * 8
    assert not np.array_equal(ops.convert_to_numpy(wedge.seed_generator.state), state)
    # At inference the layer is the identity: the same model without it predicts the same,
    # up to the rounding of two separately compiled graphs.
    without = keras.Model(inputs, dense(pool(conv(inputs))))
    np.testing.assert_allclose(
        model.predict(images, verbose=0), without.predict(images, verbose=0), rtol=1e-5, atol=1e-6
    )


def _gradient_of_weighted_sum(layer, x, weights):
    """d(sum(layer(x, training=True) * weights)) / dx, with the backend's autodiff."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True) * weights)
        return tape.gradient(loss, x).numpy()
    if BACKEND == "torch":
        import torch

        x = torch.tensor(x, requires_grad=True)
        (layer(x, training=True) * torch.from_numpy(weights)).sum().backward()
        return x.grad.numpy()
    import jax

    def loss(x):
        out, _ = layer.stateless_call(
            [v.value for v in layer.trainable_variables],
            [v.value for v in layer.non_trainable_variables],
            x,
            training=True,
        )
        return (out * weights).sum()

    layer.build(x.shape)
    return np.asarray(jax.grad(loss)(x))


@pytest.mark.parametrize("rescale", [False, True])
def test_the_gradient_is_the_mask(rescale):
    x = feature_maps((4, 5, 5, 8))
    weights = np.random.default_rng(1).normal(size=x.shape).astype(np.float32)
    layer = WedgeDropout2D(rate=0.5, rescale=rescale, seed=3)
    keep = wc.wedge_mask(x, drawn_perms(3, 8, 1)[0], rate=0.5, rescale=rescale, channel_axis=-1)
    grad = _gradient_of_weighted_sum(layer, x, weights)
    np.testing.assert_allclose(grad, keep * weights, rtol=1e-6)
    assert (grad[..., np.squeeze(keep[0]) == 0] == 0).all()


def _compiled_training_call(layer, batch_shape):
    """The layer's training call compiled by the backend: jax.jit, XLA or torch.compile.

    TensorFlow traces it once for any batch size, as ``model.fit`` does; under jax the
    layer's state goes in and out explicitly and is written back after each call.
    """
    if BACKEND == "tensorflow":
        import tensorflow as tf

        spec = tf.TensorSpec((None, *batch_shape[1:]), tf.float32)
        return tf.function(
            lambda x: layer(x, training=True), jit_compile=True, input_signature=[spec]
        )
    if BACKEND == "torch":
        import torch

        return torch.compile(lambda x: layer(x, training=True))
    import jax

    layer.build(batch_shape)
    step = jax.jit(lambda state, x: layer.stateless_call([], state, x, training=True))

    def call(x):
        out, state = step([v.value for v in layer.non_trainable_variables], x)
        for variable, value in zip(layer.non_trainable_variables, state, strict=True):
            variable.assign(value)
        return out

    return call


def test_compiled_training_calls_draw_new_perms_and_update_the_telemetry():
    layer = WedgeDropout2D(method="direct", batchwise=False, seed=5)
    call = _compiled_training_call(layer, (6, 5, 5, 8))
    for perm, batch in zip(drawn_perms(5, 8, 3, compiled=True), (6, 6, 3), strict=True):
        x = feature_maps((batch, 5, 5, 8), seed=batch)
        keep = wc.wedge_mask(x, perm, method="direct", batchwise=False, channel_axis=-1)
        np.testing.assert_array_equal(ops.convert_to_numpy(call(x)), x * keep)
        # XLA takes a mean as a product with the reciprocal count: off by up to an ulp
        fraction = ops.convert_to_numpy(layer.last_drop_fraction)
        np.testing.assert_allclose(fraction, wc.drop_fraction(keep), rtol=1e-6)


@pytest.mark.parametrize("layer_class", [WedgeDropout1D, WedgeDropout2D, WedgeDropout3D])
def test_the_config_holds_every_argument(layer_class):
    arguments = {
        "method": "overlap",
        "threshold": None,
        "rate": 0.3,
        "batchwise": False,
        "num_pairs": 3,
        "rescale": True,
        "data_format": "channels_first",
        "seed": 11,
    }
    layer = layer_class(name="wedge", **arguments)
    config = layer.get_config()
    assert arguments.items() <= config.items()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is layer_class
    assert restored.get_config() == config
    assert keras.saving.get_registered_name(layer_class) == f"wedgecore>{layer_class.__name__}"


def test_a_saved_model_loads_and_predicts_identically(tmp_path):
    inputs = keras.Input((6, 6, 3))
    wedge = WedgeDropout2D(method="multiply_l2", rate=0.5, seed=2, name="wedge")
    outputs = keras.layers.Dense(2)(
        keras.layers.GlobalAveragePooling2D()(wedge(keras.layers.Conv2D(8, 3)(inputs)))
    )
    model = keras.Model(inputs, outputs)
    images = feature_maps((5, 6, 6, 3))
    first_training_call = ops.convert_to_numpy(model(images, training=True))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    twin = loaded.get_layer("wedge")
    assert type(twin) is WedgeDropout2D
    assert twin.get_config() == wedge.get_config()
    assert ops.convert_to_numpy(twin.last_drop_fraction) == 0.5
    np.testing.assert_array_equal(
        loaded.predict(images, verbose=0), model.predict(images, verbose=0)
    )
    # As for Keras's own dropout layers, the random state is not saved: the seed restarts it.
    np.testing.assert_array_equal(
        ops.convert_to_numpy(loaded(images, training=True)), first_training_call
    )


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"], indirect=True)
def test_mixed_precision_computes_in_half_and_scores_in_float32(policy):
    half = policy.removeprefix("mixed_")
    layer = WedgeDropout2D(seed=4)
    assert layer.compute_dtype == half
    x = feature_maps((8, 5, 5, 8))
    out = layer(x, training=True)
    assert keras.backend.standardize_dtype(out.dtype) == half
    rounded = ops.convert_to_numpy(ops.cast(ops.cast(x, half), "float32"))
    keep = wc.wedge_mask(rounded, drawn_perms(4, 8, 1)[0], channel_axis=-1)  # float32 scores
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.cast(out, "float32")), rounded * keep)
    assert keras.backend.standardize_dtype(layer.last_drop_fraction.dtype) == "float32"
    assert ops.convert_to_numpy(layer.last_drop_fraction) == wc.drop_fraction(keep)

    model = keras.Sequential(
        [
            keras.Input((6, 6, 3)),
            keras.layers.Conv2D(8, 3),
            WedgeDropout2D(rate=0.5),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(1, dtype="float32"),
        ]
    )
    model.compile("adam", "mse", jit_compile=BACKEND != "torch")
    history = model.fit(feature_maps((8, 6, 6, 3)), np.ones((8, 1)), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert ops.convert_to_numpy(model.layers[1].last_drop_fraction) == 0.5


BAD_KEYWORDS = [
    ({"method": "cosine"}, ValueError, r"unknown method 'cosine'; expected one of direct"),
    ({"method": "rectify"}, ValueError, r"method 'rectify' has no default threshold"),
    ({"threshold": 1.5}, ValueError, r"threshold must be in \[0, 1\], got 1.5"),
    ({"threshold": 0.5, "rate": 0.1}, ValueError, r"not both"),
    ({"rate": "0.1"}, TypeError, r"rate must be a real number"),
    ({"batchwise": 1}, TypeError, r"batchwise must be True or False, got 1"),
    ({"rescale": "yes"}, TypeError, r"rescale must be True or False, got 'yes'"),
    ({"num_pairs": 0}, ValueError, r"num_pairs 0 is out of range"),
    ({"num_pairs": 1.5}, TypeError, r"num_pairs must be an integer, got 1.5"),
    ({"data_format": "NHWC"}, ValueError, r"data_format must be 'channels_first' or .*'NHWC'"),
    ({"seed": "7"}, ValueError, r"seed.*7"),
]


@pytest.mark.parametrize(("keywords", "error", "message"), BAD_KEYWORDS)
def test_bad_arguments_raise_at_construction(keywords, error, message):
    with pytest.raises(error, match=message):
        WedgeDropout2D(**keywords)


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (WedgeDropout2D(), (5, 8), r"expected ndim=4, found ndim=3"),
        (WedgeDropout1D(), (5, 5, 8), r"expected ndim=3, found ndim=4"),
        (WedgeDropout2D(num_pairs=5), (5, 5, 8), r"num_pairs 5 is out of range.*C // 2 = 4"),
        (WedgeDropout2D(), (5, 5, 1), r"at least 2 channels.*C = 1"),
        (WedgeDropout3D(data_format="channels_first"), (8, 0, 4, 4), r"no cells"),
        (WedgeDropout2D(), (5, 5, None), r"static size on every axis but the batch"),
    ],
)
def test_a_bad_input_shape_raises_when_the_model_is_built(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        keras.Sequential([keras.Input(shape), layer])


def test_the_channel_count_is_fixed_once_built_and_integers_are_refused():
    layer = WedgeDropout2D()
    layer(feature_maps((2, 5, 5, 8)), training=True)
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 8"):
        layer(feature_maps((2, 5, 5, 6)), training=True)
    with pytest.raises(TypeError, match=r"real floating dtype.*int32"):
        WedgeDropout2D()(np.ones((2, 5, 5, 8), np.int32), training=True)


def test_the_default_data_format_is_keras_image_data_format():
    assert WedgeDropout2D().data_format == "channels_last"
    keras.config.set_image_data_format("channels_first")
    try:
        assert WedgeDropout2D().data_format == "channels_first"
        assert WedgeDropout3D().channel_axis == 1
        assert WedgeDropout1D().data_format == "channels_last"  # as SpatialDropout1D
    finally:
        keras.config.set_image_data_format("channels_last")


def test_a_sequence_mask_passes_through():
    steps = np.random.default_rng(0).normal(size=(2, 6, 4)).astype(np.float32)
    steps[:, 4:] = 0  # padding, masked by Masking
    model = keras.Sequential(
        [
            keras.Input((6, 4)),
            keras.layers.Masking(0.0),
            WedgeDropout1D(),
            keras.layers.GlobalAveragePooling1D(),
        ]
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*does not support masking")
        pooled = ops.convert_to_numpy(model(steps))
    np.testing.assert_allclose(pooled, steps[:, :4].mean(axis=1), rtol=1e-6)


def test_readme_keras_example_runs():
    (block,) = python_blocks("README.md", "Keras")
    namespace = run_block(block, "README Keras example")
    wedge = namespace["model"].get_layer("wedge")
    assert ops.convert_to_numpy(wedge.last_drop_fraction) == 0.25


def test_docs_keras_examples_run():
    blocks = python_blocks("docs/keras.md")
    assert len(blocks) == 6
    namespaces = [run_block(block, f"docs/keras.md block {i}") for i, block in enumerate(blocks)]
    assert isinstance(namespaces[0]["model"].layers[3], WedgeDropout2D)
    dropped = ops.convert_to_numpy(namespaces[1]["dropped"])
    assert (dropped == 0).all(axis=(1, 2)).mean() == 0.5
    assert namespaces[2]["log"].fractions == [0.25, 0.25]
    assert namespaces[3]["out"].shape == (4, 16, 3, 8, 8)
    assert isinstance(namespaces[4]["loaded"].layers[1], WedgeDropout2D)
    assert namespaces[5]["l2"].get_config()["method"] == "multiply_l2"
