"""Item 5: every writer replaces its file all at once. A failure leaves the old file
and no temporary behind; a temporary orphaned by a kill is removed at the next
save or run; a failed or unverified export never replaces a good one."""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from studio import fileio
from studio.graph.compile import compile_graph
from studio.project.file import ProjectError, load, save
from studio.train import export as export_mod
from studio.train import run_files
from studio.train.checkpoint import save_checkpoint
from studio.train.export import ExportError, export_model
from studio.train.trainer import Trainer
from studio.ui.run import history

from tests.train.helpers import blobs, mlp_project

from .kit import SPIRAL


def _full(*_a, **_k):
    raise OSError(errno.ENOSPC, "No space left on device")


def _hidden(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _dead_pid() -> int:
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


@pytest.fixture(scope="module")
def trained():
    project = mlp_project()
    torch.manual_seed(0)
    return project, compile_graph(project.model)


@pytest.mark.parametrize("fmt", ["safetensors", "pt", "torchscript", "pt2", "onnx", "python"])
def test_a_failing_export_leaves_the_old_file(trained, tmp_path, monkeypatch, fmt):
    project, model = trained
    out = export_mod.export_target(tmp_path / "model", fmt)
    out.write_bytes(b"GOOD")
    side = out.with_suffix(".safetensors") if fmt == "python" else None
    if side:
        side.write_bytes(b"GOOD")
    real_save = torch.save

    def half_written(*a, **k):  # every writer gets its bytes or file through one of these
        raise OSError(errno.EIO, "Input/output error")
    for target, name in ((torch.onnx, "export"), (torch.jit, "save"), (torch.export, "save")):
        monkeypatch.setattr(target, name, half_written)
    monkeypatch.setattr(torch, "save", half_written)
    monkeypatch.setattr(fileio.os, "fsync", _full)
    with pytest.raises(Exception):
        export_model(project, model, fmt, out)
    monkeypatch.setattr(torch, "save", real_save)
    assert out.read_bytes() == b"GOOD" and (side is None or side.read_bytes() == b"GOOD")
    assert _hidden(tmp_path) == []


def test_a_failed_onnx_export_over_a_good_model_keeps_it(trained, tmp_path, monkeypatch):
    """The case from the issue: torch.onnx.export writes part of the file, then fails."""
    project, model = trained
    good = export_model(project, model, "onnx", tmp_path / "model.onnx")
    assert good.verified
    before = (tmp_path / "model.onnx").read_bytes()

    def truncated(module, args, f, **kwargs):
        with open(f, "wb") as fh:
            fh.write(before[:100])
        raise RuntimeError("exporter crashed")
    monkeypatch.setattr(torch.onnx, "export", truncated)
    with pytest.raises(RuntimeError):
        export_model(project, model, "onnx", tmp_path / "model.onnx")
    assert (tmp_path / "model.onnx").read_bytes() == before and _hidden(tmp_path) == []


@pytest.mark.parametrize("fmt", ["safetensors", "python"])
def test_an_unverified_export_replaces_nothing(trained, tmp_path, monkeypatch, fmt):
    project, model = trained
    out = export_mod.export_target(tmp_path / "model", fmt)
    out.write_bytes(b"GOOD")
    monkeypatch.setattr(export_mod, "_diff", lambda *a: 1.0)
    result = export_model(project, model, fmt, out)
    assert not result.verified and "nothing was written" in result.message and str(tmp_path) in result.message
    assert out.read_bytes() == b"GOOD" and _hidden(tmp_path) == []


def _writers(tmp_path):
    """Every kind of file Studio writes, as (name, target, write)."""
    project = mlp_project()
    ds = blobs(64)
    model = compile_graph(project.model)
    opt = torch.optim.Adam(model.parameters())
    run = history.RunRecord(number=1, colour="#0072B2")
    runs = tmp_path / "p.runs"
    runs.mkdir()
    return [
        ("project", tmp_path / "p.studio.json", lambda: save(project, tmp_path / "p.studio.json")),
        ("run start", tmp_path / "meta.json", lambda: run_files.write_start(tmp_path, project, ds)),
        ("metrics", tmp_path / "metrics.csv", lambda: run_files.write_metrics(tmp_path, [])),
        ("weights", tmp_path / "best.safetensors",
         lambda: run_files.write_weights(tmp_path, "best", model.state_dict())),
        ("checkpoint", tmp_path / "checkpoint.safetensors",
         lambda: save_checkpoint(tmp_path, model, opt, {"epoch": 0}, {"torch": torch.get_rng_state()})),
        ("run history", runs / "run-001.json", lambda: history.save_run(runs, run)),
    ]


@pytest.mark.parametrize("index", range(6))
def test_every_writer_is_atomic_on_a_full_disk(tmp_path, monkeypatch, index):
    name, target, write = _writers(tmp_path)[index]
    target.write_bytes(b"OLD")
    monkeypatch.setattr(fileio.os, "fsync", _full)
    with pytest.raises((OSError, ProjectError)) as info:
        write()
    assert "No space left on device" in str(info.value) and ".tmp" not in str(info.value), name
    assert target.read_bytes() == b"OLD", name
    assert _hidden(target.parent) == [], name


def test_one_writer_everywhere():
    """The issue found two writers; there must be one, used by every module that writes."""
    from studio.project import file as project_file
    from studio.train import checkpoint
    assert checkpoint.write_atomic is fileio.write_atomic
    assert project_file.fileio.write_atomic is fileio.write_atomic
    assert history.write_atomic is fileio.write_atomic


KILLED_WRITER = """
import sys, time
from studio.fileio import write_atomic
def slow(f):
    f.write(b"NEW-BUT-PARTIAL")
    f.flush()
    print("writing", flush=True)
    time.sleep(600)
write_atomic(sys.argv[1], slow)
"""


def test_an_orphan_from_a_kill_is_cleaned_at_the_next_save(tmp_path):
    project = load(SPIRAL)
    path = save(project, tmp_path / "p.studio.json")
    before = path.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout.readline().strip() == b"writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert path.read_bytes() == before          # the kill left the old file whole
    assert len(_hidden(tmp_path)) == 1          # and an orphan
    save(project, path)
    assert _hidden(tmp_path) == []


def test_orphans_in_run_and_export_folders_are_cleaned(trained, tmp_path):
    project, model = trained
    dead = _dead_pid()
    orphans = [f".metrics.csv.{dead}-abcdefgh.tmp", f".model.onnx.{dead}-a1b2c3d4.tmp"]
    for name in orphans:
        (tmp_path / name).write_bytes(b"junk")
    stage = tmp_path / f".export.{dead}-zz99zz99.tmp"
    stage.mkdir()
    (stage / "model.onnx").write_bytes(b"junk")
    live = tmp_path / f".other.{os.getpid()}-abcdefgh.tmp"   # a writer still at work: left alone
    live.write_bytes(b"busy")
    unrelated = tmp_path / ".keep.tmp"                       # not ours: never touched
    unrelated.write_bytes(b"mine")
    export_model(project, model, "safetensors", tmp_path / "model.safetensors")
    assert _hidden(tmp_path) == sorted([live.name, unrelated.name])
    old = time.time() - 2 * fileio.ORPHAN_AGE_S              # very old: an orphan even if the pid lives
    os.utime(live, (old, old))
    t = Trainer(project, blobs(64), out_dir=tmp_path)
    project.train.epochs = 1
    assert t.run().status == "finished"
    assert _hidden(tmp_path) == [unrelated.name]


def test_export_never_writes_through_what_it_cannot_prove(trained, tmp_path):
    project, model = trained
    with pytest.raises(ExportError):
        export_model(project, model, "safetensors", tmp_path / "model.bin")
    assert list(tmp_path.iterdir()) == []


def test_a_linked_project_is_saved_through_its_link_but_never_onto_a_device(tmp_path):
    project = load(SPIRAL)
    real = tmp_path / "real.studio.json"
    real.write_text("old")
    link = tmp_path / "link.studio.json"
    link.symlink_to(real)
    save(project, link)
    assert link.is_symlink() and load(real).to_dict() == project.to_dict()
    dev = tmp_path / "dev.studio.json"
    dev.symlink_to("/dev/null")
    with pytest.raises(ProjectError, match="not a regular file"):
        save(project, dev)
