"""The Vision Transformer's layers around the encoder: Image to sequence, Class token,
Select step, and the encoder's LayerNorm eps. Shapes, the errors a learner meets, what
they compute, a drawn ViT through the project file and the .py export."""
from __future__ import annotations

import pytest
import torch

from studio.graph.builder import sequential
from studio.graph.codegen import check_source, generate
from studio.graph.compile import build_module, compile_graph, example_inputs
from studio.graph.spec import Shape
from studio.project.file import dumps, loads
from studio.project.model import Project
from tests.graph.test_graph_codegen_blocks import load

IMG = {"kind": "image", "channels": 3, "height": 4, "width": 5}
SEQ = {"kind": "sequence", "length": 6, "features": 8}
VEC = {"kind": "vector", "features": 8}
MSE = {"loss": "mse", "task": "regression"}


def one(type_: str, params: dict, inp: dict):
    m, (_, nid, _) = sequential([(type_, params)], inp, MSE)
    return m, nid


def module(m, nid):
    return build_module(m.type_of(nid), m.params(nid), m.shapes.info[nid].inputs)


def test_image_to_sequence_makes_each_pixel_a_step_row_by_row():
    m, nid = one("ImageToSequence", {}, IMG)
    assert m.shapes.out(nid) == Shape((20, 3), seq=True)
    x = torch.randn(2, 3, 4, 5)
    y = module(m, nid)(x)
    assert torch.equal(y[:, 7], x[:, :, 1, 2])  # step 7 = row 1, column 2
    for inp in (SEQ, VEC):
        m, nid = one("ImageToSequence", {}, inp)
        assert "needs an image C×H×W" in m.shapes.error(nid)


def test_class_token_puts_one_learned_step_first():
    m, nid = one("ClassToken", {}, SEQ)
    assert m.shapes.out(nid) == Shape((7, 8), seq=True)
    mod = module(m, nid)
    assert [(k, tuple(v.shape)) for k, v in mod.state_dict().items()] == [("class_token", (1, 1, 8))]
    assert m.shapes.info[nid].weights == 8
    with torch.no_grad():
        mod.class_token.normal_()
    x = torch.randn(3, 6, 8)
    y = mod(x)
    assert torch.equal(y[:, 1:], x) and all(torch.equal(y[i, 0], mod.class_token[0, 0]) for i in range(3))
    for inp, words in ((IMG, "Image rows"), (VEC, "needs a sequence T×F, got 8")):
        m, nid = one("ClassToken", {}, inp)
        assert "Class token" in m.shapes.error(nid) and words in m.shapes.error(nid)


@pytest.mark.parametrize("step", [0, 3, -1, -6])
def test_select_step_passes_on_one_step(step):
    m, nid = one("SelectStep", {"step": step}, SEQ)
    assert m.shapes.out(nid) == Shape((8,))
    x = torch.randn(2, 6, 8)
    assert torch.equal(module(m, nid)(x), x[:, step])


@pytest.mark.parametrize("step", [6, -7])
def test_select_step_outside_the_sequence_says_which_steps_exist(step):
    m, nid = one("SelectStep", {"step": step}, SEQ)
    err = m.shapes.error(nid)
    assert f"Select step {step} does not exist in a sequence of 6 steps" in err and "0 to 5" in err \
        and "-1 to -6" in err


def test_encoder_norm_eps_reaches_torch_and_the_code_only_when_not_the_default():
    params = dict(nhead=2, num_layers=1, norm_first=True, activation="gelu")
    m, nid = one("TransformerEncoder", dict(params, eps=1e-6), SEQ)
    layer = module(m, nid).encoder.layers[0]
    assert layer.norm1.eps == layer.norm2.eps == 1e-6
    assert "layer_norm_eps=1e-06" in generate(m)
    m, nid = one("TransformerEncoder", params, SEQ)
    assert module(m, nid).encoder.layers[0].norm1.eps == 1e-5 and "layer_norm_eps=1e-" not in generate(m)
    with pytest.raises(ValueError, match="eps must be at least"):
        m.set_param(nid, "eps", 0.0)


def tiny_vit():
    """A Vision Transformer drawn from the palette: 8×8 image, 4×4 patches, one class token."""
    return sequential([("Conv2d", {"out_channels": 8, "kernel_size": 4, "stride": 4}), ("ImageToSequence", {}),
                       ("ClassToken", {}), ("PositionalEncoding", {"max_len": 5}),
                       ("TransformerEncoder", {"nhead": 2, "dim_feedforward": 16, "num_layers": 2, "dropout": 0.0,
                                               "activation": "gelu", "norm_first": True, "eps": 1e-6}),
                       ("LayerNorm", {"eps": 1e-6}), ("SelectStep", {}), ("Linear", {"out_features": 3})],
                      {"kind": "image", "channels": 3, "height": 8, "width": 8})[0]


def test_a_drawn_vit_round_trips_through_the_project_file_and_the_python_export():
    m = tiny_vit()
    assert all(m.shapes.error(n) is None for n in m.nodes())
    again = loads(dumps(Project(model=m, name="vit"))).model
    assert again.snapshot() == m.snapshot()
    torch.manual_seed(0)
    gm = compile_graph(m).eval()
    with torch.no_grad():
        for p in gm.parameters():  # the class token starts at zero: make it count
            p.add_(torch.randn_like(p) * 0.1)
    src = generate(m)
    check_source(src, m)
    assert "class ClassToken" in src and "class SelectStep" in src and "class ImageToSequence" in src
    back = compile_graph(again).eval()
    back.load_state_dict(gm.state_dict(), strict=True)
    net = load(src)["StudioModel"]().eval()
    net.load_state_dict(gm.state_dict(), strict=True)
    x = example_inputs(m, batch=3)
    with torch.no_grad():
        want = gm(*x)
        assert torch.equal(back(*x), want) and torch.equal(net(*x), want)
