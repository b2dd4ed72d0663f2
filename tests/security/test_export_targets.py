"""Item 7: the export target. Its suffix must fit --format (added when missing, refused
when it is another), only regular files are replaced (never a link, device, FIFO or
folder), bad paths are one clear line, and `studio export --help` states the rules."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from studio.train.export import ExportError

from .kit import assert_one_error_line, cli, tiny_project, weights_for


@pytest.mark.parametrize("name, fmt, want", [
    ("model", "safetensors", "model.safetensors"), ("model", "onnx", "model.onnx"),
    ("model.python", "python", "model.py"), ("model.py", "python", "model.py"),
    ("model.pt", "torchscript", "model.pt"), ("model.torchscript", "torchscript", "model.torchscript"),
    ("model.pth", "pt", "model.pth"), ("v1.2.onnx", "onnx", "v1.2.onnx"),
    ("model.bin", "safetensors", None), ("model.onnx", "pt", None), ("model.v2", "pt2", None),
    ("model.safetensors", "python", None), (".onnx", "onnx", ".onnx.onnx"),
])
def test_suffix_rules(name, fmt, want):
    from studio.train.export import export_target
    if want is None:
        with pytest.raises(ExportError, match="does not fit --format"):
            export_target(name, fmt)
    else:
        assert export_target(name, fmt) == Path(want)


@pytest.fixture
def setup(tmp_path):
    project, path = tiny_project(tmp_path)
    return path, weights_for(project, tmp_path / "w.safetensors")


def _export(capsys, setup, out, fmt="safetensors"):
    path, weights = setup
    return cli(capsys, "export", path, "--weights", weights, "--format", fmt, "-o", out)


def test_a_mismatched_suffix_writes_nothing(setup, tmp_path, capsys):
    before = set(tmp_path.iterdir())
    code, out, err = _export(capsys, setup, tmp_path / "model.bin")
    assert code == 2 and out == [] and set(tmp_path.iterdir()) == before
    assert_one_error_line(err, "model.bin", "does not fit --format safetensors")


def test_a_missing_suffix_is_added(setup, tmp_path, capsys):
    code, out, _ = _export(capsys, setup, tmp_path / "model")
    assert code == 0 and (tmp_path / "model.safetensors").is_file() and not (tmp_path / "model").exists()


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder", "python side file is a link"])
def test_only_regular_files_are_replaced(setup, tmp_path, capsys, kind):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    fmt, out = "safetensors", tmp_path / "model.safetensors"
    if kind == "symlink":
        out.symlink_to(victim)
    elif kind == "fifo":
        os.mkfifo(out)
    elif kind == "folder":
        out.mkdir()
    else:
        fmt, out = "python", tmp_path / "net.py"
        (tmp_path / "net.safetensors").symlink_to(victim)
    code, _, err = _export(capsys, setup, out, fmt)
    assert code == 2
    assert_one_error_line(err, "only replaces regular files")
    assert victim.read_text() == "precious"
    assert out.is_symlink() or not out.is_file()  # still the link, FIFO or folder it was
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_device_is_refused():
    from studio.fileio import WriteError, check_target
    with pytest.raises(WriteError, match="device") as info:
        check_target(Path("/dev/null"))
    assert info.value.exit_code == 2


@pytest.mark.parametrize("bad", ["file.txt/model.safetensors", "missing/../file.txt/x.safetensors"])
def test_bad_output_paths_are_one_clear_line(setup, tmp_path, capsys, bad):
    (tmp_path / "file.txt").write_text("not a folder")
    code, _, err = _export(capsys, setup, tmp_path / bad)
    assert code == 2
    line = assert_one_error_line(err, "model.safetensors" if "model" in bad else "x.safetensors")
    assert ".tmp" not in line and "Errno" not in line


def test_help_states_the_rules(capsys):
    code, out, _ = cli(capsys, "export", "--help")
    text = " ".join(" ".join(out).split())
    assert code == 0
    for words in ("suffix", "refused", "Only regular files are replaced", "never a link", "verified"):
        assert words in text, words


@pytest.mark.parametrize("out", ["", "..", "/proc/x.safetensors"])
def test_unwritable_or_empty_outputs_name_the_target(setup, capsys, out):
    if out.startswith("/proc") and not os.path.isdir("/proc/self"):
        pytest.skip("no /proc here")
    code, _, err = _export(capsys, setup, out)
    assert code in (1, 2)
    line = assert_one_error_line(err)
    assert ".tmp" not in line and "export" not in line.split("error:", 1)[1] and "Errno" not in line, line
