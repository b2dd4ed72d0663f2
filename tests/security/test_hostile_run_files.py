"""Item 8: a project's `<project>.runs/` may hold anything. A bad run file is skipped
with a note (in the app and in load_runs), never raises, never hangs (FIFOs, devices),
never makes a later redraw fail; the good runs still load. meta.json beside weights
is checked the same way for the CLI."""
from __future__ import annotations

import json
import os

import pytest

from studio.project.file import save
from studio.train.run_files import read_meta
from studio.ui.run import history

from tests.train.helpers import mlp_project

from .kit import assert_one_error_line, cli, tiny_project, weights_for

GOOD = {"format": "studio.run_history", "version": 1, "number": 1, "colour": "#0072B2", "status": "finished",
        "result": {"val_metric": 0.5}, "train": {"lr": 0.01}, "epochs": [{"epoch": 1, "train_loss": 1.0}],
        "grads": {"linear1": [[0.5, 1.0]]}}


def _doc(**changes) -> str:
    return json.dumps({**GOOD, **changes})


HOSTILE = {
    "empty list": "[]", "a number": "1", "overflow": "1e999", "nan": "NaN", "deep nesting": "[" * 100_000,
    "deep object": '{"a":' * 5000 + "1" + "}" * 5000, "not utf-8": b"\xff\xfe{}", "truncated": _doc()[:40],
    "number is text": _doc(number="x"), "number is huge": _doc(number=10**30), "number is a bool": _doc(number=True),
    "result is a list": _doc(result=[1]), "epochs hold numbers": _doc(epochs=[1, 2]),
    "grads rows are not pairs": _doc(grads={"a": [[1]]}), "grads is a list": _doc(grads=[1]),
    "overflow inside": _doc().replace("0.01", "1e999"),
    "wrong format": _doc(format="something.else"),
    "notes is text": _doc(notes="fast"), "notes hold numbers": _doc(notes=[1, 2]),
}
# Not errors: coerced so the run list and plots can draw them.
COERCED = {"lr is text": _doc(train={"lr": "fast"}), "val_metric is text": _doc(result={"val_metric": "high"}),
           "colour is code": _doc(colour="red; drop"),
           "nested inside": _doc(train={"lr": [[[[[[1]]]]]]}),
           "started in year 10^11": _doc(started=1.7e19), "started negative": _doc(started=-1e12), "status is long": _doc(status="x" * 10_000),
           "notes are many and long": _doc(notes=["x" * 10_000] * 1000)}


def _runs_folder(tmp_path, files: dict) -> "history.Path":
    folder = tmp_path / "p.runs"
    folder.mkdir()
    for i, (_, text) in enumerate(files.items(), start=2):
        (folder / f"run-{i:03d}.json").write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    (folder / "run-001.json").write_text(_doc())
    return folder


def test_hostile_run_files_are_skipped_with_a_note(tmp_path):
    folder = _runs_folder(tmp_path, {**HOSTILE, **COERCED})
    os.mkfifo(folder / "run-900.json")                     # would block a plain open() forever
    (folder / "run-901.json").symlink_to("/dev/zero")     # would never end
    (folder / "run-902.json").mkdir()
    (folder / "run-903.json").write_text(" " * (16 << 20) + "{}")  # huge: over the 16 MB a run file may be
    runs, problems = history.load_runs(folder)
    assert len(problems) == len(HOSTILE) + 4, problems
    assert all("skipped" in p for p in problems) and all(len(p) < 300 for p in problems)
    assert sorted(r.number for r in runs) == [1] * (1 + len(COERCED))
    for run in runs:  # what the run list and the plots do with a loaded run
        run.label(), run.tooltip(), run.epoch_column("train_loss"), run.batches.rows()
        assert run.colour.startswith("#") and len(run.status) <= 40
        assert len(run.notes) <= history.MAX_NOTES and all(len(n) <= history.MAX_NOTE_CHARS for n in run.notes)


def test_a_hostile_batch_csv_is_read_as_numbers_or_gaps(tmp_path):
    folder = _runs_folder(tmp_path, {})
    rows = [",".join(history.BATCH_COLUMNS), "1,0.1,1e999,nan,x,,", "2," * 6 + "2", "\x00,\x00"]
    (folder / "run-001.csv").write_text("\n".join(rows))
    (run,), problems = history.load_runs(folder)
    assert problems == [] and run.batches.n == 2


def test_the_app_opens_a_project_with_hostile_runs(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from studio.ui.shell.main_window import MainWindow
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    path = save(mlp_project(), tmp_path / "p.studio.json")
    folder = _runs_folder(tmp_path, HOSTILE)
    os.mkfifo(folder / "run-900.json")
    w = MainWindow(dark=False)
    qtbot.addWidget(w)
    errors = []
    monkeypatch.setattr(w, "show_error", lambda *a, **k: errors.append(a), raising=False)
    assert w.open_path(path, confirm=False)
    panel = w.run_panel
    assert [r.number for r in panel.runs] == [1] and not errors
    assert "could not be read" in panel.checks._error and "run-900.json: skipped" in panel.checks._error


@pytest.mark.parametrize("meta", ["[]", "1e999", "[" * 50_000, '{"std": [0.0, 0.0]}', '{"mean": [NaN]}',
                                  '{"classes": "abc"}', '{"mean": [0.5], "std": [0.5, 0.5]}', '{"std": ["1"]}'])
def test_hostile_meta_json_is_one_line_for_the_cli(tmp_path, capsys, meta):
    project, path = tiny_project(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    weights = weights_for(project, run / "best.safetensors")
    (run / "meta.json").write_text(meta)
    from studio.fileio import FileFormatError
    with pytest.raises(FileFormatError):
        read_meta(weights)
    code, out, err = cli(capsys, "export", path, "--weights", weights, "--format", "safetensors",
                         "-o", tmp_path / "x")
    assert code == 2 and out == []
    assert_one_error_line(err, "meta.json")
    assert not (tmp_path / "x.safetensors").exists()
