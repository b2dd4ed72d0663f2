"""Project files: round trip, one clear error per bad file, atomic saves, and a
fuzzer that may only ever see success or ProjectError."""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio import fileio
from studio.project import file as project_mod
from studio.project.file import ProjectError, dumps, load, loads, save

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cifar10_cnn.studio.json"
DOC = json.loads(SAMPLE.read_text(encoding="utf-8"))


def test_sample_round_trips():
    p = load(SAMPLE)
    assert p.name == "CIFAR-10 CNN" and len(p.model) == 14
    assert p.model.shapes.totals()[0] == 122_570
    again = loads(dumps(p))
    assert again.to_dict() == p.to_dict()
    assert again.model.snapshot() == p.model.snapshot()


def _error(mutate) -> str:
    doc = copy.deepcopy(DOC)
    mutate(doc)
    with pytest.raises(ProjectError) as ei:
        loads(json.dumps(doc), "net.studio.json")
    return str(ei.value)


def _set(path, value):
    def f(doc):
        *head, last = path
        for k in head:
            doc = doc[k]
        doc[last] = value
    return f


@pytest.mark.parametrize("mutate,expect", [
    (lambda d: d["graph"]["nodes"][3].pop("type"), 'net.studio.json: graph.nodes[3]: missing "type"'),
    (lambda d: d.pop("graph"), 'net.studio.json: missing "graph"'),
    (lambda d: d["graph"].pop("edges"), 'net.studio.json: graph: missing "edges"'),
    (_set(["graph", "nodes", 1, "type"], "Conv3d"),
     'net.studio.json: graph.nodes[1] (conv2d1): unknown layer type "Conv3d"'),
    (_set(["graph", "edges", 4, "dst"], "ghost"),
     'net.studio.json: graph.edges[4]: the wire ends at "ghost", which is not a node'),
    (_set(["graph", "edges", 0, "src"], "ghost"),
     'net.studio.json: graph.edges[0]: the wire starts at "ghost", which is not a node'),
    (_set(["graph", "nodes", 2, "id"], "conv2d1"), 'net.studio.json: graph.nodes[2]: duplicate node id "conv2d1"'),
    (_set(["graph", "edges", 2, "id"], "e1"), 'net.studio.json: graph.edges[2]: duplicate edge id "e1"'),
    (_set(["graph", "nodes", 1, "params", "kernel_size"], "3"),
     "net.studio.json: graph.nodes[1] (conv2d1): kernel_size must be a whole number or a pair "
     "[height, width], got '3'"),
    (_set(["graph", "nodes", 1, "params", "bias"], 1),
     "net.studio.json: graph.nodes[1] (conv2d1): bias must be true or false, got 1"),
    (_set(["graph", "nodes", 1, "params", "stride"], 10**400),
     "net.studio.json: graph.nodes[1] (conv2d1): stride must be at most 64, got " + str(10**400)),
    (_set(["version"], 7), "net.studio.json: format version 7 is newer than this Studio reads (up to 2); "
                           "please update Studio"),
    (_set(["graph", "nodes", 1, "id"], "training"),
     "net.studio.json: graph.nodes[1]: \"id\": node id 'training' is reserved by Python or PyTorch; "
     "choose another name"),
    (_set(["training", "lr"], "fast"), "net.studio.json: training.lr must be a float, got 'fast'"),
    (_set(["data", "dataset"], "imagenet"), "net.studio.json: data.dataset must be one of"),
])
def test_load_errors_name_the_file_and_place(mutate, expect):
    msg = _error(mutate)
    assert msg.startswith(expect), msg
    assert "\n" not in msg


def test_malformed_json_names_line_and_column():
    with pytest.raises(ProjectError, match=r"^net.json: not valid JSON at line 2, column 1"):
        loads('{"format": "studio.project",\n}', "net.json")
    with pytest.raises(ProjectError, match="not UTF-8"):
        loads(b'{"name": "\xff"}', "net.json")
    with pytest.raises(ProjectError, match="NaN is not allowed"):
        loads('{"version": NaN}', "net.json")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ProjectError, match="cannot read the file"):
        load(tmp_path / "nope.studio.json")
    with pytest.raises(ProjectError, match="cannot read the file"):
        load(tmp_path)


def test_save_is_atomic_and_keeps_mode(tmp_path):
    target = tmp_path / "net.studio.json"
    p = load(SAMPLE)
    save(p, target)
    assert load(target).to_dict() == p.to_dict()
    assert (target.stat().st_mode & 0o777) == 0o644
    os.chmod(target, 0o664)
    save(p, target)
    assert (target.stat().st_mode & 0o777) == 0o664
    assert [f.name for f in tmp_path.iterdir()] == ["net.studio.json"]  # no temp file left


def test_failed_rename_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "net.studio.json"
    target.write_text("old contents", encoding="utf-8")
    p = load(SAMPLE)

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(project_mod.os, "replace", boom)
    with pytest.raises(ProjectError, match=r"Cannot save .*net.studio.json: No space left on device"):
        save(p, target)
    assert target.read_text(encoding="utf-8") == "old contents"
    assert [f.name for f in tmp_path.iterdir()] == ["net.studio.json"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_leaves_the_old_file(tmp_path):
    target = tmp_path / "net.studio.json"
    target.write_text("old contents", encoding="utf-8")
    os.chmod(tmp_path, 0o555)
    try:
        with pytest.raises(ProjectError, match="Cannot save"):
            save(load(SAMPLE), target)
    finally:
        os.chmod(tmp_path, 0o755)
    assert target.read_text(encoding="utf-8") == "old contents"


# -- fuzzing -----------------------------------------------------------------------
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.sampled_from([10**400, -1, 0, 1e308]),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
                    st.sampled_from(["Conv2d", "Add", "out", "in", "input1", "e1", "studio.project"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=6)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(DOC) if p]


@st.composite
def mutated(draw):
    doc = copy.deepcopy(DOC)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = doc
        try:
            for k in path[:-1]:
                parent = parent[k]
            op = draw(st.sampled_from(["delete", "replace", "nest", "huge"]))
            if op == "delete":
                del parent[path[-1]]
            elif op == "replace":
                parent[path[-1]] = draw(VALUES)
            elif op == "nest":
                parent[path[-1]] = [[[[parent[path[-1]]]]]]
            else:
                parent[path[-1]] = draw(st.sampled_from([10**500, 2**63, -2**63, 1e300, 99999999]))
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed the path
    text = json.dumps(doc).encode()
    byte_op = draw(st.sampled_from(["none", "none", "truncate", "flip", "deep"]))
    if byte_op == "truncate":
        text = text[:draw(st.integers(0, len(text)))]
    elif byte_op == "flip":
        b = bytearray(text)
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(b) - 1))
            b[i] = draw(st.integers(0, 255))
        text = bytes(b)
    elif byte_op == "deep":
        n = draw(st.sampled_from([50, 5000, 200000]))
        text = b'{"format": "studio.project", "version": 1, "graph": ' + b"[" * n + b"]" * n + b"}"
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_mutated_files_load_or_raise_project_error(raw):
    try:
        p = loads(raw, "fuzz.studio.json")
    except ProjectError as e:
        assert str(e).startswith("fuzz.studio.json: ")
        return
    assert loads(dumps(p)).to_dict() == p.to_dict()


def test_unwritable_directory_leaves_the_old_file(tmp_path, monkeypatch):
    """What a read-only directory does to mkstemp, simulated so it also runs as root."""
    target = tmp_path / "net.studio.json"
    target.write_text("old contents", encoding="utf-8")

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fileio.tempfile, "mkstemp", denied)
    with pytest.raises(ProjectError, match="Cannot save .*: Permission denied"):
        save(load(SAMPLE), target)
    assert target.read_text(encoding="utf-8") == "old contents"
