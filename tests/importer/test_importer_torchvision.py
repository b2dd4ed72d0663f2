"""torchvision models import as catalogue layers with their weights: equal
parameter counts, equal outputs, and a round trip through the .py export."""
from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from studio.cli.main import main
from studio.graph.blocks import walk
from studio.importer import compiled_with_weights, import_model


def _random_stats(model: torch.nn.Module) -> None:
    """BatchNorm statistics off their defaults, so an import that dropped them shows."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)


def test_resnet18_parameter_count_is_torchvisions():
    r = import_model("torchvision:resnet18", meta=True)
    assert r.weights == 11_689_512
    types = {g.type_of(n) for g, n, _ in walk(r.project.model)}
    assert "Opaque" not in types and {"Conv2d", "BatchNorm2d", "Add", "Flatten", "Linear"} <= types


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small", "mnasnet0_5",  # MNASNet: versioned state
                                  "densenet121"])  # concatenations inside blocks
def test_outputs_match_torchvision(name, tmp_path):
    from torchvision import models
    torch.manual_seed(0)
    ref = models.get_model(name, num_classes=7).eval()
    _random_stats(ref)
    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, str(tmp_path / "w.safetensors"))
    r = import_model(f"torchvision:{name}", num_classes=7, weights=tmp_path / "w.safetensors",
                     input="image:3,64,64")
    assert not r.opaque
    gm = compiled_with_weights(r)
    assert sum(p.numel() for p in gm.parameters()) == sum(p.numel() for p in ref.parameters()) == r.weights
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        want, got = ref(x), gm(x)
    assert want.abs().max() > 0.01
    assert (want - got).abs().max().item() <= 1e-5


def test_convnext_tiny_imports_without_opaque_nodes():
    r = import_model("torchvision:convnext_tiny", meta=True)
    assert not r.opaque and r.weights == 28_589_128
    types = [g.type_of(n) for g, n, _ in walk(r.project.model)]
    assert types.count("LayerScale") == types.count("StochasticDepth") == 18 and types.count("Permute") == 36
    # The residual skip runs straight on a row of its own (input -> add -> output), the branch
    # it jumps on the row below, so no card hides it.
    cn = r.project.model.body("features").body("features_1").body("features_1_0")
    y = {n: cn.pos(n)[1] for n in cn.nodes()}
    assert y["input"] == y["add"] == y["output"] < min(y["block"], y["layer_scale"], y["stochastic_depth"])
    assert cn.pos("input")[0] < cn.pos("block")[0] < cn.pos("stochastic_depth")[0] < cn.pos("add")[0]


def test_convnext_blocks_are_layers_with_torchvisions_outputs(tmp_path):
    """ConvNeXt's LayerNorm2d imports as LayerNorm2d, and each CNBlock as a depthwise
    convolution, Permute, LayerNorm, two per-position Linears, Permute and LayerScale (its
    layer_scale Parameter); the outputs match torchvision's."""
    from torchvision import models
    torch.manual_seed(0)
    ref = models.get_model("convnext_tiny", num_classes=5).eval()
    with torch.no_grad():
        for name, p in ref.named_parameters():  # not the 1/0 and 1e-6 starts, so a mix-up would show
            if name.endswith(("norm.weight", "norm.bias", "layer_scale", "block.2.weight", "block.2.bias")) \
                    or ".0.1." in name or "classifier.0" in name:
                p.copy_(torch.randn_like(p))
    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, str(tmp_path / "w.safetensors"))
    r = import_model("torchvision:convnext_tiny", num_classes=5, weights=tmp_path / "w.safetensors",
                     input="image:3,32,32")
    assert not r.opaque
    types = [g.type_of(n) for g, n, _ in walk(r.project.model)]
    assert types.count("LayerNorm2d") == 5 and types.count("LayerScale") == 18
    gm = compiled_with_weights(r)
    assert sum(p.numel() for p in gm.parameters()) == sum(p.numel() for p in ref.parameters())
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        want, got = ref(x), gm(x)
    assert want.abs().max() > 0.01
    assert (want - got).abs().max().item() <= 1e-5 * max(1.0, want.abs().max().item()), (want - got).abs().max()


def test_mobilenet_uses_the_new_layers():
    r = import_model("torchvision:mobilenet_v3_small", meta=True)
    types = {g.type_of(n) for g, n, _ in walk(r.project.model)}
    assert {"Hardswish", "Hardsigmoid", "Mul", "Dropout", "Block"} <= types
    depthwise = [n for g, n, _ in walk(r.project.model) if g.type_of(n) == "Conv2d" and g.params(n)["groups"] > 1]
    assert depthwise


def test_round_trip_through_python_export(tmp_path, capsys):
    proj, gen = tmp_path / "r18.studio.json", tmp_path / "r18.py"
    assert main(["import", "torchvision:resnet18", "--num-classes", "5", "--input", "image:3,32,32",
                 "-o", str(proj)]) == 0
    weights = tmp_path / "r18.weights.safetensors"
    assert weights.exists()
    assert main(["export", str(proj), "--weights", str(weights), "--format", "python", "--raw-model",
                 "--no-parity", "-o", str(gen)]) == 0
    capsys.readouterr()
    from studio.project.file import load
    first = load(proj).model
    again = import_model(f"{gen}:StudioModel", weights=tmp_path / "r18.safetensors", input="image:3,32,32")
    second = again.project.model

    def strip(snap):  # types, params, insides and wiring; not positions or wire ids
        return ({n: (t[0], t[1]) + ((strip(t[3]),) if len(t) > 3 else ()) for n, t in snap["nodes"].items()},
                sorted(e[:4] for e in snap["edges"].values()))
    assert second.of_type("Block") and strip(first.snapshot()) == strip(second.snapshot())
    names = lambda m: sorted(m.params(b)["name"] for b in m.of_type("Block"))  # noqa: E731
    assert names(second) == names(first)
    from studio.train.weights import load_weights
    from studio.graph.compile import compile_graph
    a = compile_graph(first)
    load_weights(a, weights)
    b = compiled_with_weights(again)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert (a.eval()(x) - b(x)).abs().max().item() <= 1e-5


def test_shufflenet_imports_without_opaque_nodes(tmp_path):
    """ShuffleNetV2's channel_shuffle() becomes ChannelShuffle and its x.chunk(2, dim=1) two
    ChannelChunk layers, so no block stays opaque; outputs and weights match torchvision's."""
    from torchvision import models
    torch.manual_seed(0)
    ref = models.get_model("shufflenet_v2_x0_5", num_classes=5).eval()
    _random_stats(ref)
    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, str(tmp_path / "w.safetensors"))
    r = import_model("torchvision:shufflenet_v2_x0_5", num_classes=5, weights=tmp_path / "w.safetensors",
                     input="image:3,64,64")
    assert not r.opaque
    layers = [(g.type_of(n), g.params(n)) for g, n, _ in walk(r.project.model)]
    assert {p["groups"] for t, p in layers if t == "ChannelShuffle"} == {2}
    assert sorted((p["chunks"], p["part"]) for t, p in layers if t == "ChannelChunk") == [(2, 0)] * 3 + [(2, 1)] * 3
    gm = compiled_with_weights(r)
    assert sum(p.numel() for p in gm.parameters()) == sum(p.numel() for p in ref.parameters()) == r.weights
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        want, got = ref(x), gm(x)
    assert want.abs().max() > 0.01
    assert (want - got).abs().max().item() <= 1e-5


def test_shufflenet_round_trips_through_python_export(tmp_path, capsys):
    """The exported .py uses nn.ChannelShuffle and Studio's ChannelChunk; it imports back layer for layer."""
    proj, gen = tmp_path / "s.studio.json", tmp_path / "s.py"
    assert main(["import", "torchvision:shufflenet_v2_x0_5", "--num-classes", "4", "--input", "image:3,32,32",
                 "-o", str(proj)]) == 0
    weights = tmp_path / "s.weights.safetensors"
    assert main(["export", str(proj), "--weights", str(weights), "--format", "python", "--raw-model",
                 "--no-parity", "-o", str(gen)]) == 0
    capsys.readouterr()
    assert "nn.ChannelShuffle(groups=2)" in gen.read_text() and "class ChannelChunk" in gen.read_text()
    from studio.project.file import load
    first = load(proj).model
    again = import_model(f"{gen}:StudioModel", weights=tmp_path / "s.safetensors", input="image:3,32,32")
    assert not again.opaque

    def strip(snap):  # types, params, insides and wiring; not positions or wire ids
        return ({n: (t[0], t[1]) + ((strip(t[3]),) if len(t) > 3 else ()) for n, t in snap["nodes"].items()},
                sorted(e[:4] for e in snap["edges"].values()))
    assert strip(first.snapshot()) == strip(again.project.model.snapshot())
