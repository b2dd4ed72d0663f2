"""Every layer type, as a compiled module and as generated standalone code.

The generated files run in one subprocess (plain `python`, no Studio import
needed), load the compiled module's weights from safetensors, and must give the
same outputs to 1e-5.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import save_file
from torch.utils.flop_counter import FlopCounterMode

from tests.graph.graph_specimens import all_specimens
from studio.graph.codegen import generate
from studio.graph.compile import build_module, compile_graph, example_inputs, node_module
from studio.graph.layers import LAYERS

SPECIMENS = all_specimens()

RUNNER = r'''
import importlib.util, json, sys
import torch
from safetensors.torch import load_file
torch.set_num_threads(1)
results = {}
for stem in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location(stem.rsplit("/", 1)[-1], stem + ".py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = mod.StudioModel()
    model.load_state_dict(load_file(stem + ".weights.safetensors"), strict=True)
    model.eval()
    io = load_file(stem + ".io.safetensors")
    ins = [io[f"in{i}"] for i in range(sum(k.startswith("in") for k in io))]
    with torch.no_grad():
        got = model(*ins)
    results[stem] = (got - io["expected"]).abs().max().item() if got.shape == io["expected"].shape \
        else f"shape {tuple(got.shape)} != {tuple(io['expected'].shape)}"
print(json.dumps(results))
'''


def test_specimens_cover_every_layer_type():
    seen = {type_ for _, m in SPECIMENS for type_ in _types(m)}
    assert seen == set(LAYERS)


def _types(m):
    """Every layer type in `m`, blocks' insides included."""
    for n in m.nodes():
        yield m.type_of(n)
        if m.type_of(n) == "Block":
            yield from _types(m.body(n))


def test_compiled_modules_match_inferred_shapes_and_generated_code(tmp_path):
    torch.manual_seed(0)
    stems = []
    for label, m in SPECIMENS:
        gm = compile_graph(m)
        x = example_inputs(m, batch=3)
        gm.train()
        gm(*x)  # move BatchNorm running statistics off their defaults
        gm.eval()
        with torch.no_grad():
            y = gm(*x)
        (out_node,) = [n for n in m.nodes() if m.type_of(n) == "Output"]
        assert tuple(y.shape[1:]) == m.shapes.out(out_node).dims, label
        weights = {k: v.contiguous() for k, v in gm.state_dict().items()}
        stem = tmp_path / label
        save_file(weights, f"{stem}.weights.safetensors")
        save_file({**{f"in{i}": t.clone() for i, t in enumerate(x)}, "expected": y.contiguous().clone()}, f"{stem}.io.safetensors")
        (tmp_path / f"{label}.py").write_text(generate(m, title=label), encoding="utf-8")
        stems.append(str(stem))
    proc = subprocess.run([sys.executable, "-c", RUNNER, *stems], capture_output=True, text=True,
                          timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    bad = {k.rsplit("/", 1)[-1]: v for k, v in results.items() if not (isinstance(v, float) and v <= 1e-5)}
    assert not bad, bad
    assert len(results) == len(SPECIMENS)


def test_generated_code_imports_only_torch():
    for label, m in SPECIMENS:
        src = generate(m)
        imports = {line.split()[1] for line in src.splitlines() if line.startswith(("import ", "from "))}
        assert imports <= {"torch"}, (label, imports)
        assert "studio" not in src.replace("Studio", ""), label


@pytest.mark.parametrize("label,m", SPECIMENS, ids=[s[0] for s in SPECIMENS])
def test_weight_count_equals_parameter_numel(label, m):
    for nid in m.nodes():
        info = m.shapes.info[nid]
        if LAYERS[m.type_of(nid)].ctor is None and m.type_of(nid) != "Block":
            assert info.weights == 0
            continue
        mod = node_module(m, nid)  # a block: its whole inside, ×repeat
        assert info.weights == sum(p.numel() for p in mod.parameters()), (label, nid)


def _flops(mod, x) -> int:
    with FlopCounterMode(display=False) as fc:
        mod(x)
    return fc.get_total_flops()


@pytest.mark.parametrize("params", [{"out_channels": 4}, {"out_channels": 6, "kernel_size": 5, "stride": 2,
                                                          "padding": 2}, {"out_channels": 3, "bias": False}])
def test_conv_mult_adds_match_torch_flop_counter(params):
    from tests.graph.graph_specimens import IMG, single
    m, (_, conv, _) = single(IMG, "Conv2d", params)
    info = m.shapes.info[conv]
    mod = build_module("Conv2d", m.params(conv), info.inputs)
    assert 2 * info.macs == _flops(mod, torch.randn(1, *info.inputs[0].dims))


@pytest.mark.parametrize("inp", ["VEC", "SEQ"])
def test_linear_mult_adds_match_torch_flop_counter(inp):
    from tests.graph import graph_specimens as gs
    m, (_, lin, _) = gs.single(getattr(gs, inp), "Linear", {"out_features": 9})
    info = m.shapes.info[lin]
    mod = build_module("Linear", m.params(lin), info.inputs)
    assert 2 * info.macs == _flops(mod, torch.randn(1, *info.inputs[0].dims))


def test_recurrent_mult_adds_by_hand():
    from tests.graph.graph_specimens import SEQ, single  # T=5, F=6
    for kind, gates in (("RNN", 1), ("LSTM", 4), ("GRU", 3)):
        m, (_, r, _) = single(SEQ, kind, {"hidden_size": 8, "num_layers": 2, "bidirectional": True})
        # layer 1: 2 directions × gates × (8·6 + 8·8) per step; layer 2 reads 16 features.
        expect = 5 * 2 * gates * ((8 * 6 + 64) + (8 * 16 + 64))
        assert m.shapes.info[r].macs == expect, kind


def test_pool_and_norm_mult_adds():
    from tests.graph.graph_specimens import IMG, single
    m, (_, n, _) = single(IMG, "AvgPool2d", {"kernel_size": 2})
    assert m.shapes.info[n].macs == 3 * 4 * 4 * 4
    m, (_, n, _) = single(IMG, "MaxPool2d", {})
    assert m.shapes.info[n].macs == 0
    m, (_, n, _) = single(IMG, "BatchNorm2d", {})
    assert m.shapes.info[n].macs == 2 * 3 * 8 * 8
