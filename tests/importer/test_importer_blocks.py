"""Imports are structured by the torch module tree: a block per submodule that
takes one tensor and gives one, local names inside, identical consecutive blocks
as one repeated block, weights named to match, and --flat for the old graph."""
from __future__ import annotations

import json
import textwrap

import pytest
import torch
from safetensors.torch import save_file

from studio.cli.main import main
from studio.graph.blocks import walk
from studio.importer import compiled_with_weights, import_model

RESNET_TOP = ["x", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool",
              "flatten", "fc", "output"]


def test_resnet18_opens_as_a_dozen_nodes_with_eight_basic_blocks():
    r = import_model("torchvision:resnet18", meta=True)
    m = r.project.model
    assert m.nodes() == RESNET_TOP
    assert r.weights == 11_689_512
    assert (m.params("layer1")["name"], m.params("layer1")["repeat"]) == ("BasicBlock", 2)
    basic = sum(g.params(n)["repeat"] for g, n, _ in walk(m)
                if g.type_of(n) == "Block" and g.params(n)["name"] == "BasicBlock")
    assert basic == 8
    for k in (2, 3, 4):
        assert m.params(f"layer{k}")["name"] == f"layer{k}"
        assert [n for n in m.body(f"layer{k}").nodes()] == ["input", f"layer{k}_0", f"layer{k}_1", "output"]
    inner = m.body("layer2").body("layer2_0")
    assert sorted(inner.nodes()) == sorted(["input", "conv1", "bn1", "relu", "conv2", "bn2", "downsample_0",
                                            "downsample_1", "add", "relu_1", "output"])
    assert r.converted.node_of["layer2.0.downsample.0"] == "layer2.layer2_0.downsample_0"
    assert r.converted.node_of["layer1.1"] == "layer1.1"
    assert "10 blocks, 13 nodes at the top" in r.summary() and "69 layers" in r.summary()
    g, nid = r.locate("layer1.1.conv1")  # the second copy of the repeated block: its one node
    assert g is m.body("layer1") and nid == "conv1"
    assert r.locate("layer3.1") == (m.body("layer3"), "layer3_1") and r.locate("fc") == (m, "fc")


def test_opaque_on_request_inside_a_block():
    r = import_model("torchvision:resnet18", meta=True, opaque_paths=["layer4.1"])
    assert r.opaque == {"layer4.layer4_1": "kept opaque on request"}
    g, nid = r.locate("layer4.1")
    assert g.type_of(nid) == "Opaque" and g.params(nid)["path"] == "layer4.1"
    assert r.weights == 11_689_512


@pytest.fixture(scope="module")
def resnet18_weights(tmp_path_factory):
    from torchvision import models
    torch.manual_seed(0)
    ref = models.resnet18(num_classes=6).eval()
    with torch.no_grad():
        for mod in ref.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
    path = tmp_path_factory.mktemp("w") / "r18.safetensors"
    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, str(path))
    return ref, path


def test_resnet18_blocks_match_torchvision_weight_by_weight(resnet18_weights):
    ref, path = resnet18_weights
    r = import_model("torchvision:resnet18", num_classes=6, weights=path, input="image:3,48,48")
    gm = compiled_with_weights(r)  # strict: the names match the nested modules exactly
    assert set(gm.state_dict()) == set(r.state)
    assert {"layer1.0.conv1.weight", "layer1.1.bn2.running_var", "layer2.layer2_0.downsample_0.weight",
            "layer4.layer4_1.conv2.weight", "fc.bias"} <= set(r.state)
    own = ref.state_dict()
    assert len(own) == len(r.state)  # no weight lost
    for k, v in own.items():
        module, _, name = k.rpartition(".")
        assert torch.equal(r.state[f"{r.converted.node_of[module]}.{name}"], v), k
    assert sum(p.numel() for p in gm.parameters()) == sum(p.numel() for p in ref.parameters())
    x = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        assert (gm(x) - ref(x)).abs().max().item() <= 1e-5


def test_flat_gives_the_old_graph(resnet18_weights, tmp_path, capsys):
    _, path = resnet18_weights
    proj = tmp_path / "flat.studio.json"
    assert main(["import", "torchvision:resnet18", "--num-classes", "6", "--weights", str(path), "--input",
                 "image:3,32,32", "--flat", "-o", str(proj)]) == 0
    assert "blocks" not in capsys.readouterr().out
    nodes = json.loads(proj.read_text())["graph"]["nodes"]
    assert len(nodes) == 71 and not any(n["type"] == "Block" for n in nodes)
    assert {"layer1_0_conv1", "layer4_1_relu_1", "add_7", "fc"} <= {n["id"] for n in nodes}
    from safetensors.torch import load_file
    assert "layer2_0_downsample_0.weight" in load_file(str(tmp_path / "flat.weights.safetensors"))


USER = textwrap.dedent('''
    import torch
    from torch import nn


    class Gate(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.scale = nn.Parameter(torch.full((c, 1, 1), 0.5))

        def forward(self, x):
            return x * torch.sigmoid(self.scale)


    class Stem(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.gate = Gate(8)

        def forward(self, x):
            return torch.relu(self.gate(self.bn(self.conv(x))))


    class Res(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv = nn.Conv2d(c, c, 3, padding=1)
            self.bn = nn.BatchNorm2d(c)

        def forward(self, x):
            return x + self.bn(self.conv(x))


    class Split(nn.Module):
        """Gives two tensors: not a block."""
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(8, 8, 1)
            self.b = nn.Conv2d(8, 8, 1)

        def forward(self, x):
            return self.a(x), torch.relu(self.b(x))


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = Stem()
            self.trunk = nn.Sequential(Res(8), Res(8), Res(8))
            self.split = Split()
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            p, q = self.split(self.trunk(self.stem(x)))
            return self.fc(torch.flatten(torch.mean(p + q, dim=(2, 3), keepdim=True), 1))
''')


def test_custom_submodules_become_blocks(tmp_path, capsys):
    (tmp_path / "net.py").write_text(USER)
    r = import_model(f"{tmp_path / 'net.py'}:Net", input="image:3,8,8")
    m = r.project.model
    assert m.type_of("stem") == "Block" and m.params("stem")["name"] == "Stem"
    assert sorted(m.body("stem").nodes()) == ["bn", "conv", "gate", "input", "output", "relu"]
    assert (m.params("trunk")["name"], m.params("trunk")["repeat"]) == ("Res", 3)
    assert sorted(m.body("trunk").nodes()) == ["add", "bn", "conv", "input", "output"]
    assert {"split_a", "split_b", "split_relu"} <= set(m.nodes())  # two tensors out: kept flat
    assert r.converted.flat == ["split"] and "1 submodule kept flat" in r.summary()
    assert main(["import", f"{tmp_path / 'net.py'}:Net", "--input", "image:3,8,8",
                 "-o", str(tmp_path / "n.studio.json")]) == 0
    assert "  kept flat: split\n" in capsys.readouterr().out
    assert r.opaque == {"stem.gate": r.opaque["stem.gate"]}  # an opaque node inside a block
    assert m.body("stem").params("gate")["path"] == "stem.gate"
    assert {"stem.conv.weight", "stem.gate.scale", "trunk.2.bn.running_mean", "split_a.weight"} <= set(r.state)
    gm = compiled_with_weights(r)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert (gm(x) - r.source.module.eval()(x)).abs().max() <= 1e-5


def test_modules_nested_deeper_than_blocks_may_nest_stay_inside_the_deepest_block(tmp_path):
    (tmp_path / "deep.py").write_text(textwrap.dedent('''
        from torch import nn

        class Deep(nn.Module):
            def __init__(self, n=10):
                super().__init__()
                self.a = nn.Linear(4, 4)
                self.inner = Deep(n - 1) if n else None
                self.b = nn.Tanh()

            def forward(self, x):
                x = self.a(x)
                if self.inner is not None:
                    x = self.inner(x)
                return self.b(x)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.deep = Deep()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                return self.fc(self.deep(x))
    '''))
    r = import_model(f"{tmp_path / 'deep.py'}:Net", input="vector:4")
    from studio.graph.model import MAX_DEPTH
    levels = max(p.count(".") for g, n, p in walk(r.project.model))
    assert levels == MAX_DEPTH - 1  # as deep as a project file may nest blocks, no deeper
    assert r.layers == 2 * 11 + 1
    x = torch.randn(3, 4)
    with torch.no_grad():
        assert (compiled_with_weights(r)(x) - r.source.module(x)).abs().max() <= 1e-6


@pytest.mark.parametrize("name,head", [("mobilenet_v3_small", "classifier_3"), ("vgg11", "classifier_6"),
                                       ("resnet18", "fc")])
def test_the_head_stays_at_the_top_for_set_to_n_classes(name, head):
    """A classifier Sequential is not made a block: the trainer's head check offers its
    one-click fix only for a Linear that feeds the Output directly."""
    from types import SimpleNamespace

    from studio.train.model_setup import SetupError, check_head
    r = import_model(f"torchvision:{name}", meta=True)
    m = r.project.model
    assert m.type_of(head) == "Linear" and m.in_edges("output")[0].src == head
    assert any(m.type_of(n) == "Block" for n in m.nodes())
    with pytest.raises(SetupError) as e:
        check_head(r.project, SimpleNamespace(name="CIFAR-10", task="classification", num_outputs=10))
    assert e.value.fix is not None and e.value.fix.node == head


def test_numbered_children_are_named_from_the_last_named_module():
    r = import_model("torchvision:mobilenet_v3_small", meta=True)
    ir = r.project.model.body("features").body("features_1")  # InvertedResidual: its `block` Sequential inline
    assert ir.type_of("block_0") == "Block" and ir.params("block_0")["name"] == "Conv2dNormActivation"
    assert ir.params("block_1")["name"] == "SqueezeExcitation"
    assert [n for n in ir.body("block_0").nodes() if n.startswith("block")] == ["block_0_0", "block_0_1", "block_0_2"]
    assert {"block_2_0", "block_2_1"} <= set(ir.nodes())  # a two-layer Sequential stays inline
