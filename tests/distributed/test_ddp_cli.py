"""`studio train --nproc 2` for real: two CPU workers over loopback (gloo).

Each launch starts three Python processes that import torch, so these tests
keep to few launches and tiny runs (the spiral sample, 2-3 epochs).
"""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "samples/spiral_mlp.studio.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def studio_train(*args, env=None, timeout=240):
    full_env = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    started = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "studio", "train", SAMPLE, *args], cwd=ROOT, env=full_env,
                       capture_output=True, text=True, timeout=timeout)
    return p, time.monotonic() - started


def test_two_processes_train_like_one_and_resume(tmp_path, capsys):
    out, debug = tmp_path / "run", tmp_path / "debug"
    common = ["--nproc", "2", "--master-port", str(free_port()), "--out", str(out)]
    first, _ = studio_train("--epochs", "2", *common, env={"STUDIO_DDP_DEBUG_DIR": str(debug)})
    assert first.returncode == 0, first.stderr[-3000:]
    lines = first.stdout.strip().splitlines()
    assert [ln.split()[1] for ln in lines[:-1]] == ["1/2", "2/2"]  # only rank 0 prints epochs
    summary = json.loads(lines[-1])
    assert summary["world_size"] == 2 and summary["batch_size"] == 32
    assert summary["batch_size_per_process"] == 16
    ranks = [json.loads((debug / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["state_sha256"] == ranks[1]["state_sha256"]  # DDP kept the replicas identical
    assert ranks[0]["train_examples"] == ranks[1]["train_examples"] == 800  # half of 1600 each
    assert sorted(p.name for p in out.iterdir()) == [  # one set of outputs, no rank suffixes
        "best.safetensors", "checkpoint.json", "checkpoint.safetensors", "last.safetensors", "meta.json",
        "metrics.csv", "project.studio.json"]

    # Resume the distributed run for a third epoch, then compare with one process for three.
    port = str(free_port())
    second, _ = studio_train("--epochs", "3", "--resume", *common[:2], "--master-port", port, "--out", str(out))
    assert second.returncode == 0, second.stderr[-3000:]
    resumed = json.loads(second.stdout.strip().splitlines()[-1])
    assert resumed["epochs"] == 3 and len((out / "metrics.csv").read_text().splitlines()) == 4

    assert main(["train", SAMPLE, "--epochs", "3", "--out", str(tmp_path / "single")]) == 0
    single = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # Same permutation, global batch and gradient average: equal up to float summation order.
    assert abs(resumed["val_accuracy"] - single["val_accuracy"]) <= 0.02
    assert resumed["train_loss"] == pytest.approx(single["train_loss"], rel=1e-3)


def test_a_worker_that_dies_stops_the_job_and_is_named(tmp_path):
    p, seconds = studio_train("--nproc", "2", "--epochs", "3", "--out", str(tmp_path / "run"),
                              env={"STUDIO_DDP_FAULT": "1:20:3", "STUDIO_DDP_TIMEOUT": "20"}, timeout=120)
    assert p.returncode != 0
    assert seconds < 90
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("studio: error: worker rank 1 ") and "exited with code 3" in last, p.stderr[-3000:]
