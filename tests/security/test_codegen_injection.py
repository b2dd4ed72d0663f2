"""Item 1: text from a project file never runs as code. Every string that reaches the
generated module is a literal, and the export verifier runs a module only after
proving its structure (check_source), so a trojaned name cannot execute, and
names with NUL, lone surrogates or \\N export cleanly."""
from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.graph.codegen import generate
from studio.graph.model import id_problem
from studio.project.file import ProjectError, load, loads
from studio.train import export as export_mod

from .kit import MARKER_CODE, assert_one_error_line, cli, hostile_texts, tiny_project, weights_for


def _check_source(*args, **kwargs):
    from studio.graph.codegen import check_source  # here, so the behaviour tests also run on older trees
    check_source(*args, **kwargs)


def _constant(source: str, name: str):
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not in the module")


def test_hostile_project_names_export_cleanly_and_never_run(tmp_path, capsys):
    marker = tmp_path / "MARKER"
    outs = []
    for i, text in enumerate(hostile_texts(marker)):
        project, path = tiny_project(tmp_path, f"p{i}")
        # The hostile text goes into the project FILE (name and description), as a shared file would.
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["name"], doc["description"] = text, text
        path.write_text(json.dumps(doc), encoding="utf-8")
        weights = weights_for(project, tmp_path / f"w{i}.safetensors")
        out = tmp_path / f"net{i}.py"
        code, stdout, err = cli(capsys, "export", path, "--weights", weights, "--format", "python", "-o", out)
        assert code == 0 and not err and "verified" in stdout[0], (text, stdout, err)
        assert not marker.exists(), f"code ran from the project name {text!r}"
        source = out.read_text(encoding="utf-8")
        assert _constant(source, "NAME") == text
        from studio.train.export_files import TAIL_CONSTANTS  # the run's constants appended by the exporter
        _check_source(source, None, "StudioModel", tail_constants=TAIL_CONSTANTS)
        outs.append(str(out))
    # Importing the files, as their users will, runs nothing either (one interpreter for all).
    runner = "import runpy, sys\nfor f in sys.argv[1:]:\n    runpy.run_path(f)"
    proc = subprocess.run([sys.executable, "-c", runner, *outs], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not marker.exists(), "importing an export ran code from its project's name"


# Any text: all of Unicode, lone surrogates included, and the hand-made hostile strings.
TEXT = st.one_of(st.text(max_size=40),
                 st.text(st.characters(exclude_categories=(), max_codepoint=0xE000, min_codepoint=0xD000), max_size=8),
                 st.sampled_from(hostile_texts("MARKER")),
                 st.lists(st.sampled_from(hostile_texts("MARKER") + ["a", " "]), max_size=4).map("".join))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=TEXT, weights=TEXT.filter(bool))
def test_any_text_becomes_a_literal(name, weights):
    from tests.train.helpers import mlp_project
    model = mlp_project().model
    source = generate(model, title=name, weights_name=weights)
    _check_source(source, model)
    assert _constant(source, "NAME") == (name or "Network") and _constant(source, "WEIGHTS") == weights
    source.encode("utf-8")  # lone surrogates are escaped, so the file is valid UTF-8


@pytest.mark.parametrize("nid", ["abc\n", "a b", "a;import os", "x\x00", "é", "a.b", "1a", "", "self"])
def test_hostile_node_ids_are_refused_at_load(nid):
    assert id_problem(nid) is not None
    doc = {"format": "studio.project", "version": 1, "graph": {"nodes": [{"id": nid, "type": "ReLU"}], "edges": []}}
    with pytest.raises(ProjectError):
        loads(json.dumps(doc))


TAMPERINGS = {
    "extra import": ("import torch\n", "import torch\nimport os\n"),
    "top-level call": ("from torch import nn\n", "from torch import nn\nprint('x')\n"),
    "NAME is a call": ("NAME = ", "NAME = str("),
    "statement in __init__": ("        super().__init__()\n", "        super().__init__()\n        print('x')\n"),
    "call in a layer argument": ("nn.Linear(in_features=2", "nn.Linear(in_features=len('ab')"),
    "decorator": ("    def forward(", "    @staticmethod\n    def forward("),
    "default argument": ("def forward(self, input1", "def forward(self, input1=print('x')"),
    "second class": ("class StudioModel(", "class Evil:\n    print('x')\n\n\nclass StudioModel("),
    "forward with a call": ("        return ", "        print('x')\n        return "),
    # annotations run when the def runs (at import): once accepted by the checker
    "annotation on __init__": ("def __init__(self):", "def __init__(self: print('x')):"),
    "annotation on forward": ("def forward(self, input1", "def forward(self, input1: print('x')"),
}


@pytest.mark.parametrize("where", list(TAMPERINGS))
def test_check_source_refuses_anything_but_the_generated_shape(where):
    from tests.train.helpers import mlp_project
    source = generate(mlp_project().model, title="net")
    old, new = TAMPERINGS[where]
    assert old in source, where
    tampered = source.replace(old, new, 1)
    if where == "NAME is a call":
        tampered = tampered.replace("\nWEIGHTS", ")\nWEIGHTS", 1)
    from studio.graph.codegen import CodegenError, check_source
    with pytest.raises(CodegenError):
        check_source(tampered)


def test_the_verifier_never_runs_an_unproven_module(tmp_path, capsys, monkeypatch):
    """Even if generation were broken, the exporter refuses to import what it cannot prove."""
    marker = tmp_path / "MARKER"
    project, path = tiny_project(tmp_path)
    weights = weights_for(project, tmp_path / "w.safetensors")
    real = export_mod.generate
    payload = MARKER_CODE.format(marker=str(marker))
    monkeypatch.setattr(export_mod, "generate",
                        lambda *a, **k: real(*a, **k).replace("import torch\n", f"import torch\n{payload}\n", 1))
    code, _, err = cli(capsys, "export", path, "--weights", weights, "--format", "python", "-o", tmp_path / "n.py")
    assert code == 2 and not marker.exists()
    assert_one_error_line(err, "unexpected")
    assert not (tmp_path / "n.py").exists()  # nothing unproven is left for a user to import


def test_a_project_file_with_a_trojan_name_loads_as_plain_text(tmp_path):
    marker = tmp_path / "MARKER"
    _, path = tiny_project(tmp_path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["name"] = '"""\n' + MARKER_CODE.format(marker=str(marker)) + '\n"""'
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert load(path).name == doc["name"] and not marker.exists()


def test_hostile_class_names_in_meta_json_stay_literals(tmp_path, capsys):
    """The run's meta.json (class names, mean/std) also reaches the module, with the
    normalizing wrapper class: still only literals, proven before the import."""
    from safetensors.torch import save_file

    from studio.graph.compile import compile_graph
    from studio.project.file import save
    from tests.train.helpers import cnn_project
    marker = tmp_path / "MARKER"
    project = cnn_project()
    path = save(project, tmp_path / "p.studio.json")
    run = tmp_path / "run"
    run.mkdir()
    save_file(compile_graph(project.model).state_dict(), str(run / "best.safetensors"))
    texts = hostile_texts(marker)[:10]
    (run / "meta.json").write_text(json.dumps({"format": "studio.run", "kind": "image", "task": "classification",
                                               "classes": texts, "normalize": True, "mean": [0.5] * 3,
                                               "std": [0.25] * 3}))
    code, out, err = cli(capsys, "export", path, "--weights", run / "best.safetensors", "--format", "python",
                         "-o", tmp_path / "net.py", "--no-parity")
    assert code == 0 and "verified" in out[0], (out, err)
    source = (tmp_path / "net.py").read_text(encoding="utf-8")
    assert _constant(source, "CLASSES") == texts and not marker.exists()
    proc = subprocess.run([sys.executable, "-c", f"import runpy; runpy.run_path({str(tmp_path / 'net.py')!r})"],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0 and not marker.exists(), proc.stderr[-2000:]


def test_lone_surrogates_and_nul_in_project_text_survive_save_train_and_load(tmp_path):
    """Text a file can hold (lone surrogates, NUL, `\\N`) must not break saving the
    project or its copy in a run folder, and must come back unchanged."""
    from studio.project.file import dumps, load, save
    from studio.graph.builder import sequential
    from studio.project.file import Project
    m, _ = sequential([("Linear", {"out_features": 2})], {"kind": "vector", "features": 2})
    p = Project(model=m, name="n\ud800\x00", description="\\N{BULLET} \udfff")
    text = dumps(p)
    text.encode("utf-8")  # valid UTF-8
    path = save(p, tmp_path / "odd.studio.json")
    back = load(path)
    assert (back.name, back.description) == (p.name, p.description)
