"""Height×width Conv2d sizes in the project file: an int (square, as older files
hold) or a [height, width] list; anything else is refused with a clear message."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from studio.graph.builder import sequential
from studio.project.file import ProjectError, dumps, load, loads
from studio.project.model import Project

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cifar10_cnn.studio.json"
DOC = json.loads(SAMPLE.read_text(encoding="utf-8"))
CONV = next(i for i, n in enumerate(DOC["graph"]["nodes"]) if n["type"] == "Conv2d")


def _net() -> Project:
    m, _ = sequential([("Conv2d", {"out_channels": 4, "kernel_size": (1, 7), "padding": (0, 3), "stride": 2}),
                       ("Conv2d", {"out_channels": 4, "kernel_size": [3, 3]}),
                       "Flatten", ("Linear", {"out_features": 10})])
    return Project(m)


def test_a_pair_is_saved_as_a_list_and_loads_back_as_the_same_pair():
    p = _net()
    doc = json.loads(dumps(p))
    convs = [n["params"] for n in doc["graph"]["nodes"] if n["type"] == "Conv2d"]
    assert (convs[0]["kernel_size"], convs[0]["padding"], convs[0]["stride"]) == ([1, 7], [0, 3], 2)
    assert convs[1]["kernel_size"] == 3  # a square pair is written as the int older Studios read
    again = loads(dumps(p))
    assert again.model.snapshot() == p.model.snapshot()
    assert again.model.shapes.totals() == p.model.shapes.totals()
    first = again.model.of_type("Conv2d")[0]
    assert again.model.params(first)["kernel_size"] == (1, 7)


def test_an_older_file_with_int_sizes_loads_unchanged():
    p = load(SAMPLE)
    conv = DOC["graph"]["nodes"][CONV]
    params = p.model.params(conv["id"])
    assert params["kernel_size"] == conv["params"]["kernel_size"] == 3 and params["padding"] == 0
    assert p.model.shapes.totals()[0] == 122_570


@pytest.mark.parametrize("value,why", [
    ([1, 7, 3], "kernel_size must be a whole number or a pair [height, width] of whole numbers, got [1, 7, 3]"),
    ([1, "7"], "kernel_size must be a whole number or a pair [height, width] of whole numbers, got [1, '7']"),
    ([1, 7.5], "kernel_size must be a whole number or a pair [height, width] of whole numbers"),
    ([0, 7], "kernel_size must be at least 1, got 0"),
    ([1, 99], "kernel_size must be at most 64, got 99"),
    ({"h": 1, "w": 7}, "kernel_size must be a whole number or a pair [height, width], got {'h': 1, 'w': 7}"),
    ("__import__('os').system('x')", "kernel_size must be a whole number or a pair [height, width], got"),
    ([[1, 7]] * 40, "kernel_size must be a whole number or a pair [height, width] of whole numbers, got [[1, 7]"),
])
def test_a_bad_size_in_a_file_is_refused_with_a_clear_message(value, why):
    doc = copy.deepcopy(DOC)
    doc["graph"]["nodes"][CONV]["params"]["kernel_size"] = value
    with pytest.raises(ProjectError) as ei:
        loads(json.dumps(doc), "net.studio.json")
    msg = str(ei.value)
    assert msg.startswith(f"net.studio.json: graph.nodes[{CONV}] (conv2d1): {why}"), msg
    assert "\n" not in msg and len(msg) < 200
