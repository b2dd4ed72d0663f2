"""The run panel's plain-Python parts: run records and their files, the
overfitting hint, progress/ETA and the pre-run cost check."""
import math

import numpy as np
import pytest

from studio.project import file as projects
from studio.train.events import BatchEvent, EpochEvent
from studio.ui.run import history
from studio.ui.run.precheck import Precheck, activation_bytes, available_ram, human_bytes, precheck
from studio.ui.run.progress import Progress, fmt_duration
from tests.ui.run_testkit import SHAPES_SAMPLE


def _batch(epoch, batch, batches=10, loss=1.0, grads=None):
    step = (epoch - 1) * batches + batch
    return BatchEvent(epoch, batch, batches, step, loss, 0.5, 1e-3, 100.0, grads)


def _epoch(epoch, train_loss, val_loss):
    return EpochEvent(epoch, 5, train_loss, 0.6, val_loss, 0.55, "accuracy", 1e-3, 1.0, False)


def test_series_grows_and_keeps_values():
    s = history.Series(("a", "b"), capacity=2)
    for i in range(100):
        s.append(i, i * 2)
    assert s.n == 100 and s.col("b")[-1] == 198 and s.col("a").shape == (100,)


def test_run_record_roundtrip(tmp_path):
    run = history.RunRecord(number=3, colour="#123456", train={"optimizer": "adam", "lr": 0.01})
    for b in range(1, 11):
        run.add_batch(_batch(1, b, loss=1.0 / b if b != 5 else math.nan, grads={"conv1": 0.1 * b}))
    run.add_epoch(_epoch(1, 0.5, None))
    run.status, run.result = "finished", {"val_metric": 0.55}
    folder = history.runs_dir(tmp_path / "net.studio.json")
    assert folder == tmp_path / "net.runs"
    history.save_run(folder, run)
    (folder / "run-004.json").write_text("{not json")
    runs, problems = history.load_runs(folder)
    assert len(runs) == 1 and len(problems) == 1 and "run-004.json" in problems[0]
    back = runs[0]
    assert back.number == 3 and back.colour == "#123456" and back.status == "finished"
    assert back.batches.n == 10
    np.testing.assert_allclose(back.batches.col("x"), run.batches.col("x"), rtol=1e-6)
    assert math.isnan(back.batches.col("loss")[4])
    assert back.epochs[0]["val_loss"] is None
    np.testing.assert_allclose(back.grads["conv1"].col("norm"), run.grads["conv1"].col("norm"), rtol=1e-6)
    assert back.label() == "Run 3 · 55.0%"


def test_smoothing_skips_nan_and_starts_unbiased():
    run = history.RunRecord(number=1, colour="#000")
    run.add_batch(_batch(1, 1, loss=2.0))
    assert run.batches.col("loss_smooth")[0] == pytest.approx(2.0)  # debiased, not 0.2
    run.add_batch(_batch(1, 2, loss=math.nan))
    assert math.isfinite(run.batches.col("loss_smooth")[1])


def test_overfitting_hint():
    assert history.overfitting_hint([1.0, 0.8, 0.6, 0.5], [1.0, 0.9, 0.95, 1.0])
    assert not history.overfitting_hint([1.0, 0.8, 0.6, 0.5], [1.0, 0.9, 0.85, 0.9])  # one rise only
    assert not history.overfitting_hint([1.0, 0.8, 0.9, 0.95], [1.0, 0.9, 0.95, 1.0])  # both rise
    assert not history.overfitting_hint([1.0, 0.8], [1.0, 1.1])
    assert not history.overfitting_hint([1.0, 0.8, 0.6], [1.0, None, 1.2])


def test_progress_eta_excludes_pauses():
    now = [0.0]
    p = Progress(epochs=2, clock=lambda: now[0])
    p.batch(_batch(1, 1))
    now[0] = 9.0
    p.batch(_batch(1, 10))          # 9 batches in 9 s, 10 left
    assert p.fraction() == pytest.approx(0.5)
    assert p.eta() == pytest.approx(10.0)
    p.pause(True)
    now[0] = 100.0
    p.pause(False)
    assert p.eta() == pytest.approx(10.0)
    assert p.text() == "Epoch 1/2 · batch 10/10 · ETA 0:10"
    assert fmt_duration(3725) == "1:02:05"


def test_precheck_counts_and_warns():
    project = projects.load(SHAPES_SAMPLE)
    project.train.batch_size = 10
    check = precheck(project)
    params, macs = project.model.shapes.totals()
    assert (check.params, check.macs) == (params, macs) and params > 0
    numel = sum(project.model.shapes.out(n).numel for n in project.model.nodes())
    assert activation_bytes(project.model, 10) == numel * 10 * 4 * 2
    assert check.fits and not check.warning()
    tight = Precheck(1, 1, activation_bytes=2 << 30, device="cuda", free_bytes=1 << 30)
    assert not tight.fits and "may not fit" in tight.warning() and "1.0 GB" in tight.warning()
    assert available_ram() is None or available_ram() > 0
    assert human_bytes(1536) == "1.5 KB"
    assert "frozen" not in check.text()
    m = project.model
    conv = next(n for n in m.nodes() if m.type_of(n) == "Conv2d")
    m.set_param(conv, "frozen", True)  # fine-tuning: the check says what will train
    w = m.shapes.info[conv].weights
    assert precheck(project).frozen == w > 0
    assert f"({params - w:,} trainable, {w:,} frozen)" in precheck(project).text()


def test_runs_dir_for_unsaved_project():
    assert history.runs_dir(None) is None
