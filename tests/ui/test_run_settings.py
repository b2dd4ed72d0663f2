"""The settings form follows the Project: a typed edit becomes one undo command
that calls the project, and undo, redo or any other edit of the project shows
in the form through the project's events (the form never sets itself)."""
import pytest
from PySide6.QtCore import Qt

from studio.project.events import SettingChanged
from studio.ui.run.commands import SetSetting
from tests.ui import run_testkit, testkit


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    w = testkit.make_window(qtbot, tmp_path, monkeypatch, size=(1400, 900))
    assert w.open_path(run_testkit.shapes_project_file(tmp_path / "proj"), confirm=False)
    yield w
    w.run_panel.shutdown(10000)


def _type(qtbot, box, text: str) -> None:
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), text)
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)


def test_typed_edit_undo_and_redo_reach_the_form_through_the_project(window, qtbot):
    project, form, stack = window.project, window.run_panel.form, window.undo_stack
    events = []
    project.subscribe(events.append)
    box = form.fields.widget("train", "epochs")
    before = project.train.epochs
    _type(qtbot, box, "7")
    assert project.train.epochs == 7 and window.isWindowModified()
    assert isinstance(stack.command(stack.index() - 1), SetSetting)
    assert [e for e in events if isinstance(e, SettingChanged)] == [SettingChanged("train", "epochs", before, 7)]

    stack.undo()
    assert project.train.epochs == before and box.value() == before
    assert events[-1] == SettingChanged("train", "epochs", 7, before)
    assert not window.isWindowModified()
    stack.redo()
    assert project.train.epochs == 7 and box.value() == 7

    # Whoever edits the project, the form shows it: it follows the model, not its commands.
    project.set_setting("train", "epochs", 3)
    assert box.value() == 3


def test_a_choice_and_the_rows_it_governs_follow_undo(window, qtbot):
    project, form, stack = window.project, window.run_panel.form, window.undo_stack
    combo = form.fields.widget("train", "optimizer")
    momentum = form.fields.widget("train", "momentum")
    run_testkit.set_setting(window.run_panel, "train", "optimizer", "adam")
    combo.setFocus()
    index = combo.findData("sgd")
    combo.activated.emit(index)  # what a click on the popup's item emits
    assert project.train.optimizer == "sgd" and form._train_form.isRowVisible(momentum)
    stack.undo()
    assert project.train.optimizer == "adam" and combo.currentData() == "adam"
    assert not form._train_form.isRowVisible(momentum)


def test_a_refused_value_is_explained_and_not_kept(window, qtbot):
    project, form = window.project, window.run_panel.form
    count = window.undo_stack.count()
    form.set_value("train", "batch_size", 0)
    assert project.train.batch_size != 0 and window.undo_stack.count() == count
    assert "batch_size" in form.load_message.text()
    assert form.fields.widget("train", "batch_size").value() == project.train.batch_size


def test_spin_box_steps_merge_into_one_undo_step(window, qtbot):
    project, form, stack = window.project, window.run_panel.form, window.undo_stack
    box = form.fields.widget("train", "seed")
    before, count = project.train.seed, stack.count()
    box.setFocus()
    for _ in range(3):
        qtbot.keyClick(box, Qt.Key.Key_Up)
    assert project.train.seed == before + 3 and stack.count() == count + 1
    stack.undo()
    assert project.train.seed == before and box.value() == before
