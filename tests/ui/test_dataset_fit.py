"""The Input node follows the chosen dataset in the editor, and a last layer of
the wrong width is reported before training, with a one-click fix."""
import gc
import weakref

import pytest

from studio.graph.builder import sequential
from studio.project.file import Project
from studio.settings import DataSettings
from studio.ui.run import datafit
from studio.ui.run import gc as run_gc
from tests.ui import run_testkit
from tests.ui import testkit


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = testkit.make_window(qtbot, tmp_path, monkeypatch, size=(1400, 900))
    assert w.open_path(run_testkit.shapes_project_file(tmp_path / "proj"), confirm=False)
    yield w
    w.run_panel.shutdown(10000)


def _input(model):
    nid = next(n for n in model.nodes() if model.type_of(n) == "Input")
    return nid, model.params(nid)


@pytest.mark.parametrize("key, params", [
    ("cifar10", {"kind": "image", "channels": 3, "height": 32, "width": 32}),
    ("mnist", {"kind": "image", "channels": 1, "height": 28, "width": 28}),
    ("digits", {"kind": "image", "channels": 1, "height": 8, "width": 8}),
    ("waves", {"kind": "sequence", "length": 32, "features": 1}),
    ("moons", {"kind": "vector", "features": 2}),
    ("sine", {"kind": "vector", "features": 1}),
])
def test_known_shapes_match_what_the_loaders_produce(key, params):
    shape = datafit.known_shape(DataSettings(dataset=key))
    assert shape.input_params == params
    if key in ("digits", "waves", "moons", "sine"):  # offline, cheap to load: the real thing agrees
        from studio.data.load import load_dataset
        ds = load_dataset(DataSettings(dataset=key, samples=40))
        assert ds.input_params() == params and ds.num_outputs == shape.num_outputs
    assert datafit.known_shape(DataSettings(dataset="csv")) is None  # only after loading


def test_picking_a_dataset_fits_the_input_in_one_undo_step(window, qtbot):
    panel, model = window.run_panel, window.project.model
    nid, before = _input(model)
    before = dict(before)
    run_testkit.set_setting(panel, "data", "dataset", "mnist")
    assert dict(_input(model)[1]) == before | {"channels": 1, "height": 28, "width": 28}
    assert window.canvas.node_item(nid) is not None
    # The wires show the new shapes at once: the first Conv2d now sees 1×28×28.
    first = model.out_edges(nid)[0]
    assert model.shapes.out(nid).dims == (1, 28, 28)
    window.undo_stack.undo()
    assert window.project.data.dataset == "shapes" and dict(_input(model)[1]) == before
    window.undo_stack.redo()
    assert window.project.data.dataset == "mnist" and _input(model)[1]["channels"] == 1
    assert first.id in {e.id for e in model.edges()}


def test_wrong_head_width_is_shown_with_a_fix(window, qtbot):
    panel = window.run_panel
    qtbot.waitUntil(lambda: panel.checks.mismatch is None)  # shapes: 4 classes, Linear(4)
    run_testkit.set_setting(panel, "data", "dataset", "mnist")  # 10 classes
    qtbot.waitUntil(lambda: panel.checks.mismatch is not None)
    text = panel.message.text()
    assert "gives 4 scores but MNIST has 10 classes" in text
    assert panel.checks.fix_button.isVisible() and panel.checks.fix_button.text() == "Set to 10"
    panel.checks.fix_button.click()
    qtbot.waitUntil(lambda: panel.checks.mismatch is None)
    assert panel.message.text() == "" and not panel.checks.fix_button.isVisible()
    window.undo_stack.undo()  # the fix is one undoable edit
    qtbot.waitUntil(lambda: panel.checks.mismatch is not None)


def test_a_previewed_csv_sets_input_and_classes(window, qtbot, tmp_path):
    panel, form = window.run_panel, window.run_panel.form
    table = tmp_path / "t.csv"
    rows = ["a,b,c,label"] + [f"{i % 7},{i % 3},{i % 5},{['x', 'y', 'z'][i % 3]}" for i in range(60)]
    table.write_text("\n".join(rows) + "\n")
    run_testkit.set_setting(panel, "data", "dataset", "csv")
    run_testkit.set_setting(panel, "data", "path", str(table))
    with qtbot.waitSignal(form.dataset_loaded, timeout=30000):
        form.preview_button.click()
    params = _input(window.project.model)[1]
    assert params["kind"] == "vector" and params["features"] == 3
    shape = panel.fit.shape()
    assert shape.task == "classification" and shape.num_outputs == 3
    qtbot.waitUntil(lambda: form.preview_button.isEnabled())


def test_head_check_without_window():
    model, _ids = sequential([("Flatten", {}), ("Linear", {"out_features": 10})],
                             {"kind": "image", "channels": 3, "height": 32, "width": 32})
    p = Project(model=model)
    m = datafit.head_mismatch(p, datafit.known_shape(DataSettings(dataset="shapes")))
    assert m is not None and m.fix.value == 4 and m.fix_label == "Set to 4"
    assert m.text.startswith("The last Linear") and "Shapes has 4 classes" in m.text
    m.fix_command(model).redo()
    assert datafit.head_mismatch(p, datafit.known_shape(DataSettings(dataset="shapes"))) is None
    assert datafit.input_command(model, datafit.known_shape(DataSettings(dataset="cifar10"))) is None


def test_quiet_gc_is_undone_and_leaks_nothing():
    """No full collections during a run, thresholds back afterwards, and what
    was alive at the start stays collectable (no per-run gc.freeze)."""
    class Node:
        pass
    before = gc.get_threshold()
    a, b = Node(), Node()
    a.other, b.other = b, a   # a cycle, like an fx GraphModule
    ref = weakref.ref(a)
    run_gc.quiet_enter()
    assert gc.get_threshold()[2] >= 1_000_000 and gc.isenabled()
    del a, b
    run_gc.quiet_leave()
    assert gc.get_threshold() == before and gc.isenabled()
    gc.collect()
    assert ref() is None
