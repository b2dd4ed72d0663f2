"""Helpers shared by the run-panel tests and bench/ui_latency.py: a small,
fast image classifier project and "set a setting the way a user would"."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

import studio
from studio.project import file as projects
from studio.graph.builder import sequential
from studio.project.file import Project

SAMPLES = Path(studio.__file__).resolve().parents[1] / "samples"
SHAPES_SAMPLE = SAMPLES / "shapes_cnn.studio.json"

TINY_CNN = [
    ("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
    ("ReLU", {}),
    ("MaxPool2d", {"kernel_size": 2}),
    ("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
    ("ReLU", {}),
    ("MaxPool2d", {"kernel_size": 4}),
    ("Flatten", {}),
    ("Linear", {"out_features": 4}),
]


def shapes_project_file(folder: Path) -> Path:
    """A copy of samples/shapes_cnn in `folder` (runs are written beside it),
    or, until that sample exists, an equivalent small CNN on the Shapes data."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "shapes_cnn.studio.json"
    if SHAPES_SAMPLE.exists():
        shutil.copyfile(SHAPES_SAMPLE, target)
        return target
    model, _ids = sequential(TINY_CNN, {"kind": "image", "channels": 3, "height": 32, "width": 32})
    p = Project(model=model, name="Shapes CNN")
    p.data.dataset = "shapes"
    p.train.batch_size = 32
    projects.save(p, target)
    return target


def set_setting(panel, section: str, key: str, value) -> None:
    """Through the form, as an edit: undoable and marks the document dirty."""
    panel.form.set_value(section, key, value)


def quick(panel, samples: int = 2000, epochs: int = 2, batch_size: int = 32) -> None:
    """Settings for a run of a few seconds on two CPU cores."""
    set_setting(panel, "data", "dataset", "shapes")
    set_setting(panel, "data", "samples", samples)
    set_setting(panel, "data", "limit", 0)
    set_setting(panel, "data", "val_split", 0.2)
    set_setting(panel, "train", "epochs", epochs)
    set_setting(panel, "train", "batch_size", batch_size)
    set_setting(panel, "train", "device", "cpu")


@contextmanager
def shapes_window(qtbot, tmp_path, monkeypatch):
    """The window run tests start from: the default size, a copy of the Shapes CNN sample
    open (runs are written beside it, in the test's folder); a run is stopped afterwards."""
    from tests.ui import testkit
    w = testkit.make_window(qtbot, tmp_path, monkeypatch, size=(1400, 900))
    assert w.open_path(shapes_project_file(tmp_path / "proj"), confirm=False)
    yield w
    w.run_panel.shutdown(10000)
    w.undo_stack.clear()
