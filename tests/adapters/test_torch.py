"""The PyTorch layers: the core's mask under torch's conventions, and torch's tools around them."""

from __future__ import annotations

import warnings

import pytest
import torch
from markdown_blocks import python_blocks, run_block
from torch import nn
from torch._dynamo.utils import counters

import wedgecore as wc
from wedgecore.adapters.torch import WedgeDropout1d, WedgeDropout2d, WedgeDropout3d, wedge_dropout

LAYERS = [
    (WedgeDropout1d, (4, 8, 16)),
    (WedgeDropout2d, (4, 8, 5, 5)),
    (WedgeDropout3d, (4, 8, 3, 4, 4)),
]
MODES = [
    {},
    {"method": "direct", "batchwise": False},
    {"method": "rectify", "rate": 0.25, "rescale": True},
    {"method": "overlap", "threshold": 0.2, "num_pairs": 2},
]
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def feature_maps(shape, seed=0):
    """Skewed maps, even channels like one map and odd channels another, so that pairs match."""
    generator = torch.Generator().manual_seed(seed)
    n, c, *spatial = shape
    bases = -torch.exp(torch.randn(n, 2, *spatial, generator=generator))
    return bases[:, torch.arange(c) % 2] + 0.3 * torch.randn(shape, generator=generator)


def seeded(seed=0, device="cpu"):
    return torch.Generator(device).manual_seed(seed)


def core_perm(channels, seed=0, device="cpu"):
    """The permutation a layer holding ``seeded(seed)`` draws on its first call."""
    return torch.randperm(channels, generator=seeded(seed, device), device=device)


@pytest.mark.parametrize("keywords", MODES)
@pytest.mark.parametrize(("layer_class", "shape"), LAYERS)
def test_layer_applies_the_core_mask_for_the_perm_it_draws(layer_class, shape, keywords):
    x = feature_maps(shape)
    layer = layer_class(generator=seeded(), **keywords)
    keep = wc.wedge_mask(x, core_perm(shape[1]), **keywords)
    out = layer(x)
    assert torch.equal(out, x * keep)
    assert not torch.equal(out, x)
    assert torch.equal(layer.last_drop_fraction, wc.drop_fraction(keep))


@pytest.mark.parametrize(("layer_class", "shape"), LAYERS)
def test_unbatched_input_is_a_batch_of_one(layer_class, shape):
    x = feature_maps(shape)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = layer_class(rate=0.5, generator=seeded())(x)
    assert out.shape == x.shape
    expected = wc.wedge_dropout(x[None], core_perm(shape[1]), rate=0.5)[0]
    assert torch.equal(out, expected)
    assert not torch.equal(out, x)


def test_batchwise_vote_of_an_unbatched_input_is_the_per_sample_decision():
    x = feature_maps((8, 5, 5))
    batchwise = WedgeDropout2d(method="direct", generator=seeded())(x)
    per_sample = WedgeDropout2d(method="direct", batchwise=False, generator=seeded())(x)
    assert torch.equal(batchwise, per_sample)


def test_eval_returns_the_input_itself_and_train_switches_back():
    layer = WedgeDropout2d(rate=0.5)
    x = feature_maps((4, 8, 5, 5))
    layer(x)
    fraction = layer.last_drop_fraction
    layer.eval()
    assert layer(x) is x
    assert layer.last_drop_fraction is fraction
    layer.train()
    assert not torch.equal(layer(x), x)


def test_seeded_generators_reproduce_the_masks_and_other_seeds_change_them():
    x = feature_maps((4, 8, 5, 5))
    first, second, other = (WedgeDropout2d(rate=0.5, generator=seeded(s)) for s in (0, 0, 1))
    outputs = [(first(x), second(x), other(x)) for _ in range(4)]
    assert all(torch.equal(a, b) for a, b, _ in outputs)
    assert not all(torch.equal(a, c) for a, _, c in outputs)
    assert not all(torch.equal(outputs[0][0], a) for a, _, _ in outputs[1:])


def test_the_global_generator_is_used_without_a_generator():
    x = feature_maps((4, 8, 5, 5))
    torch.manual_seed(3)
    out = WedgeDropout2d(rate=0.5)(x)
    torch.manual_seed(3)
    assert torch.equal(out, wc.wedge_dropout(x, torch.randperm(8), rate=0.5))


@pytest.mark.parametrize("rescale", [False, True])
def test_the_gradient_is_the_mask(rescale):
    x = feature_maps((4, 8, 5, 5)).requires_grad_()
    layer = WedgeDropout2d(rate=0.5, rescale=rescale, generator=seeded())
    layer(x).sum().backward()
    keep = wc.wedge_mask(x.detach(), core_perm(8), rate=0.5, rescale=rescale)
    assert torch.equal(x.grad, keep.expand_as(x))
    assert set(torch.unique(keep).tolist()) == ({0.0, 2.0} if rescale else {0.0, 1.0})


def test_telemetry_is_a_detached_0d_tensor_of_the_last_call():
    layer = WedgeDropout2d(method="direct", batchwise=False, generator=seeded())
    assert layer.last_drop_fraction is None
    for seed in range(3):
        x = feature_maps((4, 8, 5, 5), seed).requires_grad_()
        out = layer(x)
        dropped = (out.detach().flatten(2) == 0).all(dim=2).float().mean()
        assert layer.last_drop_fraction.shape == ()
        assert layer.last_drop_fraction.dtype == torch.float32
        assert not layer.last_drop_fraction.requires_grad
        assert torch.equal(layer.last_drop_fraction, dropped)
    assert 0 < dropped < 1


def test_a_layer_holds_no_parameters_or_buffers():
    layer = WedgeDropout2d(generator=seeded())
    layer(feature_maps((4, 8, 5, 5)))
    assert layer.state_dict() == {}
    assert list(layer.parameters()) == [] and list(layer.buffers()) == []


def test_repr_shows_the_settings():
    layer = WedgeDropout3d(method="direct", threshold=0.7, num_pairs=3)
    assert repr(layer) == (
        "WedgeDropout3d(method='direct', threshold=0.7, rate=None, batchwise=True, "
        "num_pairs=3, rescale=False)"
    )


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(
    ("layer_class", "ndim", "expected"),
    [
        (WedgeDropout1d, 4, r"\(N, C, L\) or unbatched \(C, L\), got shape \(2, 4, 3, 3\)"),
        (WedgeDropout2d, 2, r"\(N, C, H, W\) or unbatched \(C, H, W\), got shape \(2, 4\) "),
        (WedgeDropout3d, 6, r"\(N, C, D, H, W\) or unbatched \(C, D, H, W\).*with ndim 6"),
    ],
)
def test_a_wrong_rank_names_the_expected_shapes(layer_class, ndim, expected, training):
    layer = layer_class().train(training)
    message = f"{layer_class.__name__} expects input of shape {expected}"
    with pytest.raises(ValueError, match=message):
        layer(torch.zeros((2, 4, 3, 3, 3, 3)[:ndim]))


@pytest.mark.parametrize(
    ("keywords", "error", "message"),
    [
        ({"method": "cosine"}, ValueError, r"unknown method 'cosine'; expected one of direct"),
        ({"method": "overlap"}, ValueError, r"method 'overlap' has no default threshold"),
        ({"threshold": 1.5}, ValueError, r"threshold must be in \[0, 1\], got 1.5"),
        ({"threshold": 0.5, "rate": 0.1}, ValueError, r"not both"),
        ({"batchwise": 1}, TypeError, r"batchwise must be True or False, got 1"),
        ({"num_pairs": 0}, ValueError, r"num_pairs 0 is out of range"),
        ({"rescale": "yes"}, TypeError, r"rescale must be True or False, got 'yes'"),
        ({"generator": 0}, TypeError, r"generator must be a torch.Generator or None, got 0"),
    ],
)
def test_bad_keywords_raise_when_the_layer_is_built(keywords, error, message):
    with pytest.raises(error, match=message):
        WedgeDropout2d(**keywords)
    with pytest.raises(error, match=message):
        wedge_dropout(torch.zeros(2, 4, 3), training=False, **keywords)


def test_bad_inputs_raise_the_core_errors_at_call():
    with pytest.raises(ValueError, match=r"num_pairs 5 is out of range.*C // 2 = 4"):
        WedgeDropout2d(num_pairs=5)(feature_maps((4, 8, 5, 5)))
    with pytest.raises(TypeError, match=r"real floating dtype.*int64"):
        WedgeDropout2d()(torch.zeros((4, 8, 5, 5), dtype=torch.int64))
    with pytest.raises(ValueError, match=r"at least 2 channels.*C = 1"):
        WedgeDropout1d()(torch.zeros(4, 1, 5))
    with pytest.raises(ValueError, match=r"at least 3 dimensions.*\(4, 8\)"):
        wedge_dropout(torch.zeros(4, 8))
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'p'"):
        wedge_dropout(torch.zeros(4, 8, 5), p=0.5)


@pytest.mark.parametrize(
    ("x", "channel_axis"),
    [
        (feature_maps((4, 8, 6, 5)), 1),
        (feature_maps((4, 8, 6, 5)).permute(0, 2, 3, 1), -1),
        (feature_maps((4, 8, 3)), 1),
    ],
    ids=["heads", "channels-last", "1d"],
)
def test_functional_form_applies_the_core_on_any_layout(x, channel_axis):
    out = wedge_dropout(x, rate=0.5, generator=seeded(), channel_axis=channel_axis)
    perm = core_perm(8)
    assert torch.equal(out, wc.wedge_dropout(x, perm, rate=0.5, channel_axis=channel_axis))
    assert not torch.equal(out, x)
    assert wedge_dropout(x, training=False, rate=0.5) is x


def test_compiled_layer_is_one_graph_without_recompiles_and_draws_like_eager():
    torch._dynamo.reset()
    counters.clear()
    layer = WedgeDropout2d(rate=0.25)
    compiled = torch.compile(layer, fullgraph=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with torch._dynamo.config.patch(error_on_recompile=True):
            for step in range(3):
                x = feature_maps((4, 8, 5, 5), step).requires_grad_()
                torch.manual_seed(step)
                out = compiled(x)
                out.sum().backward()
                torch.manual_seed(step)
                keep = wc.wedge_mask(x.detach(), torch.randperm(8), rate=0.25)
                assert torch.equal(out, x * keep)
                assert torch.equal(x.grad, keep.expand_as(x))
                assert torch.equal(layer.last_drop_fraction, wc.drop_fraction(keep))
    assert counters["stats"]["unique_graphs"] == 1
    assert dict(counters["graph_break"]) == {}
    assert not [w for w in caught if "lru_cache" in str(w.message)]
    for batch in (3, 5, 6):
        assert compiled(feature_maps((batch, 8, 5, 5))).shape == (batch, 8, 5, 5)
    assert counters["stats"]["unique_graphs"] == 2


def test_compiling_with_a_generator_breaks_the_graph_at_the_draw():
    torch._dynamo.reset()
    counters.clear()
    x = feature_maps((4, 8, 5, 5))
    compiled = torch.compile(WedgeDropout2d(rate=0.5, generator=seeded()))
    assert torch.equal(compiled(x), wc.wedge_dropout(x, core_perm(8), rate=0.5))
    (reason,) = counters["graph_break"]
    assert "UserDefinedObjectVariable(Generator)" in reason


def test_autocast_bfloat16_keeps_the_input_dtype_and_scores_in_float32():
    conv = nn.Conv2d(3, 8, 3)
    x = torch.randn(4, 3, 7, 7)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        maps = conv(x)
        out = WedgeDropout2d(rate=0.5, generator=seeded())(maps)
        full = WedgeDropout2d(rate=0.5, generator=seeded())(x)
    assert maps.dtype == out.dtype == torch.bfloat16
    keep = wc.wedge_mask(maps.float(), core_perm(8), rate=0.5)
    assert torch.equal(out, maps * keep.to(torch.bfloat16))
    assert full.dtype == torch.float32
    assert torch.equal(full, wc.wedge_dropout(x, core_perm(3), rate=0.5))


@pytest.mark.parametrize(
    ("layer_class", "shape", "memory_format"),
    [
        (WedgeDropout2d, (4, 8, 5, 5), torch.channels_last),
        (WedgeDropout3d, (4, 8, 3, 4, 4), torch.channels_last_3d),
    ],
)
def test_channels_last_memory_format_is_kept(layer_class, shape, memory_format):
    x = feature_maps(shape).contiguous(memory_format=memory_format)
    out = layer_class(rate=0.5, generator=seeded())(x)
    assert out.is_contiguous(memory_format=memory_format)
    assert torch.equal(out, wc.wedge_dropout(x, core_perm(8), rate=0.5))


@cuda
def test_cuda_runs_on_the_device_without_a_host_sync():
    x = feature_maps((4, 8, 5, 5)).cuda().requires_grad_()
    layer = WedgeDropout2d(rate=0.5, generator=seeded(device="cuda"))
    torch.cuda.set_sync_debug_mode("error")
    try:
        out = layer(x)
        out.sum().backward()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert out.device == layer.last_drop_fraction.device == x.device
    keep = wc.wedge_mask(x.detach(), core_perm(8, device="cuda"), rate=0.5)
    assert torch.equal(out, x * keep)
    assert torch.equal(x.grad, keep.expand_as(x))


@cuda
def test_cuda_autocast_float16():
    conv = nn.Conv2d(3, 8, 3).cuda()
    with torch.autocast("cuda", dtype=torch.float16):
        maps = conv(torch.randn(4, 3, 7, 7, device="cuda"))
        out = WedgeDropout2d(rate=0.5, generator=seeded(device="cuda"))(maps)
    assert maps.dtype == out.dtype == torch.float16
    keep = wc.wedge_mask(maps.float(), core_perm(8, device="cuda"), rate=0.5)
    assert torch.equal(out, maps * keep.half())


def small_cnn(layer):
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        layer,
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 2),
    )


def exported_ops(model, x):
    program = torch.export.export(model.eval(), (x,))
    return [str(node.target) for node in program.graph.nodes if node.op == "call_function"]


def test_export_in_eval_mode_leaves_no_trace_of_the_layer():
    x = torch.randn(2, 3, 8, 8)
    ops = exported_ops(small_cnn(WedgeDropout2d()), x)
    assert ops == exported_ops(small_cnn(nn.Identity()), x)
    assert "aten.conv2d.default" in ops
    program = torch.export.export(small_cnn(WedgeDropout2d()).eval(), (x,))
    assert torch.equal(program.module()(x), small_cnn(nn.Identity()).eval()(x))


def test_onnx_export_in_eval_mode_leaves_no_trace_of_the_layer():
    pytest.importorskip("onnxscript", reason="the adapter-torch nox session installs onnxscript")
    x = torch.randn(2, 3, 8, 8)
    op_types = [
        [node.op_type for node in torch.onnx.export(model.eval(), (x,)).model_proto.graph.node]
        for model in (small_cnn(WedgeDropout2d()), small_cnn(nn.Identity()))
    ]
    assert op_types[0] == op_types[1]
    assert "Conv" in op_types[0]


def test_a_small_cnn_trains_with_the_layer_before_the_pooling():
    model = small_cnn(WedgeDropout2d(rate=0.25))
    generator = seeded()
    labels = torch.arange(64) % 2
    images = torch.randn(64, 3, 8, 8, generator=generator) + labels.view(-1, 1, 1, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(15):
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        assert model[3].last_drop_fraction.item() == 0.25
    assert losses[-1] < 0.5 * losses[0]
    reference = small_cnn(nn.Identity())
    reference.load_state_dict(model.state_dict())
    assert torch.equal(model.eval()(images), reference.eval()(images))


def test_readme_pytorch_example_runs():
    (block,) = python_blocks("README.md", "PyTorch")
    namespace = run_block(block, "README PyTorch example")
    assert namespace["logits"].shape == (16, 10)
    assert namespace["model"][2].last_drop_fraction.item() == 0.25


def test_docs_torch_examples_run():
    blocks = python_blocks("docs/torch.md")
    assert len(blocks) == 6
    namespaces = [run_block(block, f"docs/torch.md block {i}") for i, block in enumerate(blocks)]
    assert namespaces[0]["model"][3].last_drop_fraction is not None
    assert namespaces[2]["layer"].last_drop_fraction.item() == 0.25
    assert namespaces[4]["out"].shape == (8, 16, 1, 1)
    assert namespaces[5]["same"] is namespaces[5]["attention"]
    assert not torch.equal(namespaces[5]["out"], namespaces[5]["attention"])
