"""Exports behave like the app: fed [0,1] images (ToTensor's convention) each
format gives the app's top-1 on a trained offline sample, and carries its labels."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from studio.cli.main import main
from studio.data.load import load_dataset
from studio.project.file import save
from studio.settings import DataSettings
from studio.train.export import export_model
from studio.train.export_wrap import from_user_images
from studio.train.exported import open_onnx, open_pt2, open_torchscript
from studio.train.parity import check_parity, runner_for
from studio.train.run_files import read_meta
from studio.train.trainer import Trainer

from .helpers import cnn_project

GRAPH_FORMATS = ["onnx", "pt2", "torchscript", "python"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The shapes sample (4 classes, mean/std far from 0 and 1), trained briefly."""
    folder = tmp_path_factory.mktemp("run")
    data = load_dataset(DataSettings(dataset="shapes", samples=320))
    project = cnn_project(classes=4, epochs=2, lr=0.01)
    project.data = DataSettings(dataset="shapes", samples=320)
    trainer = Trainer(project, data, out_dir=folder)
    assert trainer.run().status == "finished"
    save(project, folder / "p.studio.json")
    return project, data, trainer, folder


def app_top1(trainer, data):
    """What the app predicts: the in-app model on the trainer's own normalized batches."""
    trainer.model.eval()
    with torch.no_grad():
        return torch.cat([trainer.model(x).argmax(1) for _, x, _ in trainer.val_batches.batches()])


def user_images(data):
    return data.x_val.float() / 255  # torchvision's ToTensor convention


@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
def test_export_fed_unit_images_gives_the_apps_top1(run, fmt, tmp_path):
    project, data, trainer, folder = run
    result = export_model(project, folder / "best.safetensors", fmt, tmp_path / f"m.{fmt}")
    assert result.verified, result.message
    got = torch.as_tensor(runner_for(fmt, result.path, project, result.info)(user_images(data))).argmax(1)
    want = app_top1(trainer, data)
    assert len(set(want.tolist())) > 1  # a model that learned something, not a constant
    assert torch.equal(got, want)


def test_without_the_wrapper_unit_images_give_other_answers(run, tmp_path):
    """The old behaviour (--raw-model) fed [0,1] images: what users complained about."""
    project, data, trainer, folder = run
    result = export_model(project, folder / "best.safetensors", "onnx", tmp_path / "raw.onnx", input_mode="raw")
    run_raw, info = open_onnx(result.path)
    assert info.input == "raw" and info.spec()["normalized_in_graph"] is False
    got = run_raw(user_images(data)).argmax(1)
    assert (got != app_top1(trainer, data)).float().mean() > 0.2
    # ...and fed what the metadata says (normalized), it matches the app.
    assert torch.equal(run_raw(from_user_images(data.x_val, info)).argmax(1), app_top1(trainer, data))


def test_uint8_input_takes_raw_pixels(run, tmp_path):
    project, data, trainer, folder = run
    result = export_model(project, folder / "best.safetensors", "onnx", tmp_path / "u8.onnx", input_mode="uint8")
    run_u8, info = open_onnx(result.path)
    assert info.spec()["dtype"] == "uint8" and info.spec()["range"] == [0, 255]
    assert torch.equal(run_u8(data.x_val).argmax(1), app_top1(trainer, data))


def test_parity_report_on_the_validation_set(run, tmp_path):
    project, data, trainer, folder = run
    result = export_model(project, folder / "best.safetensors", "pt2", tmp_path / "m.pt2")
    p = check_parity("pt2", result.path, project, trainer.model, data, result.info)
    assert p.ok and p.top1_agreement == 1.0 and p.examples == len(data.x_val)
    assert p.max_abs_diff < 1e-3 and p.app_accuracy == p.export_accuracy


def test_metadata_round_trips_in_every_format(run, tmp_path):
    project, data, trainer, folder = run
    meta = read_meta(folder / "best.safetensors")
    infos = {}
    for fmt in GRAPH_FORMATS + ["safetensors"]:
        export_model(project, folder / "best.safetensors", fmt, tmp_path / f"m.{fmt}")
    infos["onnx"] = open_onnx(tmp_path / "m.onnx")[1]
    infos["pt2"] = open_pt2(tmp_path / "m.pt2")[1]
    infos["torchscript"] = open_torchscript(tmp_path / "m.torchscript")[1]
    from safetensors import safe_open

    from studio.train.export_wrap import read_metadata
    with safe_open(str(tmp_path / "m.safetensors"), "pt") as f:
        infos["safetensors"] = read_metadata(f.metadata())
    for fmt, info in infos.items():
        assert info.classes == meta["classes"] == ["circle", "square", "triangle", "cross"], fmt
        assert info.mean == pytest.approx(meta["mean"]) and info.std == pytest.approx(meta["std"]), fmt
        assert info.shape == [3, 32, 32] and info.kind == "image" and info.version != "", fmt
        spec = info.spec()
        assert spec["layout"] == "NCHW" and spec["channels"] == "RGB", fmt
    assert infos["onnx"].spec()["range"] == [0.0, 1.0]
    assert infos["safetensors"].input == "raw"  # bare weights: normalized inputs
    source = (tmp_path / "m.py").read_text()
    assert "CLASSES = ['circle', 'square', 'triangle', 'cross']" in source
    assert f"MEAN = {tuple(meta['mean'])!r}" in source


def test_class_names_enter_generated_python_as_literals(tmp_path):
    """A class name crafted to break out of a string stays a string."""
    project = cnn_project(classes=2)
    evil = "x'] ; import os; os.system('false') #"
    meta = {"classes": [evil, 'b"""'], "mean": [0.5] * 3, "std": [0.2] * 3, "task": "classification"}
    from studio.graph.compile import compile_graph
    result = export_model(project, compile_graph(project.model), "python", tmp_path / "m.py", meta=meta)
    assert result.verified, result.message
    ns = {}
    exec(compile("\n".join(l for l in (tmp_path / "m.py").read_text().splitlines()
                           if l.startswith("CLASSES")), "m", "exec"), ns)
    assert ns["CLASSES"] == [evil, 'b"""']


def _images(data, folder, n=4):
    paths = []
    for i in range(n):
        p = folder / f"img{i}.png"
        Image.fromarray(data.x_val[i].permute(1, 2, 0).numpy()).save(p)
        paths.append(str(p))
    return paths


def test_predict_reads_everything_from_an_exported_onnx(run, tmp_path, capsys):
    project, data, trainer, folder = run
    export_model(project, folder / "best.safetensors", "onnx", tmp_path / "m.onnx")
    paths = _images(data, tmp_path)
    assert main(["predict", str(tmp_path / "m.onnx"), *paths]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    classes = ["circle", "square", "triangle", "cross"]
    want = [classes[i] for i in app_top1(trainer, data)[:4].tolist()]
    assert [line.split(": ")[1].split(" ")[0] for line in lines] == want
    # The same images through the project and its weights: the same answers.
    assert main(["predict", str(folder / "p.studio.json"), "--weights", str(folder / "best.safetensors"),
                 *paths]) == 0
    assert capsys.readouterr().out.strip().splitlines() == lines
    export_model(project, folder / "best.safetensors", "pt2", tmp_path / "m.pt2", input_mode="uint8")
    assert main(["predict", str(tmp_path / "m.pt2"), *paths]) == 0
    assert capsys.readouterr().out.strip().splitlines() == lines


def test_predict_onnx_script_needs_only_onnxruntime_numpy_pillow(run, tmp_path):
    project, data, trainer, folder = run
    result = export_model(project, folder / "best.safetensors", "onnx", tmp_path / "m.onnx")
    script = tmp_path / "predict_onnx.py"
    assert str(script) in result.extra_paths
    paths = _images(data, tmp_path, 2)
    # -I: isolated, so studio and torch are not importable through PYTHONPATH.
    r = subprocess.run([sys.executable, "-I", str(script), *paths], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.count("%") == 4 for line in lines)
    want = app_top1(trainer, data)[:2].tolist()
    classes = ["circle", "square", "triangle", "cross"]
    assert [line.split(": ")[1].split(" ")[0] for line in lines] == [classes[i] for i in want]
    imports = {line.split()[1].split(".")[0] for line in script.read_text().splitlines()
               if line.startswith(("import ", "from "))}
    assert imports == {"argparse", "json", "sys", "pathlib", "numpy", "onnxruntime", "PIL"}


def test_cli_export_stores_parity_in_the_run_folder(run, tmp_path, capsys):
    project, data, trainer, folder = run
    code = main(["export", str(folder / "p.studio.json"), "--weights", str(folder / "best.safetensors"),
                 "--format", "torchscript", "-o", str(tmp_path / "m.ts.pt")])
    out = capsys.readouterr().out
    assert code == 0 and "parity OK" in out and "top-1 agreement 100.00%" in out
    doc = json.loads((folder / "exports" / "parity.json").read_text())
    entry = doc["files"][str(tmp_path / "m.ts.pt")]
    assert entry["top1_agreement"] == 1.0 and entry["ok"] and entry["input"] == "float"


def test_bad_flag_combinations_are_usage_errors(run, tmp_path, capsys):
    project, data, trainer, folder = run
    base = ["export", str(folder / "p.studio.json"), "--weights", str(folder / "best.safetensors"), "-o",
            str(tmp_path / "m.x")]
    assert main(base + ["--format", "pt2", "--quantize", "int8"]) == 2
    assert main(base + ["--format", "onnx", "--raw-model", "--input", "uint8"]) == 2
    assert main(["predict", str(tmp_path / "missing.onnx"), "x.png"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("studio: error:") == 3


def test_pt2_with_pickled_objects_is_refused(tmp_path):
    import zipfile

    from studio.train.exported import ExportedFileError, open_exported
    with zipfile.ZipFile(tmp_path / "evil.pt2", "w") as z:
        z.writestr("evil/data/constants/custom_obj_0.pt", b"\x80\x02cos\nsystem\n.")
    with pytest.raises(ExportedFileError, match="pickled Python objects"):
        open_exported(tmp_path / "evil.pt2")


def test_user_images_helper_matches_totensor():
    x = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    from studio.train.export_wrap import ExportInfo
    got = from_user_images(x, ExportInfo("image", [3, 4, 4], "float"))
    want = torch.from_numpy(np.stack([np.asarray(Image.fromarray(i.permute(1, 2, 0).numpy()))
                                      for i in x])).permute(0, 3, 1, 2).float() / 255
    assert torch.equal(got, want)


def test_parity_never_downloads_data(run, tmp_path, capsys, monkeypatch):
    import studio.data.download as download
    project, data, trainer, folder = run
    calls = []
    monkeypatch.setattr(download, "download_and_extract_archive", lambda *a, **k: calls.append(a))
    moved = folder / "p.studio.json"
    text = moved.read_text().replace('"dataset": "shapes"', '"dataset": "cifar10"')
    (tmp_path / "cifar.studio.json").write_text(text)
    code = main(["export", str(tmp_path / "cifar.studio.json"), "--weights", str(folder / "best.safetensors"),
                 "--format", "onnx", "-o", str(tmp_path / "m.onnx"), "--data-dir", str(tmp_path / "empty")])
    err = capsys.readouterr().err
    assert code == 0 and calls == []
    assert "parity not checked" in err and "do not download" in err


def test_parity_on_a_regression_network(tmp_path):
    """Vector inputs go in as the loader gives them; no top-1, only the difference."""
    from studio.train.export_wrap import ExportInfo

    from .helpers import sine_data, sine_project
    data, project = sine_data(), sine_project(epochs=2)
    t = Trainer(project, data)
    t.run()
    result = export_model(project, t.model, "onnx", tmp_path / "sine.onnx", meta={"task": "regression"})
    assert result.info.kind == "vector" and result.info.spec()["dtype"] == "float32"
    assert result.info.input == "loader" and result.info.spec()["mode"] == "loader"
    assert not result.info.wrapped and result.extra_paths == ()  # no predict_onnx.py for non-images
    p = check_parity("onnx", result.path, project, t.model, data, result.info)
    assert p.ok and p.top1_agreement is None and p.examples == len(data.x_val) and p.max_abs_diff < 1e-4
    empty = type(data)(**{**vars(data), "x_val": data.x_val[:0], "y_val": data.y_val[:0]})
    assert "no validation examples" in check_parity("onnx", result.path, project, t.model, empty,
                                                    ExportInfo("vector", [1])).line()


def test_predict_distrusts_the_metadata_of_a_handed_over_file(run, tmp_path, capsys):
    import onnx
    project, data, trainer, folder = run
    export_model(project, folder / "best.safetensors", "onnx", tmp_path / "m.onnx")
    proto = onnx.load(str(tmp_path / "m.onnx"))
    props = {p.key: p.value for p in proto.metadata_props}
    spec = json.loads(props["studio.input"])
    spec["shape"] = ["batch", 3, 100000, 100000]
    props["studio.input"] = json.dumps(spec)
    onnx.helper.set_model_props(proto, props)
    onnx.save(proto, str(tmp_path / "huge.onnx"))
    props["studio.input"] = "{not json"
    onnx.helper.set_model_props(proto, props)
    onnx.save(proto, str(tmp_path / "damaged.onnx"))
    img = _images(data, tmp_path, 1)
    assert main(["predict", str(tmp_path / "huge.onnx"), *img]) == 2
    assert main(["predict", str(tmp_path / "damaged.onnx"), *img]) == 2
    err = capsys.readouterr().err
    assert "at most 4096×4096" in err and "metadata is damaged" in err and "Traceback" not in err


def test_an_autoencoder_export_gets_no_class_script_and_predict_says_why(tmp_path, capsys):
    from studio.graph.builder import sequential
    from studio.project.model import Project
    m, _ = sequential([("Conv2d", {"out_channels": 3, "kernel_size": 3, "padding": 1}), "Sigmoid"],
                      output_params={"task": "reconstruction", "loss": "mse"})
    project = Project(model=m, name="ae")
    from studio.graph.compile import compile_graph
    meta = {"classes": [], "mean": [0.5] * 3, "std": [0.25] * 3, "task": "classification"}
    result = export_model(project, compile_graph(m), "onnx", tmp_path / "ae.onnx", meta=meta)
    assert result.verified and result.extra_paths == () and not (tmp_path / "predict_onnx.py").exists()
    img = tmp_path / "x.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(img)
    assert main(["predict", str(tmp_path / "ae.onnx"), str(img)]) == 2
    assert "not class scores" in capsys.readouterr().err
