"""How the drawn network fits the chosen dataset, in the editor, before any run.

The trainer sets the Input node from the loaded dataset (train/model_setup.py)
and refuses a last layer of the wrong width, but only once Train is pressed and
only on its own snapshot. Here the same facts are known earlier: most datasets'
example shape and class count follow from their settings alone, the others from
the last load (preview, download or a run). The Input node then follows the
dataset as an undoable edit (ui/run/commands.py), and a wrong head width is
reported with its fix.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from PySide6.QtCore import QObject, QTimer, Slot

from studio.data.digits import DIGIT_CLASSES, DIGITS_SIZE
from studio.data.synthetic import SHAPE_CLASSES, SHAPE_SIZE, WAVE_CLASSES, WAVE_LENGTH
from studio.graph import fixes
from studio.graph.events import NodeMoved
from studio.project.events import InfoChanged, SettingChanged

from studio.ui.editor.canvas.commands import Compound, SetParam


@dataclass(frozen=True)
class DataShape:
    """What the network must take in and give out for one dataset."""
    name: str
    input_params: dict | None      # Input-node params, None when unknown before loading
    task: str | None = None        # "classification" | "regression"; None: unknown yet
    num_outputs: int | None = None  # classes, or regression targets


def _image(c: int, h: int, w: int | None = None) -> dict:
    return {"kind": "image", "channels": c, "height": h, "width": w or h}


def _vector(n: int) -> dict:
    return {"kind": "vector", "features": n}


_BUILTIN = {
    "cifar10": DataShape("CIFAR-10", _image(3, 32), "classification", 10),
    "mnist": DataShape("MNIST", _image(1, 28), "classification", 10),
    "fashion_mnist": DataShape("Fashion-MNIST", _image(1, 28), "classification", 10),
    "shapes": DataShape("Shapes", _image(3, SHAPE_SIZE), "classification", len(SHAPE_CLASSES)),
    "digits": DataShape("Digits", _image(1, DIGITS_SIZE), "classification", len(DIGIT_CLASSES)),
    "waves": DataShape("Waves", {"kind": "sequence", "length": WAVE_LENGTH, "features": 1},
                       "classification", len(WAVE_CLASSES)),
    "spiral": DataShape("Spiral", _vector(2), "classification", 2),
    "moons": DataShape("Moons", _vector(2), "classification", 2),
    "circles": DataShape("Circles", _vector(2), "classification", 2),
    "sine": DataShape("Sine", _vector(1), "regression", 1),
}


def load_key(data) -> tuple:
    """The settings that decide a loaded dataset's shape (not its size or split)."""
    return (data.dataset, data.path, data.target, data.task, data.image_size)


class KnownShapes(dict):
    """load_key -> DataShape of the datasets loaded so far (preview, download or a
    run): what their settings alone cannot tell (a CSV's columns). The run panel
    owns one; the settings form and the FitWatcher read it."""


def known_shape(data, loaded: dict | None = None) -> DataShape | None:
    """The dataset's shape from its settings, or from `loaded` (load_key -> DataShape)."""
    if loaded and load_key(data) in loaded:
        return loaded[load_key(data)]
    if data.dataset in _BUILTIN:
        return _BUILTIN[data.dataset]
    if data.dataset == "image_folder":  # decoded to RGB and resized to a square (data/folder.py)
        return DataShape("the image folder", _image(3, data.image_size))
    return None


def shape_of(dataset) -> DataShape:
    """A loaded studio.data.Dataset's shape."""
    return DataShape(dataset.name, dataset.input_params(), dataset.task, dataset.num_outputs)


def _the_input(model) -> str | None:
    inputs = model.inputs()
    return inputs[0] if len(inputs) == 1 else None


def input_command(model, shape: DataShape | None) -> Compound | None:
    """One undo step setting the Input node to the dataset's example shape;
    None when it already matches (or there is no single Input to set)."""
    nid = _the_input(model)
    if shape is None or shape.input_params is None or nid is None:
        return None
    current = model.params(nid)
    changes = [(k, v) for k, v in shape.input_params.items() if current.get(k) != v]
    if not changes:
        return None
    cmd = Compound(f"Match Input to {shape.name}")
    for key, value in changes:  # "kind" first: it decides which other fields apply
        cmd.add(SetParam(model, nid, key, value))
    return cmd


@dataclass
class Mismatch:
    """The network's output does not fit the dataset; `fix`, when there is one,
    sets the last layer's width."""
    text: str
    fix: fixes.SetParam | None = None

    @property
    def fix_label(self) -> str:
        return self.fix.label if self.fix is not None else ""

    def fix_command(self, model) -> SetParam | None:
        f = self.fix
        if f is None or f.node not in model.g:
            return None
        return SetParam(model, f.node, f.param, f.value)


def head_mismatch(project, shape: DataShape | None) -> Mismatch | None:
    """The trainer's own head check (model_setup.check_head) run now, in the editor,
    with its one-click fix when it has one (a Linear of the wrong size)."""
    if shape is None or shape.task is None or shape.num_outputs is None:
        return None
    from studio.train.model_setup import SetupError, check_head
    stub = SimpleNamespace(name=shape.name, task=shape.task, num_outputs=shape.num_outputs)
    try:
        check_head(project, stub)
    except SetupError as e:
        # With a fix, the button says what to do; the text only what is wrong.
        return Mismatch(e.problem, e.fix) if e.fix is not None else Mismatch(str(e))
    except Exception:  # noqa: BLE001 - no Output, bad wiring: validation reports those
        return None
    return None


class FitWatcher(QObject):
    """The run panel's side of the above: follows the project's events to re-check
    the head whenever the graph or the data settings change, and records the
    shapes of datasets as they are loaded."""

    def __init__(self, panel, known: KnownShapes):
        super().__init__(panel)
        self.panel = panel
        self.loaded = known
        self._project = None
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.update)
        panel.checks.fix_clicked.connect(self.fix_head)

    def watch(self, project) -> None:
        if self._project is not None:
            self._project.unsubscribe(self._on_project_event)
        self._project = project
        project.subscribe(self._on_project_event)
        self._timer.start()

    def _on_project_event(self, ev) -> None:
        if isinstance(ev, (NodeMoved, InfoChanged)) or (isinstance(ev, SettingChanged) and ev.section != "data"):
            return
        self._timer.start()  # coalesced: once per event-loop turn

    def shape(self) -> DataShape | None:
        project = self.panel.project
        return known_shape(project.data, self.loaded) if project is not None else None

    @Slot()
    def update(self) -> None:
        """Show whether the last layer fits the dataset (before any run)."""
        if self.panel.project is not None:
            self.panel.checks.set_mismatch(head_mismatch(self.panel.project, self.shape()))

    def learn(self, dataset, key: tuple | None) -> None:
        """A dataset was loaded: remember its shape; when it is the chosen one, fit the Input to it."""
        project = self.panel.project
        if key is None or project is None:
            return
        shape = shape_of(dataset)
        self.loaded[key] = shape
        if key == load_key(project.data):
            self._push(input_command(project.model, shape))
        self._timer.start()

    @Slot()
    def fix_head(self) -> None:
        m = self.panel.checks.mismatch
        if m is not None and self.panel.project is not None and not self.panel.session.running:
            self._push(m.fix_command(self.panel.project.model))

    def _push(self, cmd) -> None:
        if cmd is None:
            return
        canvas = getattr(self.panel.window, "canvas", None)
        if canvas is not None:
            canvas.push(cmd)   # the canvas redraws wires and shapes at once
        else:
            cmd.redo()
