"""Round trip through code: a network with blocks → `studio export --format python` →
`studio import net.py:StudioModel` → the same layers with the same parameters and
weights, and the same outputs."""
from __future__ import annotations

import sys

import pytest
import torch
from safetensors.torch import save_file

from studio.cli.main import main
from studio.graph.compile import compile_graph, example_inputs
from studio.graph.layers import spec
from studio.project.file import load, save
from studio.project.model import Project
from studio.train.weights import load_weights
from tests.graph.block_specimens import shared_names

from .test_export_blocks import block_project, trained

ENDS = ("Input", "Output", "BlockInput", "BlockOutput")


def layers(model, prefix: str = "") -> dict[str, tuple[str, dict]]:
    """Every layer with its module path (blocks opened, each repeated copy on its own) and
    the constructor arguments its parameters resolve to (MaxPool2d's stride 0 means "the
    kernel size", which an import reads back as that number), so a graph with blocks and
    the same network flattened compare equal."""
    out = {}
    for n in model.nodes():
        t, p = model.type_of(n), model.params(n)
        if t == "Block":
            copies = [f"{prefix}{n}.{i}." for i in range(p["repeat"])] if p["repeat"] > 1 else [f"{prefix}{n}."]
            for c in copies:
                out.update(layers(model.body(n), c))
        elif t not in ENDS:
            out[f"{prefix}{n}"] = (t, spec(t).ctor(p, list(model.shapes.info[n].inputs)).kwargs)
    return out


def round_trip(project: Project, model: torch.nn.Module, input_spec: str, tmp_path, capsys):
    save(project, tmp_path / "p.studio.json")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / "w.safetensors"))
    code = main(["export", str(tmp_path / "p.studio.json"), "--weights", str(tmp_path / "w.safetensors"),
                 "--format", "python", "--raw-model", "--no-parity", "-o", str(tmp_path / "net.py")])
    assert code == 0, capsys.readouterr()
    code = main(["import", f"{tmp_path / 'net.py'}:StudioModel", "--weights", str(tmp_path / "net.safetensors"),
                 "--input", input_spec, "-o", str(tmp_path / "back.studio.json")])
    assert code == 0, capsys.readouterr()
    back = load(tmp_path / "back.studio.json")
    net = compile_graph(back.model)
    load_weights(net, str(tmp_path / "back.weights.safetensors"))
    return back, net.eval()


def same_network_back(project: Project, model: torch.nn.Module, input_spec: str, tmp_path, capsys):
    """Export as .py, import it back: the same layers (module paths, types, parameters) and
    the same outputs. Returns the imported project and network for further checks."""
    back, net = round_trip(project, model, input_spec, tmp_path, capsys)
    want = {path.replace(".", "_"): v for path, v in layers(project.model).items()}
    got = {path.replace(".", "_"): v for path, v in layers(back.model).items()}
    assert got == want
    x = example_inputs(project.model, batch=3)
    with torch.no_grad():
        torch.testing.assert_close(net(*x), model(*x), atol=1e-5, rtol=0)
    return back, net, want


CASES = {"nested_repeats": (block_project, "image:3,8,8"), "shared_classes": (shared_names, "vector:12")}


@pytest.mark.parametrize("case", list(CASES))
def test_export_python_then_import_gives_the_same_network(case, tmp_path, capsys):
    make, spec = CASES[case]
    made = make()
    project = made if isinstance(made, Project) else Project(model=made, name=case)
    model = trained(project)
    back, net, want = same_network_back(project, model, spec, tmp_path, capsys)
    assert len(want) > 5  # and the same inputs and number of weights
    assert [back.model.params(n) for n in back.model.inputs()] == [project.model.params(n)
                                                                    for n in project.model.inputs()]
    assert back.model.shapes.totals()[0] == project.model.shapes.totals()[0]
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in model.parameters())


def tree(model) -> dict:
    """The graph level by level: layers by id with their constructor arguments, blocks by id
    with their name, repeat and inside (the ends, whose ids an import picks, left out)."""
    out = {}
    for n in model.nodes():
        t, p = model.type_of(n), model.params(n)
        if t == "Block":
            out[n] = (t, p["name"], p["repeat"], tree(model.body(n)))
        elif t not in ENDS:
            out[n] = (t, spec(t).ctor(p, list(model.shapes.info[n].inputs)).kwargs)
    return out


def test_blocks_come_back_as_the_same_blocks(tmp_path, capsys):
    """The importer maps each torch submodule of 3 or more layers to a block, so the generated
    block classes (and the nn.Sequential of a repeat) import as the blocks they came from."""
    project = block_project()
    model = trained(project)
    back, net = round_trip(project, model, "image:3,8,8", tmp_path, capsys)
    assert tree(back.model) == tree(project.model)
    assert set(net.state_dict()) == set(model.state_dict())  # so the weights map one to one
    x = example_inputs(project.model, batch=3)
    with torch.no_grad():
        torch.testing.assert_close(net(*x), model(*x), atol=1e-5, rtol=0)


def block_names(model, prefix: str = "") -> dict[str, str]:
    """Each block's name by the module path of (its first copy of) its class."""
    out = {}
    for n in model.nodes():
        if model.type_of(n) == "Block":
            path = f"{prefix}{n}.0" if model.params(n)["repeat"] > 1 else f"{prefix}{n}"
            out[path] = model.params(n)["name"]
            out.update(block_names(model.body(n), f"{path}."))
    return out


def test_imported_resnet18_round_trips_through_its_python_export(tmp_path, capsys):
    """torchvision's resnet18 imported with its blocks, exported as code and imported again:
    the same layers, blocks, repeats and weights. Each generated class names its block as
    given (its own name, or `block_name` where the class is numbered: BasicBlock_2)."""
    from studio.importer import import_model
    from studio.train.export_files import import_export
    from studio.train.export_wrap import info_for
    first = import_model("torchvision:resnet18", input="image:3,32,32", num_classes=5)
    model = compile_graph(first.project.model)
    model.load_state_dict(first.state, strict=True)
    back, net = round_trip(first.project, model.eval(), "image:3,32,32", tmp_path, capsys)
    names = block_names(first.project.model)
    assert len(names) >= 8 and "BasicBlock" in names.values()
    generated = import_export(tmp_path / "net.py", back.model, info_for(first.project, None, "raw"))
    try:
        gen = generated.StudioModel()
        classes = {path: type(gen.get_submodule(path)) for path in names}
    finally:
        sys.modules.pop(generated.__name__, None)
    assert {path: getattr(c, "block_name", c.__name__) for path, c in classes.items()} == names
    assert len({c.__name__ for c in classes.values()}) == len(set(classes.values()))  # unique class names
    # The blocks come back named as given where the importer reads `block_name`, else after their classes.
    assert block_names(back.model) in (names, {path: c.__name__ for path, c in classes.items()})
    strip = lambda t: {k: (v[0], v[2], strip(v[3])) if v[0] == "Block" else v for k, v in t.items()}  # noqa: E731
    assert strip(tree(back.model)) == strip(tree(first.project.model))  # names aside (above)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(net(x), model(x), atol=1e-5, rtol=1e-5)
