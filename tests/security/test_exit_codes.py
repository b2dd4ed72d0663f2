"""Item 9: the exit-code contract. 0 ok, 1 a failed run, 2 bad usage or input; errors are
one line (summarized when long), never a traceback or a warning without --debug, never
torch's advice to unpickle (weights_only=False). Each case builds its hostile input."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from studio.cli import graph as cli_graph
from studio.project.file import load, save

from .kit import assert_one_error_line, cli, tiny_project, weights_for


@pytest.fixture
def project(tmp_path):
    return tiny_project(tmp_path)


def _export(capsys, path, weights, out, fmt="safetensors"):
    return cli(capsys, "export", path, "--weights", weights, "--format", fmt, "-o", out)


def test_empty_pt_weights(project, tmp_path, capsys):
    (tmp_path / "w.pt").write_bytes(b"")
    code, _, err = _export(capsys, project[1], tmp_path / "w.pt", tmp_path / "x")
    assert code == 2
    assert_one_error_line(err, "w.pt is empty")


def test_summary_of_an_empty_graph(tmp_path, capsys):
    path = tmp_path / "empty.studio.json"
    path.write_text(json.dumps({"format": "studio.project", "version": 1, "graph": {"nodes": [], "edges": []}}))
    code, out, err = cli(capsys, "summary", path)
    assert code == 1 and err == [] and any("Total params: 0" in line for line in out)


def test_torchscript_archive_as_weights(project, tmp_path, capsys):
    """One line, exit 2, and in a fresh process nothing else on stderr (torch.load warns on such files)."""
    p, path = project
    from studio.graph.compile import compile_graph
    archive = tmp_path / "ts.pt"
    torch.jit.save(torch.jit.script(compile_graph(p.model)), str(archive))
    code, _, err = _export(capsys, path, archive, tmp_path / "x")
    assert code == 2
    line = assert_one_error_line(err, "TorchScript")
    assert "weights_only" not in line
    proc = subprocess.run([sys.executable, "-m", "studio", "export", str(path), "--weights", str(archive),
                           "--format", "pt", "-o", str(tmp_path / "y")], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.returncode == 2 and "weights_only" not in proc.stderr
    assert_one_error_line(proc.stderr.splitlines(), "TorchScript")


def test_forty_thousand_tensors_give_a_summarized_line(project, tmp_path, capsys):
    save_file({f"t{i}": torch.zeros(1) for i in range(40_000)}, str(tmp_path / "many.safetensors"))
    code, _, err = _export(capsys, project[1], tmp_path / "many.safetensors", tmp_path / "x")
    assert code == 2
    assert_one_error_line(err, "do not fit", "more")


def test_a_pt_zip_of_an_unsupported_version_is_one_line(project, tmp_path, capsys):
    """Found by bench/fuzz_files.py: zipfile raises NotImplementedError for it."""
    import io
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buf)
    data = bytearray(buf.getvalue())
    central = data.find(b"PK\x01\x02")
    data[central + 6] = 255  # "version needed to extract" in the central directory
    (tmp_path / "w.pt").write_bytes(bytes(data))
    code, _, err = _export(capsys, project[1], tmp_path / "w.pt", tmp_path / "x")
    assert code == 2
    assert "a bug in Studio" not in assert_one_error_line(err, "w.pt")


def test_a_pickle_in_a_pt_file_never_suggests_unpickling(project, tmp_path, capsys):
    import pickle
    marker = tmp_path / "MARKER"
    payload = pickle.dumps({"w": os.system}, protocol=2)
    (tmp_path / "evil.pt").write_bytes(payload)
    zipped = tmp_path / "evil2.pt"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("archive/data.pkl", payload)
    for weights in (tmp_path / "evil.pt", zipped):
        code, _, err = _export(capsys, project[1], weights, tmp_path / "x")
        assert code == 2 and not marker.exists()
        assert "weights_only" not in assert_one_error_line(err)


@pytest.mark.parametrize("nproc", ["0", "-3"])
def test_nproc_below_one_is_refused(project, capsys, nproc):
    code, out, err = cli(capsys, "train", project[1], "--nproc", nproc)
    assert code == 2 and out == []
    assert_one_error_line(err, "--nproc must be at least 1")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_usage_error(project, tmp_path, capsys):
    code, out, err = cli(capsys, "train", project[1], "--device", "cuda", "--out", tmp_path / "run")
    assert code == 2 and out == [] and not (tmp_path / "run").exists()
    assert_one_error_line(err, "CUDA")


def test_a_trillion_parameters_are_refused_before_allocating(project, tmp_path, capsys):
    p, path = project
    linears = sorted(n for n in p.model.nodes() if p.model.type_of(n) == "Linear")
    for nid in linears[:2]:
        p.model.set_param(nid, "out_features", 1_000_000)
    path = save(p, tmp_path / "huge.studio.json")
    assert sum(cli_graph.summary_rows(load(path))[i][3] for i in range(len(p.model.nodes()))) >= 10**12
    code, out, err = cli(capsys, "train", path, "--out", tmp_path / "run")
    assert code == 2 and out == []
    assert_one_error_line(err, "parameters", "does not fit")
    # The trainer itself refuses too (the app and the distributed workers go through it).
    from studio.data.load import load_dataset
    from studio.train.trainer import Trainer
    trainer = Trainer(p, load_dataset(p.data))
    assert trainer.run().status == "failed" and trainer.error.kind == "cost"


def _tamper(run, change):
    path = run / "checkpoint.safetensors"
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    doc = json.loads(meta["studio.checkpoint"])
    meta["studio.checkpoint"] = change(doc)
    save_file(tensors, str(path), metadata=meta)


TAMPERINGS = {
    "no optimizer": lambda d: json.dumps({k: v for k, v in d.items() if k != "optimizer"}),
    "epoch is text": lambda d: json.dumps({**d, "epoch": "x"}),
    "history holds numbers": lambda d: json.dumps({**d, "history": [1, 2]}),
    "history holds unknown fields": lambda d: json.dumps({**d, "history": [{"bogus": 1}]}),
    "param groups empty": lambda d: json.dumps({**d, "optimizer": {"param_groups": [], "scalars": {}}}),
    "a list": lambda d: "[]", "nan": lambda d: "NaN", "not json": lambda d: "{",
    "deep": lambda d: "[" * 100_000,
}


def test_tampered_checkpoints_are_one_line(project, tmp_path, capsys):
    run = tmp_path / "run"
    assert cli(capsys, "train", project[1], "--out", run)[0] == 0
    original = (run / "checkpoint.safetensors").read_bytes()
    for name, change in TAMPERINGS.items():
        (run / "checkpoint.safetensors").write_bytes(original)
        _tamper(run, change)
        code, _, err = cli(capsys, "train", project[1], "--out", run, "--resume", "--epochs", "2")
        assert code == 2, name
        line = assert_one_error_line(err, "checkpoint")
        assert "KeyError" not in line and "unexpected" not in line, (name, line)


def test_a_bug_is_named_as_one_not_blamed_on_the_input(project, monkeypatch, capsys):
    def broken(args):
        return {}["missing"]
    monkeypatch.setattr(cli_graph, "cmd_validate", broken)
    from studio.cli import main as cli_main
    monkeypatch.setattr(cli_main, "build_parser", _parser_with(cli_main.build_parser, "validate", broken))
    code, _, err = cli(capsys, "validate", project[1])
    assert code == 1
    assert_one_error_line(err, "unexpected KeyError", "a bug in Studio")


def _parser_with(build, command, func):
    def patched():
        parser = build()
        sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
        sub.choices[command].set_defaults(func=func)
        return parser
    return patched


def test_warnings_never_reach_stderr_without_debug(project, tmp_path, monkeypatch, capsys):
    import warnings

    from studio.train import export as export_mod
    real = export_mod.export_model

    def noisy(*a, **k):
        warnings.warn("TorchScript is deprecated", DeprecationWarning)
        warnings.warn("overflow encountered in cast", RuntimeWarning)
        return real(*a, **k)
    monkeypatch.setattr(export_mod, "export_model", noisy)
    p, path = project
    weights = weights_for(p, tmp_path / "w.safetensors")
    def to_stderr(message, category, filename, lineno, file=None, line=None):  # as outside pytest
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))
    monkeypatch.setattr(warnings, "showwarning", to_stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        code, out, err = _export(capsys, path, weights, tmp_path / "x")
    assert code == 0 and err == [] and "verified" in out[0]


def test_nan_in_the_json_summary_is_valid_json():
    from studio.cli.run_common import json_line
    line = json_line({"train_loss": float("nan"), "val_loss": float("inf"), "status": "finished",
                      "nested": [float("-inf"), 1.0]})
    doc = json.loads(line, parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))
    assert doc == {"train_loss": None, "val_loss": None, "status": "finished", "nested": [None, 1.0]}
    from types import SimpleNamespace

    from studio.cli.run_common import summary
    result = SimpleNamespace(status="finished", epochs=1, train_loss=float("nan"), val_loss=1.0, val_metric=float("inf"),
                             metric_name="mae", best_epoch=1, seconds=1.0, images_per_second=2.0, paths={})
    doc = json.loads(json_line(summary(result, SimpleNamespace(error=None))))
    assert doc["train_loss"] is None and doc["val_mae"] is None and doc["non_finite"] == ["train_loss", "val_mae"]


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "folder"])
def test_a_project_that_is_not_a_regular_file_is_refused_without_reading(tmp_path, capsys, kind):
    """A FIFO would block a plain read forever and /dev/zero never ends (both report size 0)."""
    path = tmp_path / "p.studio.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to("/dev/zero")
    for command in ("validate", "summary", "train"):
        code, out, err = cli(capsys, command, path)
        assert code == 2 and out == []
        assert_one_error_line(err, "not a regular file")
