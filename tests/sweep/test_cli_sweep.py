"""`studio sweep` as a user runs it: subprocesses, SIGKILL and resume, two
processes on one storage, and a bad search space refused in one line."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from studio.cli.main import main
from studio.sweep.study import open_storage
from tests.sweep.sweep_helpers import LR, WIDTH, write_project

ROOT = Path(__file__).resolve().parents[2]


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")


def _studio(*args, **kw):
    return subprocess.run([sys.executable, "-m", "studio", *map(str, args)], env=_env(), capture_output=True,
                          text=True, timeout=300, **kw)


def _trials(root: Path, name="sweep"):
    return optuna.load_study(study_name=name, storage=open_storage(root)).get_trials(deepcopy=False)


@pytest.mark.parametrize("dim, words", [
    ({**WIDTH, "low": 64, "high": 8}, "the range 64 … 8 is empty"),
    ({**LR, "low": -0.1}, "a log range needs bounds above 0, got low = -0.1"),
])
def test_bad_search_space_is_refused_with_one_line(tmp_path, capsys, dim, words):
    path = write_project(tmp_path, [dim])
    assert main(["sweep", str(path), "--trials", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1 and err.startswith("studio: error:")
    assert not (tmp_path / "spiral.runs").exists()


def test_project_without_dimensions_is_refused(tmp_path, capsys):
    path = write_project(tmp_path, [])
    assert main(["sweep", str(path), "--trials", "2"]) == 2
    assert "no search dimensions" in capsys.readouterr().err


def test_resume_after_kill_9_continues_the_same_study(tmp_path, capsys):
    path = write_project(tmp_path, [WIDTH, LR], trials=2, epochs=30, samples=2000)
    runs = tmp_path / "spiral.runs"
    assert main(["sweep", str(path), "--trials", "1", "--epochs", "1"]) == 0  # trial 0, finished
    proc = subprocess.Popen([sys.executable, "-m", "studio", "sweep", str(path)], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Kill -9 while trial 1 trains (30 epochs): once it has written its first epoch.
        deadline = time.monotonic() + 120
        while not (runs / "sweep" / "trial-0001" / "metrics.csv").exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    before = _trials(runs)
    assert [t.state for t in before] == [TrialState.COMPLETE, TrialState.RUNNING]

    capsys.readouterr()
    assert main(["sweep", str(path), "--epochs", "1"]) == 0  # a later run continues the same study
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    after = _trials(runs)
    assert [t.number for t in after] == [0, 1, 2]
    assert after[0].params == before[0].params and after[0].value == before[0].value
    assert after[1].state == TrialState.FAIL and after[1].user_attrs["interrupted"] is True
    assert after[2].state == TrialState.COMPLETE
    assert after[2].user_attrs["retry_of"] == 1 and after[2].params == before[1].params
    assert summary["trials"]["complete"] == 2 and summary["study"] == "sweep"
    # Nothing left to do: the budget of 2 is spent.
    assert (runs / "sweep" / "trial-0002" / "best.safetensors").exists()


def test_two_jobs_share_one_storage_without_lost_or_duplicated_trials(tmp_path):
    path = write_project(tmp_path, [WIDTH, LR], trials=6, epochs=1)
    out = tmp_path / "shared"
    done = _studio("sweep", path, "--trials", 5, "--jobs", 2, "--out", out)
    assert done.returncode == 0, done.stderr
    trials = _trials(out)
    assert [t.number for t in trials] == [0, 1, 2, 3, 4]
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert len({t.user_attrs["owner"]["pid"] for t in trials}) == 2  # two processes did the work
    folders = {t.user_attrs["run"]["folder"] for t in trials}
    assert folders == {str(out / "sweep" / f"trial-{n:04d}") for n in range(5)}
    assert all((Path(f) / "metrics.csv").exists() for f in folders)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("trial ")]
    assert sorted(int(ln.split()[1]) for ln in lines) == [0, 1, 2, 3, 4]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["trials"]["complete"] == 5


def test_a_blocks_repeat_count_is_searched(tmp_path, capsys):
    """Repeat ×N of a block that keeps its shape is one more searchable parameter."""
    from studio.graph.blocks import group
    from studio.project.file import load, save
    from studio.project.search_space import parse
    p = load(ROOT / "samples" / "shapes_cnn.studio.json")
    m = p.model
    e = m.out_edges("maxpool2d1")[0]
    m.disconnect(e.id)
    conv, relu = m.add_node("Conv2d", {"out_channels": 16, "padding": 1}), m.add_node("ReLU")
    m.connect("maxpool2d1", "out", conv, "in")
    m.connect(conv, "out", relu, "in")
    m.connect(relu, "out", e.dst, e.dst_port)
    blk = group(m, [conv, relu], "Res").block
    p.data.samples, p.train.epochs = 96, 1
    p.sweep = parse({"dimensions": [{"target": "node", "node": blk, "param": "repeat", "kind": "int",
                                     "low": 1, "high": 3}], "trials": 3, "strategy": "grid"}, m)
    path = save(p, tmp_path / "blocks.studio.json")
    assert main(["sweep", str(path), "--out", str(tmp_path / "sw")]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["trials"]["complete"] == 3
    tried = sorted(t.params[f"{blk}.repeat"] for t in _trials(tmp_path / "sw"))
    assert tried == [1, 2, 3]


def test_a_layer_inside_a_block_is_searched(tmp_path, capsys):
    """A parameter of a layer inside a block is named by its path ("block/conv"); the
    trials change the block's inside, and a dimension on a deleted layer is not saved."""
    from studio.graph.blocks import group, resolve
    from studio.project.file import load, save
    from studio.project.search_space import SearchSpaceError, parse
    p = load(ROOT / "samples" / "shapes_cnn.studio.json")
    m = p.model
    conv = [n for n in m.nodes() if m.type_of(n) == "Conv2d"][0]
    relu = m.out_edges(conv)[0].dst
    blk = group(m, [conv, relu], "Stem").block
    inner = [n for n in m.body(blk).nodes() if m.body(blk).type_of(n) == "Conv2d"][0]
    path = f"{blk}/{inner}"
    with pytest.raises(SearchSpaceError, match="no node"):
        parse({"dimensions": [{"node": f"{blk}/nothing", "param": "out_channels", "kind": "choice",
                               "choices": [4]}]}, m)
    with pytest.raises(SearchSpaceError, match="out_channels must be"):
        parse({"dimensions": [{"node": path, "param": "out_channels", "kind": "choice", "choices": [0]}]}, m)
    p.data.samples, p.train.epochs = 96, 1
    p.sweep = parse({"dimensions": [{"target": "node", "node": path, "param": "out_channels", "kind": "choice",
                                     "choices": [4, 12]}], "trials": 2, "strategy": "grid"}, m)
    file = save(p, tmp_path / "inner.studio.json")
    assert main(["sweep", str(file), "--out", str(tmp_path / "sw")]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["trials"]["complete"] == 2
    trials = _trials(tmp_path / "sw")
    assert sorted(t.params[f"{path}.out_channels"] for t in trials) == [4, 12]
    for t in trials:  # each trial's project file holds the value inside the block
        trial_project = load(Path(t.user_attrs["run"]["folder"]) / "project.studio.json")
        body, nid = resolve(trial_project.model, path)
        assert body.params(nid)["out_channels"] == t.params[f"{path}.out_channels"]
    m.body(blk).remove_node(inner)
    saved = json.loads(save(p, tmp_path / "gone.studio.json").read_text())
    assert saved["sweep"]["dimensions"] == []
