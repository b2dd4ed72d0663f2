"""Item 11: files Studio creates get the mode the umask gives (0644 under 022, like the
project file), never mkstemp's private 0600; a replaced file keeps its own mode."""
from __future__ import annotations

import os
import stat

import pytest

from studio.graph.compile import compile_graph
from studio.project.file import save
from studio.train.export import export_model
from studio.train.trainer import Trainer
from studio.ui.run import history

from tests.train.helpers import blobs, mlp_project


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _modes(folder) -> dict[str, int]:
    return {str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode)
            for p in folder.rglob("*") if p.is_file()}


def _write_everything(folder):
    project = mlp_project(epochs=1)
    save(project, folder / "p.studio.json")
    trainer = Trainer(project, blobs(64), out_dir=folder / "run")
    assert trainer.run().status == "finished"
    for fmt in ("safetensors", "pt", "python"):
        assert export_model(project, trainer.model, fmt, folder / "export" / "model").verified
    history.save_run(folder / "p.runs", history.RunRecord(number=1, colour="#0072B2"))


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_follow_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    _write_everything(tmp_path)
    modes = _modes(tmp_path)
    assert {"run/meta.json", "run/metrics.csv", "run/checkpoint.safetensors", "export/model.py",
            "p.runs/run-001.json", "p.studio.json"} <= set(modes)
    assert {name: m for name, m in modes.items() if m != mode} == {}


def test_a_replaced_file_keeps_its_mode(tmp_path, umask):
    project = mlp_project()
    path = tmp_path / "p.studio.json"
    path.write_text("{}")
    path.chmod(0o640)
    save(project, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    out = tmp_path / "w.safetensors"
    out.write_bytes(b"old")
    out.chmod(0o600)
    export_model(project, compile_graph(project.model), "safetensors", out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
