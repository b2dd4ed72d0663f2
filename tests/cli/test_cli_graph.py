"""`studio validate` and `studio summary`: exit codes 0 / 1 / 2, one-line errors,
tracebacks only with --debug."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli.main import main

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cifar10_cnn.studio.json"


@pytest.fixture
def invalid(tmp_path) -> Path:
    doc = json.loads(SAMPLE.read_text(encoding="utf-8"))
    doc["graph"]["nodes"] = [n for n in doc["graph"]["nodes"] if n["id"] != "flatten1"]
    doc["graph"]["edges"] = [e for e in doc["graph"]["edges"] if "flatten1" not in (e["src"], e["dst"])]
    doc["graph"]["edges"].append({"id": "e99", "src": "relu3", "dst": "linear1"})
    path = tmp_path / "no_flatten.studio.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("cmd", ["validate", "summary"])
def test_valid_sample_exits_0(cmd, capsys):
    assert main([cmd, str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    if cmd == "validate":
        assert "The network is valid." in out and "64×4×4" in out
    else:
        assert "Total params: 122,570" in out and "conv2d1 (Conv2d)" in out


def test_invalid_project_exits_1_with_the_message(invalid, capsys):
    assert main(["validate", str(invalid)]) == 1
    out = capsys.readouterr().out
    assert "✗ linear1" in out
    assert "error: Linear needs a flat vector, got 64×4×4. Insert a Flatten before it.  [fix: Insert Flatten]" in out
    assert "1 problem found" in out
    assert main(["summary", str(invalid)]) == 1


@pytest.mark.parametrize("content", [None, "{not json", '{"format": "studio.project", "version": 99}'])
def test_missing_or_corrupt_file_exits_2_in_one_line(tmp_path, capsys, content):
    path = tmp_path / "bad.studio.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("studio: error: ") and str(path) in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["--debug", "validate"], ["validate", "--debug"]])
def test_debug_shows_a_traceback(tmp_path, capsys, argv):
    path = tmp_path / "bad.studio.json"
    path.write_text("{", encoding="utf-8")
    assert main([*argv, str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "ProjectError" in err


def test_python_dash_m_studio_end_to_end(tmp_path):
    bad = tmp_path / "bad.studio.json"
    bad.write_bytes(b"\x00\xff")
    proc = subprocess.run([sys.executable, "-m", "studio", "validate", str(bad)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "not UTF-8" in proc.stderr
    assert proc.stdout == ""
