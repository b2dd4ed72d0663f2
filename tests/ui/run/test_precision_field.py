"""The run settings form's precision field: the choices, what an edit stores, and
the note when this CPU lacks bf16."""
from pathlib import Path

from PySide6.QtGui import QUndoStack

from studio.project.file import load
from studio.train import calibrate
from studio.ui.run import precheck
from studio.ui.run.settings import RunSettingsForm

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "cifar10_resnet.studio.json"


def test_precision_field_shows_and_edits_the_setting(qtbot):
    stack = QUndoStack()
    form = RunSettingsForm(stack)
    qtbot.addWidget(form)
    project = load(SAMPLE)  # an older key ("amp") or the new one: both read as precision
    form.set_project(project)
    combo = form.fields.widget("train", "precision")
    assert [combo.itemData(i) for i in range(combo.count())] == ["fp32", "bf16", "fp16"]
    assert combo.currentData() == "bf16"
    combo.activated.emit(combo.findData("fp32"))
    assert project.train.precision == "fp32"
    stack.undo()
    assert project.train.precision == "bf16" and combo.currentData() == "bf16"
    check = form.fields.widget("train", "compile")
    check.setChecked(True)
    assert project.train.compile is True
    form.resize(420, 900)
    form.show()
    qtbot.waitExposed(form)
    Path("tests/_artifacts").mkdir(exist_ok=True)
    form.grab().save("tests/_artifacts/run_settings_precision.png")


def test_the_bf16_choice_says_when_this_cpu_lacks_it(monkeypatch):
    monkeypatch.setattr(calibrate, "cpu_bf16_support", lambda: (False, "no bf16"))
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    labels = dict(precheck.precision_choices())
    assert "lacks bf16" in labels["bf16"] and "fp32" in labels["bf16"]
    monkeypatch.setattr(calibrate, "cpu_bf16_support", lambda: (True, ""))
    assert "lacks" not in dict(precheck.precision_choices())["bf16"]
