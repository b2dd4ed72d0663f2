"""Opaque modules' file references travel with the project folder."""
from __future__ import annotations

import json
import shutil

from studio.graph.blocks import group
from studio.graph.builder import sequential
from studio.project.file import load, save
from studio.project.model import Project


def _project(model_file, onnx_file):
    m, ids = sequential([("Opaque", {"module_type": "Gate", "source": f"file:{model_file}:Net",
                                     "path": "gate", "in_dims": (4,), "out_dims": (4,)}),
                         ("Opaque", {"module_type": "Head", "source": f"onnx:{onnx_file}",
                                     "path": "", "in_dims": (4,), "out_dims": (4,)})],
                        {"kind": "vector", "features": 4}, {"loss": "mse", "task": "regression"})
    group(m, [ids[2]], "Inner")  # the reference inside a block is handled too
    return Project(model=m)


def _sources(doc):
    out = []

    def visit(graph):
        for n in graph["nodes"]:
            if n["type"] == "Opaque":
                out.append(n["params"]["source"])
            if "body" in n:
                visit(n["body"])
    visit(doc["graph"])
    return sorted(out)


def test_references_in_the_folder_are_saved_relative_and_load_absolute(tmp_path):
    a = tmp_path / "a"
    (a / "code").mkdir(parents=True)
    model_file, onnx_file = a / "code" / "net.py", a / "head.onnx"
    save(_project(model_file, onnx_file), a / "p.studio.json")
    assert _sources(json.loads((a / "p.studio.json").read_text())) == ["file:code/net.py:Net", "onnx:head.onnx"]
    shutil.move(str(a), str(tmp_path / "b"))
    p = load(tmp_path / "b" / "p.studio.json")
    got = sorted(p.model.params(n)["source"] for n in p.model.nodes() if p.model.type_of(n) == "Opaque")
    inner = [n for n in p.model.nodes() if p.model.type_of(n) == "Block"][0]
    body = p.model.body(inner)
    got += [body.params(n)["source"] for n in body.nodes() if body.type_of(n) == "Opaque"]
    b = (tmp_path / "b").resolve()
    assert sorted(got) == [f"file:{b}/code/net.py:Net", f"onnx:{b}/head.onnx"]


def test_references_outside_the_folder_stay_absolute(tmp_path):
    outside = tmp_path / "lib" / "net.py"
    (tmp_path / "proj").mkdir()
    save(_project(outside, tmp_path / "lib" / "h.onnx"), tmp_path / "proj" / "p.studio.json")
    doc = json.loads((tmp_path / "proj" / "p.studio.json").read_text())
    assert _sources(doc) == [f"file:{outside.resolve()}:Net", f"onnx:{(tmp_path / 'lib' / 'h.onnx').resolve()}"]
