"""The command line's error surface: exit 0 on success, 1 on a failed validation
or run, 2 on bad usage or bad input; one line on stderr and no traceback,
unless --debug (accepted before or after any subcommand) asks for it."""
from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from studio.cli.main import main as cli
from studio.project import file as projects
from studio.graph.compile import compile_graph
from studio.train.checkpoint import save_weights

from .conftest import SAMPLES

MLP = str(SAMPLES / "spiral_mlp.studio.json")
CNN = str(SAMPLES / "shapes_cnn.studio.json")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    doc = json.loads((SAMPLES / "spiral_mlp.studio.json").read_text())
    doc["graph"]["edges"] = doc["graph"]["edges"][:-1]          # the Output is not connected
    (d / "invalid.studio.json").write_text(json.dumps(doc))
    (d / "corrupt.studio.json").write_text('{"format": "studio.project", "version": 1, "graph": {')
    (d / "notjson.studio.json").write_bytes(b"\x89PNG\r\n\x1a\n")
    save_weights(d / "mlp.safetensors", compile_graph(projects.load(MLP).model).state_dict())
    save_weights(d / "cnn.safetensors", compile_graph(projects.load(CNN).model).state_dict())
    (d / "garbage.pt").write_bytes(b"not a zip, not a pickle")
    Image.new("RGB", (12, 12), "red").save(d / "red.png")
    (d / "text.png").write_text("hello")
    return d


def _cases(d):
    w = ["--weights", str(d / "mlp.safetensors")]
    out = ["--format", "safetensors", "-o", str(d / "out.safetensors")]
    return [
        # (argv, exit code)
        (["validate", MLP], 0),
        (["validate", str(d / "invalid.studio.json")], 1),
        (["validate", str(d / "missing.studio.json")], 2),
        (["validate", str(d / "corrupt.studio.json")], 2),
        (["validate", str(d / "notjson.studio.json")], 2),
        (["validate"], 2),
        (["summary", MLP], 0),
        (["summary", str(d / "invalid.studio.json")], 1),
        (["summary", str(d / "corrupt.studio.json")], 2),
        (["summary", str(d / "missing.studio.json")], 2),
        (["train", str(d / "missing.studio.json")], 2),
        (["train", str(d / "corrupt.studio.json")], 2),
        (["train", str(d / "invalid.studio.json"), "--epochs", "1", "--out", str(d / "r0")], 2),
        (["train", MLP, "--epochs", "many"], 2),
        (["train", MLP, "--epochs", "-1"], 2),
        (["train", MLP, "--lr", "nan"], 2),
        (["train", MLP, "--device", "tpu"], 2),
        (["train", MLP, "--resume", "--out", str(d / "never")], 2),
        (["export", str(d / "missing.studio.json"), *w, *out], 2),
        (["export", str(d / "corrupt.studio.json"), *w, *out], 2),
        (["export", MLP, "--weights", str(d / "missing.pt"), *out], 2),
        (["export", MLP, "--weights", str(d / "garbage.pt"), *out], 2),
        (["export", MLP, "--weights", str(d / "cnn.safetensors"), *out], 2),   # does not fit
        (["export", MLP, *w, "--format", "zip", "-o", "x"], 2),
        (["export", MLP, *w], 2),
        (["export", str(d / "invalid.studio.json"), *w, *out], 2),
        (["predict", CNN, "--weights", str(d / "cnn.safetensors"), str(d / "nothere.png")], 2),
        (["predict", CNN, "--weights", str(d / "cnn.safetensors"), str(d / "text.png")], 2),
        (["predict", MLP, *w, str(d / "red.png")], 2),                        # not an image network
        (["predict", CNN, "--weights", str(d / "cnn.safetensors")], 2),
        (["predict", str(d / "corrupt.studio.json"), *w, str(d / "red.png")], 2),
        (["frobnicate"], 2),
        (["--no-such-flag", "validate", MLP], 2),
    ]


def test_exit_codes_and_one_line_messages(files, capsys):
    wrong = []
    for argv, want in _cases(files):
        got = cli(argv)
        err = capsys.readouterr().err.strip()
        if got != want:
            wrong.append(f"{argv}: exit {got}, expected {want}: {err[-300:]}")
        if "Traceback" in err:
            wrong.append(f"{argv}: traceback without --debug")
        if got == 2 or (got == 1 and argv[0] not in ("validate", "summary")):  # those print a report
            lines = err.splitlines()  # train may log "data: ..." progress lines first
            if (not lines or not lines[-1].startswith("studio") or ": error: " not in lines[-1]
                    or any("error" in line for line in lines[:-1])):
                wrong.append(f"{argv}: not a one-line message: {err[:300]!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback_for_every_subcommand(files, capsys, where):
    bad = str(files / "corrupt.studio.json")
    commands = [["validate", bad], ["summary", bad], ["train", bad],
                ["export", bad, "--weights", "w.pt", "--format", "pt", "-o", "x.pt"],
                ["predict", bad, "--weights", "w.pt", "x.png"]]
    for argv in commands:
        argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
        assert cli(argv) == 2, argv
        err = capsys.readouterr().err
        assert "Traceback (most recent call last)" in err and "ProjectError" in err, argv
        assert err.strip().splitlines()[-1].startswith("studio: error: ")


def test_successful_train_export_and_predict_exit_0(files, capsys):
    run = files / "run"
    assert cli(["train", MLP, "--epochs", "1", "--out", str(run)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["status"] == "finished" and summary["epochs"] == 1
    out = files / "exported.safetensors"
    assert cli(["export", MLP, "--weights", str(run / "best.safetensors"), "--format", "safetensors",
                "-o", str(out)]) == 0
    assert "verified" in capsys.readouterr().out and out.exists()
    assert cli(["predict", CNN, "--weights", str(files / "cnn.safetensors"), str(files / "red.png")]) == 0
    assert "red.png:" in capsys.readouterr().out
    torch.set_num_threads(1)  # the trainer may change it; keep later tests on one thread
