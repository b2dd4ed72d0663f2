"""The project file's optional `sweep` section: strict checks, one-line errors, and
older files loading unchanged."""
import json
from pathlib import Path

import pytest

from studio.project.file import ProjectError, dumps, load, loads
from tests.sweep.sweep_helpers import LR, SAMPLE, WIDTH, spiral_doc


def test_files_without_a_sweep_load_and_save_unchanged():
    project = load(SAMPLE)
    assert project.sweep is None
    assert "sweep" not in json.loads(dumps(project))


def test_sweep_section_round_trips():
    choice = {"target": "training", "param": "optimizer", "kind": "choice", "choices": ["adam", "sgd"]}
    flag = {"node": "linear1", "param": "bias", "kind": "choice", "choices": [True, False]}
    doc = spiral_doc([WIDTH, LR, choice, flag], strategy="tpe", cost="macs", timeout=60)
    project = loads(json.dumps(doc))
    assert [d.key for d in project.sweep.dimensions] == [
        "linear1.out_features", "training.lr", "training.optimizer", "linear1.bias"]
    again = json.loads(dumps(loads(dumps(project))))["sweep"]
    assert again == json.loads(dumps(project))["sweep"]
    assert again["cost"] == "macs" and again["dimensions"][0]["log"] is True


def test_dimension_of_a_deleted_node_is_not_saved():
    project = loads(json.dumps(spiral_doc([WIDTH, LR])))
    project.model.remove_node("linear1")
    assert [d["param"] for d in json.loads(dumps(project))["sweep"]["dimensions"]] == ["lr"]


@pytest.mark.parametrize("dim, words", [
    ({**WIDTH, "low": 32, "high": 4}, "is empty"),
    ({**LR, "low": 0.1, "high": 0.1}, "is empty"),
    ({**LR, "low": -0.01}, "log range needs bounds above 0"),
    ({**LR, "low": 0.0}, "log range needs bounds above 0"),
    ({**WIDTH, "node": "nope"}, "no node 'nope'"),
    ({**WIDTH, "param": "width"}, "has no parameter 'width'"),
    ({**WIDTH, "low": 0, "log": False}, "at least 1"),
    ({**WIDTH, "low": 2.5}, "whole-number bounds"),
    ({**LR, "high": "big"}, 'needs numbers "low" and "high"'),
    ({"target": "training", "param": "optimizer", "kind": "choice", "choices": ["adam", "nadam"]},
     "must be one of"),
    ({"target": "training", "param": "optimizer", "kind": "choice", "choices": []}, "1 to 100 values"),
    ({"target": "training", "param": "device", "kind": "choice", "choices": ["cpu"]}, "cannot be searched"),
    ({"target": "training", "param": "batch_size", "kind": "float", "low": 8, "high": 64}, 'use kind "int"'),
    ({"target": "data", "param": "augment_flip", "kind": "int", "low": 0, "high": 1}, "not a number"),
    ({**LR, "kind": "normal"}, '"kind" must be one of'),
])
def test_bad_dimensions_are_refused_in_one_line(dim, words):
    with pytest.raises(ProjectError) as e:
        loads(json.dumps(spiral_doc([dim])))
    msg = str(e.value)
    assert words in msg and "\n" not in msg and "sweep.dimensions[0]" in msg


@pytest.mark.parametrize("extra, words", [
    ({"strategy": "bayes"}, '"strategy" must be one of'),
    ({"trials": -1}, '"trials" must be a whole number'),
    ({"timeout": float("nan")}, None),
    ({"budget": 3}, "not a known sweep setting"),
])
def test_bad_sweep_settings_are_refused(extra, words):
    doc = spiral_doc([LR], **extra)
    with pytest.raises(ProjectError) as e:
        loads(json.dumps(doc))
    assert words is None or words in str(e.value)


def test_same_dimension_twice_is_refused():
    with pytest.raises(ProjectError, match="searched twice"):
        loads(json.dumps(spiral_doc([LR, LR])))


def test_project_methods_edit_the_space_and_announce_it():
    from studio.project.events import SweepChanged
    from studio.project.search_space import parse_dimension
    project = load(SAMPLE)
    seen = []
    project.subscribe(seen.append)
    dim = parse_dimension(WIDTH, project.model, "test")
    project.set_dimension(dim.key, dim)
    project.set_sweep_setting("trials", 7)
    assert [d.key for d in project.sweep.dimensions] == ["linear1.out_features"]
    assert json.loads(dumps(project))["sweep"]["trials"] == 7
    project.set_dimension(dim.key, None)
    assert project.sweep.dimensions == []
    assert [e for e in seen if isinstance(e, SweepChanged)] == [
        SweepChanged("linear1.out_features"), SweepChanged("trials"), SweepChanged("linear1.out_features")]
    with pytest.raises(KeyError):
        project.set_sweep_setting("dimensions", [])


def test_a_height_by_width_kernel_is_searched_as_a_square_size():
    from studio.sweep.trial import apply
    cnn = Path(SAMPLE).parent / "cifar10_cnn.studio.json"
    doc = json.loads(cnn.read_text(encoding="utf-8"))
    doc["graph"]["nodes"][1]["params"].update(kernel_size=[1, 7], padding=[0, 3])
    kernel = {"node": "conv2d1", "param": "kernel_size", "kind": "int", "low": 1, "high": 5}
    project = loads(json.dumps(doc | {"sweep": {"dimensions": [kernel]}}))
    (dim,) = project.sweep.dimensions
    apply(project, dim, 5)  # a searched value is one whole number: a 5×5 kernel
    assert project.model.params("conv2d1")["kernel_size"] == 5
    for bad, words in (({**kernel, "kind": "float"}, 'use kind "int"'),
                       ({**kernel, "kind": "choice", "choices": [[1, 7]]}, "not a plain value")):
        with pytest.raises(ProjectError, match=words):
            loads(json.dumps(doc | {"sweep": {"dimensions": [bad]}}))
