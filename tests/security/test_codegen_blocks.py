"""Blocks in the code export: a block's name from a project file never reaches the
generated module as code (it becomes a plain class name, a string literal and a comment
of printable characters), body node ids must be plain names, and check_source accepts
the block classes, their no-argument construction and the repeat form exactly, nothing more."""
from __future__ import annotations

import ast
import json
import subprocess
import sys

import networkx as nx
import pytest
from hypothesis import given, settings

from studio.graph.blocks import group
from studio.graph.codegen import CodegenError, check_source, generate
from studio.project.file import ProjectError, loads, save
from studio.train.export_files import TAIL_CONSTANTS
from tests.graph.block_specimens import nested, residual_x3, shared_names

from .kit import assert_one_error_line, cli, hostile_texts, tiny_project, weights_for
from .test_codegen_injection import TEXT


def _blocked_project(tmp_path, name: str, stem: str):
    """The spiral MLP with its middle layers in a block named `name`, repeated twice."""
    project, _ = tiny_project(tmp_path, stem)
    blk = group(project.model, ["linear2", "relu2"], name).block
    project.model.set_param(blk, "repeat", 2)
    return project, save(project, tmp_path / f"{stem}.studio.json")


def test_hostile_block_names_export_cleanly_and_never_run(tmp_path, capsys):
    marker = tmp_path / "MARKER"
    outs = []
    for i, text in enumerate(hostile_texts(marker)):
        project, path = _blocked_project(tmp_path, text, f"p{i}")
        nodes = json.loads(path.read_text(encoding="utf-8"))["graph"]["nodes"]
        assert [n["params"]["name"] for n in nodes if n["type"] == "Block"] == [text]  # in the file as is
        weights = weights_for(project, tmp_path / f"w{i}.safetensors")
        out = tmp_path / f"net{i}.py"
        code, stdout, err = cli(capsys, "export", path, "--weights", weights, "--format", "python", "-o", out)
        assert code == 0 and not err and "verified" in stdout[0], (text, stdout, err)
        assert not marker.exists(), f"code ran from the block name {text!r}"
        source = out.read_text(encoding="utf-8")
        tree = ast.parse(source)
        names = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
        assert len(names) == 2 and all(n.isidentifier() and n.isascii() for n in names), names
        # The text is in the module only as the block class's `block_name` literal (and comments).
        holders = [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
                   and n.value.value == text]
        assert [ast.unparse(h.targets[0]) for h in holders] == ["block_name"], text
        outs.append(str(out))
    runner = "import runpy, sys\nfor f in sys.argv[1:]:\n    runpy.run_path(f)"
    proc = subprocess.run([sys.executable, "-c", runner, *outs], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not marker.exists(), "importing an export ran code from a block's name"


@pytest.mark.parametrize("nid", ["a b", "a;import os", "x\n", "1a", "é", "self"])
def test_a_hostile_body_node_id_is_refused_at_load(nid):
    body = {"nodes": [{"id": "input", "type": "BlockInput"}, {"id": nid, "type": "ReLU"},
                      {"id": "output", "type": "BlockOutput"}],
            "edges": [{"id": "e1", "src": "input", "dst": nid}, {"id": "e2", "src": nid, "dst": "output"}]}
    graph = {"nodes": [{"id": "input1", "type": "Input", "params": {"kind": "vector", "features": 2}},
                       {"id": "block1", "type": "Block", "params": {"name": "B"}, "body": body},
                       {"id": "output1", "type": "Output"}],
             "edges": [{"id": "e1", "src": "input1", "dst": "block1"}, {"id": "e2", "src": "block1", "dst": "output1"}]}
    with pytest.raises(ProjectError):
        loads(json.dumps({"format": "studio.project", "version": 2, "graph": graph}))


@pytest.mark.parametrize("nid", ["a b", "a;import os", "x\n", "1a"])
def test_codegen_refuses_a_body_node_id_that_is_not_a_plain_name(nid):
    """Even a graph built past the loader's checks cannot put such an id in the source."""
    m = residual_x3()
    (blk,) = [n for n in m.nodes() if m.type_of(n) == "Block"]
    body = m.body(blk)
    nx.relabel_nodes(body.g, {"relu1": nid}, copy=False)
    with pytest.raises(CodegenError):
        generate(m)


def _nested_source() -> str:
    return generate(nested(), title="net")


TAMPERINGS = {
    "block class with a statement": ("class Res(nn.Module):\n", "class Res(nn.Module):\n    print('x')\n"),
    "block class with another base": ("class Res(nn.Module):", "class Res(print('x') or nn.Module):"),
    "block class called with an argument": ("= Unit()", "= Unit(print('x'))"),
    "block class called with a keyword": ("= Unit()", "= Unit(x=1)"),
    "repeated block called with an argument": ("[Res() for", "[Res(print('x')) for"),
    "repeat of a call that is not a block": ("[Res() for", "[print() for"),
    "repeat too many": ("range(2)", "range(65)"),
    "repeat count not a constant": ("range(2)", "range(len('ab'))"),
    "repeat with a condition": ("for _ in range(2)]", "for _ in range(2) if print()]"),
    "repeat over another iterable": ("for _ in range(2)]", "for _ in [print(), 1]]"),
    "repeat with a named loop variable": ("for _ in range(2)]", "for i in range(2)]"),
    "block used before its class": ("class Res(", "class Res("),  # the two block classes swapped, below
    "block class shadowing a builtin": ("Res", "range"),
    "block class shadowing the network": ("Res", "StudioModel"),
    "block class named like the imports": ("Res", "nn"),
    "block class defined twice": ("class Stage(nn.Module):", "class Res(nn.Module):\n    def __init__(self):\n"
                                  "        super().__init__()\n\n    def forward(self, x):\n        return x\n\n\n"
                                  "class Stage(nn.Module):"),
    "block forward with two inputs": ("def forward(self, input):", "def forward(self, input, extra):"),
    "annotation in a block forward": ("def forward(self, input):", "def forward(self, input: print('x')):"),
    "annotation in the network forward": ("def forward(self, input1):", "def forward(self, input1: print('x')):"),
    "annotation on __init__'s self": ("def __init__(self):", "def __init__(self: print('x')):"),
    "helper after a block class": ("class Res(nn.Module):", "class Add(nn.Module):\n    def forward(self, *xs):\n"
                                   "        out = xs[0]\n        for x in xs[1:]:\n            out = out + x\n"
                                   "        return out\n\n\nclass Res(nn.Module):"),
    "block_name not a string": ("    block_name = 'Unit'", "    block_name = print('x')"),
    "block_name an f-string": ("    block_name = 'Unit'", "    block_name = f'{print()}'"),
    "another class attribute": ("    block_name = 'Unit'", "    other = 'Unit'"),
    "block_name twice": ("    block_name = 'Unit'", "    block_name = 'Unit'\n    block_name = 'Unit'"),
    "block_name after __init__": ("    block_name = 'Unit'  # the block's name in Studio\n\n    def __init__(self):\n"
                                  "        super().__init__()\n",
                                  "    def __init__(self):\n        super().__init__()\n    block_name = 'Unit'\n"),
    "block_name in the network class": ("class StudioModel(nn.Module):\n",
                                        "class StudioModel(nn.Module):\n    block_name = 'x'\n"),
    "a block class that builds itself": ("self.block1 = nn.Sequential(*[Res() for _ in range(2)])",
                                         "self.block1 = nn.Sequential(*[Stage() for _ in range(2)])"),
}


@pytest.mark.parametrize("where", list(TAMPERINGS))
def test_check_source_refuses_anything_but_the_block_shapes(where):
    uses_units = "Unit" in TAMPERINGS[where][0] or "StudioModel" in TAMPERINGS[where][0]
    source = generate(shared_names()) if uses_units else _nested_source()
    check_source(source)  # the untampered module passes
    old, new = TAMPERINGS[where]
    assert old in source, where
    if where == "block used before its class":
        tree = ast.parse(source)
        i = [n.name for n in tree.body if isinstance(n, ast.ClassDef)].index("Res") + len(tree.body) - len(
            [n for n in tree.body if isinstance(n, ast.ClassDef)])
        tree.body[i], tree.body[i + 1] = tree.body[i + 1], tree.body[i]  # Stage, then Res
        tampered = ast.unparse(tree)
        check_source(ast.unparse(ast.parse(source)))  # unparsing alone is not what is refused
    elif where.startswith("block class shadowing") or where == "block class named like the imports":
        tampered = source.replace("class Res(", f"class {new}(").replace("Res()", f"{new}()")
    else:
        tampered = source.replace(old, new, 1)
    assert tampered != source
    with pytest.raises(CodegenError):
        check_source(tampered)


def test_the_verifier_never_runs_an_unproven_block_module(tmp_path, capsys, monkeypatch):
    from studio.train import export as export_mod

    from .kit import MARKER_CODE
    marker = tmp_path / "MARKER"
    project, path = _blocked_project(tmp_path, "Unit", "p")
    weights = weights_for(project, tmp_path / "w.safetensors")
    real = export_mod.generate
    payload = MARKER_CODE.format(marker=str(marker))
    monkeypatch.setattr(export_mod, "generate", lambda *a, **k: real(*a, **k).replace(
        "class Unit(nn.Module):\n", f"class Unit(nn.Module):\n    {payload}\n", 1))
    code, _, err = cli(capsys, "export", path, "--weights", weights, "--format", "python", "-o", tmp_path / "n.py")
    assert code == 2 and not marker.exists()
    assert_one_error_line(err, "unexpected")
    assert not (tmp_path / "n.py").exists()


@settings(max_examples=120, deadline=None)
@given(name=TEXT)
def test_any_block_name_becomes_a_plain_class_name_the_checker_accepts(name):
    """Whatever the text, the generated module passes check_source, its classes are plain
    ASCII names, and the name reaches the source only inside a comment."""
    m = residual_x3()
    (blk,) = [n for n in m.nodes() if m.type_of(n) == "Block"]
    m.set_param(blk, "name", name)
    source = generate(m, class_name="StudioNetwork", load_class="StudioModel",
                      reserved=("StudioModel",) + TAIL_CONSTANTS)
    check_source(source, m, "StudioNetwork", tail_constants=TAIL_CONSTANTS)
    tree = ast.parse(source)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert len(classes) == 3 and all(c.name.isascii() and c.name.isidentifier() for c in classes)
    block = classes[1]
    said = ast.literal_eval(block.body[0].value) if isinstance(block.body[0], ast.Assign) else block.name
    assert said == name  # the class names the block as given, as a literal
    comment = source.split(f"self.{blk} = ", 1)[1].split("\n", 1)[0]
    assert "# -> " in comment  # the block's line ends in its comment, on one line
