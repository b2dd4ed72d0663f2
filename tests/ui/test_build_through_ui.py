"""Build real networks only through the UI: palette drops, port-to-port wire
drags and inspector edits; then undo and redo all of it."""
from pathlib import Path

import pytest

from studio.project import file as projects
from studio.graph.builder import sequential
from tests.ui import testkit

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

CNN = [
    ("Input", {"kind": "image", "channels": 3, "height": 32, "width": 32}),
    ("Conv2d", {"out_channels": 32, "kernel_size": 3}),
    ("ReLU", {}),
    ("MaxPool2d", {"kernel_size": 2}),
    ("Conv2d", {"out_channels": 64, "kernel_size": 3}),
    ("ReLU", {}),
    ("MaxPool2d", {"kernel_size": 2}),
    ("Conv2d", {"out_channels": 64, "kernel_size": 3}),
    ("ReLU", {}),
    ("Flatten", {}),
    ("Linear", {"out_features": 64}),
    ("ReLU", {}),
    ("Linear", {"out_features": 10}),
    ("Output", {"loss": "cross_entropy"}),
]


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return testkit.make_window(qtbot, tmp_path, monkeypatch)


def test_build_seed_cnn_matches_sample(window):
    ids = testkit.build_chain(window, CNN)
    model = window.project.model
    expected = projects.load(SAMPLES / "cifar10_cnn.studio.json").model
    assert testkit.structure(model) == testkit.structure(expected)
    assert model.shapes.out(ids[-2]).dims == (10,)
    assert window.errors == []
    assert window.isWindowModified()
    # The inspector shows the last layer's inferred shapes and cost.
    testkit.select(window, ids[10])
    dyn = window.inspector._dyn
    assert dyn["In"].text() == "1024" and dyn["Out"].text() == "64"
    assert dyn["Parameters"].text() == f"{1024 * 64 + 64:,}"


def test_build_lstm_classifier(window):
    layers = [
        ("Input", {"kind": "sequence", "length": 28, "features": 28}),
        ("LSTM", {"hidden_size": 64, "output": "last step"}),
        ("Linear", {"out_features": 10}),
        ("Output", {}),
    ]
    ids = testkit.build_chain(window, layers)
    model = window.project.model
    expected, _ = sequential([("LSTM", {"hidden_size": 64})], {"kind": "sequence", "length": 28,
                                                              "features": 28})
    expected.add_node("Linear", {"out_features": 10}, nid="lin")
    out = [n for n in expected.nodes() if expected.type_of(n) == "Output"][0]
    lstm = [n for n in expected.nodes() if expected.type_of(n) == "LSTM"][0]
    (edge,) = expected.in_edges(out)
    expected.disconnect(edge.id)
    expected.connect(lstm, "out", "lin", "in")
    expected.connect("lin", "out", out, "in")
    assert testkit.structure(model) == testkit.structure(expected)
    assert model.shapes.out(ids[0]).full() == "T×28 (T = 28)"
    assert model.shapes.out(ids[1]).dims == (64,)


def test_undo_everything_then_redo_everything(window):
    testkit.build_chain(window, CNN[:6] + CNN[-1:])
    model = window.project.model
    built = model.snapshot()
    undo, redo = window.actions_.undo, window.actions_.redo
    steps = 0
    while undo.isEnabled():
        undo.trigger()
        steps += 1
    assert len(model) == 0 and not model.edges()
    assert not window.canvas.scene().nodes and not window.isWindowModified()
    assert window.inspector.node_id is None
    while redo.isEnabled():
        redo.trigger()
        steps -= 1
    assert steps == 0
    assert model.snapshot() == built
    assert set(window.canvas.scene().nodes) == set(model.nodes())
