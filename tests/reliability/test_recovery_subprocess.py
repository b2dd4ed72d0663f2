"""Kill -9 the real app after an autosave; the next launch restores the edits.

Two launches of studio.__main__.main (what `python -m studio` runs, through
app_harness.py) with an isolated HOME and XDG folders, so settings and recovery
go to tmp: A edits a project, autosaves and is killed; B starts with the restore
answer preset, reports the document and exits cleanly, which must leave no
recovery file. The user's file is never touched. Each launch imports torch, so
this costs about 2 × the app's start-up time.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HARNESS = Path(__file__).with_name("app_harness.py")
SAMPLE = ROOT / "samples" / "spiral_mlp.studio.json"


def _env(tmp: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "STUDIO_", "HARNESS_"))}
    env.update(HOME=str(tmp / "home"), XDG_CONFIG_HOME=str(tmp / "config"), XDG_DATA_HOME=str(tmp / "data"),
               XDG_CACHE_HOME=str(tmp / "cache"), QT_QPA_PLATFORM="offscreen", STUDIO_AUTOSAVE_MS="200",
               PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    env.update(extra)
    return env


def _entries(tmp: Path) -> dict[str, dict]:
    """key -> {"meta": ..., "doc": ...} of every complete recovery entry under tmp/data."""
    out = {}
    for data in (tmp / "data").rglob("recovery/*.studio.json"):
        key = data.name[: -len(".studio.json")]
        try:
            out[key] = {"meta": json.loads(data.with_name(key + ".json").read_text()),
                        "doc": json.loads(data.read_text())}
        except (OSError, ValueError):
            continue  # not complete yet
    return out


def _wait_for(cond, proc, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"app exited early ({proc.returncode}): {err.decode()[-2000:]}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail("timed out waiting for the app")


def _has_node(entry: dict, nid: str) -> bool:
    return any(n["id"] == nid for n in entry["doc"]["graph"]["nodes"])


def test_kill_then_restore_keeps_the_edits(tmp_path):
    project = tmp_path / "work" / "spiral.studio.json"
    project.parent.mkdir()
    shutil.copy(SAMPLE, project)
    original = project.read_bytes()

    # A: open, add a Dropout through the canvas, wait for the autosave, then SIGKILL.
    a = subprocess.Popen([sys.executable, str(HARNESS), str(project)], cwd=tmp_path,
                         env=_env(tmp_path, HARNESS_ADD="Dropout"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    saved = _wait_for(lambda: {k: e for k, e in _entries(tmp_path).items() if _has_node(e, "dropout1")}, a)
    a.send_signal(signal.SIGKILL)
    a.wait(10)
    (entry_a,) = saved.values()
    assert entry_a["meta"]["original"] == str(project)
    assert project.read_bytes() == original  # autosave never writes over the user's file

    # B: restore, report the document, quit cleanly (discarding): nothing is left behind.
    report = tmp_path / "report.json"
    b = subprocess.run([sys.executable, str(HARNESS)], cwd=tmp_path, timeout=90,
                       env=_env(tmp_path, STUDIO_RECOVERY_AUTO="restore", HARNESS_REPORT=str(report),
                                HARNESS_QUIT="1"), capture_output=True)
    assert b.returncode == 0, b.stderr.decode()[-2000:]
    doc = json.loads(report.read_text())
    assert doc["dirty"] is True and doc["path"] == str(project)
    assert "dropout1" in doc["nodes"]
    assert _entries(tmp_path) == {}
    assert list((tmp_path / "data").rglob("recovery/*.studio.json")) == []
    assert project.read_bytes() == original
